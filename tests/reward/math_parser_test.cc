// The normaliser and the expression parser: what each answer spelling reads as, and which inputs
// are refused (without crashing or running away).
#include <string>

#include <gtest/gtest.h>

#include "reward/math/expression_parser.h"
#include "reward/math/latex_normalizer.h"

namespace forge::reward::math {
namespace {

// The parse of an answer, as debug_string, or "error: <code>".
std::string read(const std::string& answer) {
  WorkBudget budget(std::chrono::steady_clock::time_point::max());
  auto e = parse_answer(normalize_answer(answer), &budget);
  if (!e.ok()) return "error: " + std::string(absl::StatusCodeToString(e.status().code()));
  return debug_string(*e);
}

TEST(MathNormalizer, StripsLatexNoiseUnitsAndDelimiters) {
  EXPECT_EQ(normalize_answer("$\\left( \\frac{1}{3} \\right)$"), "( \\frac{1}{3} )");
  EXPECT_EQ(normalize_answer("\\dfrac{1}{2}"), "\\frac{1}{2}");
  EXPECT_EQ(normalize_answer("\\tfrac83"), "\\frac83");
  EXPECT_EQ(normalize_answer("90^\\circ"), "90");
  EXPECT_EQ(normalize_answer("50^{\\circ}"), "50");
  EXPECT_EQ(normalize_answer("10\\%"), "10%");
  EXPECT_EQ(normalize_answer("\\$1,\\!000"), "1000");
  EXPECT_EQ(normalize_answer("14{,}916"), "14916");
  EXPECT_EQ(normalize_answer("10\\text{ cm}^2"), "10");
  EXPECT_EQ(normalize_answer("125\\textnormal{ miles}."), "125");
  EXPECT_EQ(normalize_answer("\\text{Evelyn}"), "Evelyn");
  EXPECT_EQ(normalize_answer("6 \\text{ and } 8"), "6 , 8");
  EXPECT_EQ(normalize_answer("x \\geq 5"), "x \\ge 5");
  EXPECT_EQ(normalize_answer("x >= 5"), "x \\ge 5");
  EXPECT_EQ(normalize_answer("\\\\frac{1}{2}"), "\\frac{1}{2}");
  EXPECT_EQ(normalize_answer("\\boxed{42}."), "42");
  EXPECT_EQ(normalize_answer("35 square feet"), "35");
  EXPECT_EQ(normalize_answer("1, 2, 3, \\ldots"), "1, 2, 3, ...");
  EXPECT_EQ(canonical_string("x + 1 = 4 4/9"), "x+1=4 4/9");
}

TEST(MathParser, NumbersInTheirCommonSpellings) {
  EXPECT_EQ(read("7,425,000"), "7425000");
  EXPECT_EQ(read("1 000"), "1000");
  EXPECT_EQ(read("-2,1"), "(list (neg 2) 1)");
  EXPECT_EQ(read(".5"), "1/2");
  EXPECT_EQ(read("2.5e3"), "2500");
  EXPECT_EQ(read("204_5"), "54");
  EXPECT_EQ(read("0.\\overline{3}"), "1/3");
  EXPECT_EQ(read("0.1\\overline{6}"), "1/6");
  EXPECT_EQ(read("1.\\overline{142857}"), "8/7");
  EXPECT_EQ(read("4 4/9"), "(add 4 (div 4 9))");
  EXPECT_EQ(read("918\\frac{1}{2}"), "(add 918 (div 1 2))");
  EXPECT_EQ(read("2\\frac{\\pi}{3}"), "(mul 2 (div pi 3))");  // not a mixed number
  EXPECT_EQ(read("28%"), "(percent 28)");
  EXPECT_EQ(read("4 4/9 percent"), "(percent (add 4 (div 4 9)))");
}

TEST(MathParser, ExpressionsAndImplicitMultiplication) {
  EXPECT_EQ(read("x^2+2x+1"), "(add (pow x 2) (mul 2 x) 1)");
  EXPECT_EQ(read("\\frac12"), "(div 1 2)");
  EXPECT_EQ(read("\\frac1{72}"), "(div 1 72)");
  EXPECT_EQ(read("10\\sqrt3"), "(mul 10 (func:sqrt 3))");
  EXPECT_EQ(read("\\sqrt[3]{x}"), "(func:root 3 x)");
  EXPECT_EQ(read("-x^2"), "(neg (pow x 2))");
  EXPECT_EQ(read("2^{10}"), "(pow 2 10)");
  EXPECT_EQ(read("(x-2)(x+2)"), "(mul (add x (neg 2)) (add x 2))");
  EXPECT_EQ(read("\\sin^2 x + \\cos^2 x"), "(add (pow (func:sin x) 2) (pow (func:cos x) 2))");
  EXPECT_EQ(read("f(x)"), "(apply:f x)");
  EXPECT_EQ(read("a_{37}"), "a_37");
  EXPECT_EQ(read("|x-1|"), "(func:abs (add x (neg 1)))");
  EXPECT_EQ(read("3 \\pm 2\\sqrt{2}"), "(add 3 (pm (mul 2 (func:sqrt 2))))");
}

TEST(MathParser, StructuresAndRelations) {
  EXPECT_EQ(read("(1, 2)"), "(tuple 1 2)");
  EXPECT_EQ(read("[0,1)"), "(interval[) 0 1)");
  EXPECT_EQ(read("(-\\infty, 3]"), "(interval(] (neg inf) 3)");
  EXPECT_EQ(read("\\{1, 2\\}"), "(set 1 2)");
  EXPECT_EQ(read("[-1,0) \\cup (0,1)"), "(union (interval[) (neg 1) 0) (tuple 0 1))");
  EXPECT_EQ(read("\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}"), "(matrix:2x2 1 2 3 4)");
  EXPECT_EQ(read("\\left[\\begin{array}{cc}1 & 2\\end{array}\\right]"), "(matrix:1x2 1 2)");
  EXPECT_EQ(read("x = 5"), "(rel:= x 5)");
  EXPECT_EQ(read("-2 \\le x < 7"), "(rel:l< (neg 2) x 7)");
  EXPECT_EQ(read("x \\in [2, 3]"), "(rel:i x (interval[] 2 3))");
  EXPECT_EQ(read("p=5,q=2;p=7,q=2"),
            "(list (tuple (rel:= p 5) (rel:= q 2)) (tuple (rel:= p 7) (rel:= q 2)))");
  EXPECT_EQ(read("6 and 8"), "(list 6 8)");
  EXPECT_EQ(read("7:32"), "(ratio 7 32)");
}

TEST(MathParser, RefusesMalformedInputWithTheRightCode) {
  // A malformed mixed number is a wrong answer, not a reason to read the text differently.
  EXPECT_EQ(read("4 4/0"), "error: OUT_OF_RANGE");
  EXPECT_EQ(read("11 6/6"), "error: OUT_OF_RANGE");
  EXPECT_EQ(read("\\frac{1}{"), "error: INVALID_ARGUMENT");
  EXPECT_EQ(read("1 2"), "error: INVALID_ARGUMENT");
  EXPECT_EQ(read("correct"), "error: INVALID_ARGUMENT");
  EXPECT_EQ(read("\\begin{align} x \\end{align}"), "error: INVALID_ARGUMENT");
  // Nesting past kMaxNestingDepth brackets, or operators past kMaxParseDepth: refused for size.
  EXPECT_EQ(read(std::string(5000, '(') + "1" + std::string(5000, ')')),
            "error: RESOURCE_EXHAUSTED");
  EXPECT_EQ(read(std::string(kMaxParseDepth, '-') + "1"), "error: RESOURCE_EXHAUSTED");
  EXPECT_EQ(read(std::string(kMaxNestingDepth, '(') + "1" + std::string(kMaxNestingDepth, ')')),
            "1");
  EXPECT_EQ(read(std::string(3000, '1')), "error: INVALID_ARGUMENT");  // past BigInt::kMaxBits
}

}  // namespace
}  // namespace forge::reward::math
