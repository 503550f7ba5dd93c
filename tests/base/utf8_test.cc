// base/utf8: well-formed text passes unchanged; each maximal ill-formed subpart becomes one U+FFFD
// (Unicode 15, section 3.9 "U+FFFD Substitution of Maximal Subparts", Table 3-8's example).
#include "base/utf8.h"

#include <string>

#include <gtest/gtest.h>

namespace forge {
namespace {

const std::string r = "\xEF\xBF\xBD";  // U+FFFD

TEST(Utf8, WellFormedTextIsUnchanged) {
  for (const std::string s : {std::string(""), std::string("plain ascii"),
                              std::string("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
                              std::string("\xF4\x8F\xBF\xBF"), std::string("a\0b", 3)}) {
    EXPECT_TRUE(is_valid_utf8(s));
    EXPECT_EQ(to_valid_utf8(s), s);
  }
}

TEST(Utf8, EachMaximalSubpartIsOneReplacement) {
  EXPECT_EQ(to_valid_utf8("a\xFF"
                       "b"),
            "a" + r + "b");
  EXPECT_EQ(to_valid_utf8("\xC3"), r);  // truncated 2-byte sequence
  EXPECT_EQ(to_valid_utf8("\xE2\x82"
                       "x"),
            r + "x");                                // truncated 3-byte sequence: one
  EXPECT_EQ(to_valid_utf8("\xF0\x9F\x98"), r);          // truncated 4-byte sequence: one
  EXPECT_EQ(to_valid_utf8("\xED\xA0\x80"), r + r + r);  // surrogate: no valid prefix, each byte
  EXPECT_EQ(to_valid_utf8("\xC0\xAF"), r + r);          // overlong
  EXPECT_EQ(to_valid_utf8("\xE0\x80\xAF"), r + r + r);  // overlong 3-byte
  EXPECT_EQ(to_valid_utf8("\xF4\x90\x80\x80"), r + r + r + r);  // above U+10FFFF
  EXPECT_EQ(to_valid_utf8("\x80\x81 ok \xF5"), r + r + " ok " + r);
  // Table 3-8: 61 F1 80 80 E1 80 C2 62 80 63 80 BF 64 -> a FFFD FFFD FFFD b FFFD c FFFD FFFD d.
  EXPECT_EQ(to_valid_utf8("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64"),
            "a" + r + r + r + "b" + r + "c" + r + r + "d");
  for (const std::string s : {std::string("\xC3"), std::string("\xED\xA0\x80")}) {
    EXPECT_FALSE(is_valid_utf8(s));
    EXPECT_TRUE(is_valid_utf8(to_valid_utf8(s)));
  }
}

}  // namespace
}  // namespace forge
