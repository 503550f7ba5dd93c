#include "rl/grpo/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace forge::rl {

const EnumNames<LrSchedule::Kind>& LrSchedule::kind_names() {
  static const EnumNames<Kind> names = {{"constant", Kind::kConstant}, {"cosine", Kind::kCosine}};
  return names;
}

double LrSchedule::at(int64_t step) const {
  if (warmup_steps > 0 && step <= warmup_steps) {
    return lr * static_cast<double>(step) / static_cast<double>(warmup_steps);
  }
  if (kind == Kind::kConstant) return lr;
  const int64_t decay_steps = std::max<int64_t>(1, total_steps - warmup_steps);
  const double progress =
      std::clamp(static_cast<double>(step - warmup_steps) / decay_steps, 0.0, 1.0);
  const double cosine = 0.5 * (1.0 + std::cos(M_PI * progress));
  return lr * (min_lr_ratio + (1.0 - min_lr_ratio) * cosine);
}

}  // namespace forge::rl
