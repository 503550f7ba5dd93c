// SplitMix64 (Steele, Lea & Flood 2014): the one definition of its output function, shared by the
// data generator's Rng (rl/data/rng.h), the per-sample seeds of the rollout engine
// (rollout/request.h) and the trainer's per-step seeds, so every seed Forge derives is specified by
// this file and reproduces on every platform.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>

namespace forge {

inline constexpr uint64_t kSplitMix64Gamma = 0x9e3779b97f4a7c15ULL;

// The output of SplitMix64 for a generator whose state has just become `state` (the state already
// advanced by kSplitMix64Gamma).
inline uint64_t splitmix64_output(uint64_t state) {
  state = (state ^ (state >> 30)) * 0xbf58476d1ce4e5b9ULL;
  state = (state ^ (state >> 27)) * 0x94d049bb133111ebULL;
  return state ^ (state >> 31);
}

// One SplitMix64 step from state `x`: the usual way to hash a 64-bit value into a seed.
inline uint64_t splitmix64(uint64_t x) { return splitmix64_output(x + kSplitMix64Gamma); }

// The n-th output (n >= 1) of a SplitMix64 generator seeded with `seed`, read at random access:
// independent seeds for (run seed, step) pairs.
inline uint64_t splitmix64_nth(uint64_t seed, uint64_t n) {
  return splitmix64_output(seed + kSplitMix64Gamma * n);
}

}  // namespace forge
