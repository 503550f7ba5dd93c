// Wall-clock seconds since a steady-clock time point: the one way stages time themselves for
// metrics (time/rollout, time/train, ...). Thread-safety: a function.
#pragma once

#include <chrono>

namespace forge {

using SteadyClock = std::chrono::steady_clock;

inline double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

}  // namespace forge
