// Learning-rate schedules by step: linear warmup from 0, then constant or cosine decay to
// min_lr_ratio * lr at total_steps (verl's / TRL's "cosine with warmup").
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "base/enum_names.h"

namespace forge::rl {

struct LrSchedule {
  enum class Kind { kConstant, kCosine };
  Kind kind = Kind::kConstant;
  double lr = 1e-5;
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;
  double min_lr_ratio = 0.0;

  // "constant", "cosine": the config's values.
  static const EnumNames<Kind>& kind_names();

  // The learning rate for optimizer step `step` (counting from 1).
  double at(int64_t step) const;
};

}  // namespace forge::rl
