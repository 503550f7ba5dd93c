// Where torch's exceptions stop: runs `body` and turns a c10::Error (or any std::exception) it
// throws into INTERNAL, so library code above returns absl::Status (DESIGN.md: exceptions only from
// torch, caught at boundaries). Thread-safety: a function.
#pragma once

#include <exception>
#include <functional>

#include <c10/util/Exception.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace forge::rl {

inline absl::Status torch_boundary(const std::function<absl::Status()>& body) {
  try {
    return body();
  } catch (const c10::Error& e) {
    return absl::InternalError(absl::StrCat("torch: ", e.what_without_backtrace()));
  } catch (const std::exception& e) {
    return absl::InternalError(e.what());
  }
}

}  // namespace forge::rl
