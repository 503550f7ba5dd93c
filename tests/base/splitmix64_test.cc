// SplitMix64: the published reference outputs, and the random-access form equal to stepping.
#include "base/splitmix64.h"

#include <gtest/gtest.h>

namespace forge {
namespace {

TEST(SplitMix64, MatchesTheReferenceGeneratorSeededWithZero) {
  // The first outputs of Vigna's splitmix64.c with x = 0.
  uint64_t state = 0;
  EXPECT_EQ(splitmix64_output(state += kSplitMix64Gamma), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(splitmix64_output(state += kSplitMix64Gamma), 0x6e789e6aa1b965f4ULL);
  EXPECT_EQ(splitmix64_output(state += kSplitMix64Gamma), 0x06c45d188009454fULL);
  EXPECT_EQ(splitmix64(0), 0xe220a8397b1dcdafULL);
}

TEST(SplitMix64, NthOutputEqualsSteppingTheGenerator) {
  for (uint64_t seed : {uint64_t{0}, uint64_t{1}, uint64_t{0xdeadbeef}, ~uint64_t{0}}) {
    uint64_t state = seed;
    for (uint64_t n = 1; n <= 50; ++n) {
      EXPECT_EQ(splitmix64_nth(seed, n), splitmix64_output(state += kSplitMix64Gamma))
          << "seed " << seed << " n " << n;
    }
  }
}

}  // namespace
}  // namespace forge
