// Rng: a small, portable, seeded random number generator (SplitMix64) for data order, task
// generation and the teacher. Unlike std::shuffle or std::uniform_int_distribution, whose
// algorithms the C++ standard leaves to the library, every draw here is specified by this file, so
// a seed gives the same dataset and the same prompt order on every platform and compiler.
//
// Thread-safety: a value type; one object must not be used from two threads at once.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "base/splitmix64.h"

namespace forge::rl {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}

  // Derives the seed of an independent stream from a base seed and a stream id (e.g. an epoch).
  static uint64_t mix(uint64_t seed, uint64_t stream) {
    Rng r(seed ^ (stream * 0xD1B54A32D192ED03ULL + 0x8CB92BA72F3D8DD7ULL));
    r.next();
    return r.next();
  }

  uint64_t next() { return splitmix64_output(state_ += kSplitMix64Gamma); }

  // Uniform in [0, n), unbiased (rejection of the short top range). n must be > 0.
  uint64_t below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x = next();
    while (x >= limit) x = next();
    return x % n;
  }

  // Uniform in [lo, hi] (inclusive). Requires lo <= hi.
  int64_t range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(below(static_cast<uint64_t>(hi - lo) + 1));
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // True with probability p (p <= 0: never, p >= 1: always).
  bool bernoulli(double p) { return uniform() < p; }

  // Fisher-Yates shuffle.
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) {
      std::swap(v[i - 1], v[below(i)]);
    }
  }

 private:
  uint64_t state_;
};

}  // namespace forge::rl
