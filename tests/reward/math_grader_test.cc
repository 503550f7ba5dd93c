// The public math grading API: extraction from completions, equivalence of answers written
// differently, wrong answers that must stay wrong, and bounded work under hostile input.
#include <pthread.h>

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "reward/math/math_grader.h"

namespace forge::reward::math {
namespace {

bool same(const std::string& pred, const std::string& gold) {
  auto v = grade_prediction(pred, gold, MathOptions());
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() && v->correct;
}

bool right(const std::string& completion, const std::string& gold,
           std::string* extracted = nullptr) {
  auto v = grade_completion(completion, gold, MathOptions());
  EXPECT_TRUE(v.ok()) << v.status();
  if (extracted != nullptr && v.ok()) *extracted = v->extracted;
  return v.ok() && v->correct;
}

TEST(MathGrader, EquivalentSpellingsOfTheSameAnswer) {
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"0.5", "\\frac{1}{2}"},
      {"\\dfrac{1}{3}", "\\frac13"},
      {"1/2", "\\frac {1}{2}"},
      {"918.5", "918\\frac{1}{2}"},
      {"7,425,000", "7425000"},
      {"\\$10", "10"},
      {"10\\%", "0.1"},
      {"28\\%", "28"},  // a gold percentage accepts its number
      {"10", "10\\%"},  // ... and a gold plain number its percentage (MATH style)
      {"90^\\circ", "90"},
      {"x = 5", "5"},
      {"5", "k=1+4"},
      {"y = x^2+2x+1", "2x+1+x^2"},
      {"7", "7 = x"},
      {"\\frac{10}{9}", "\\frac12 = \\frac{10}{9}"},
      {"(r+5)(r+5)", "(r+5)^2"},
      {"\\frac{x}{7}+\\frac{2}{7}", "\\frac{x+2}{7}"},
      {"\\sec^2(y)", "\\tan^2(y)+1"},
      {"10\\sqrt3 + \\sqrt4", "10\\sqrt{3}+2"},
      {"2\\sqrt{2}", "\\sqrt{8}"},
      {"\\sqrt[3]{27}", "3"},
      {"1.5 \\times 10^{3}", "1500"},
      {"2.5e-3", "0.0025"},
      {"\\pi", "3.141593"},  // equal at 6 decimal places (float_rounding)
      {"\\sqrt{2}", "1.41421356"},
      {"\\frac{1}{12}", "0.0833333333333333"},
      {"\\frac{1}{3}", "0.333333"},
      {"16386.17", "16386.169"},  // a gold written as a rounded decimal accepts what rounds to it
      {"33.3\\%", "\\frac{1}{3}"},
      {"6 \\text{ and } 8", "8, 6"},
      {"\\{1, 2, 3\\}", "3, 2, 1"},
      {"(1, 2)", "(1,2)"},
      {"[0, 1)", "[0,1)"},
      {"\\pm 2021", "\\{-2021, 2021\\}"},
      {"1 \\pm \\sqrt{19}", "1-\\sqrt{19}, 1+\\sqrt{19}"},
      {"x < 1", "-x > -1"},
      {"x \\geq 5", "5 \\le x"},
      {"2x+4y-3=0", "y = -\\frac{1}{2}x + \\frac{3}{4}"},
      {"-793 < a < 10", "(-793, 10)"},
      {"x \\in [-2, 7]", "[-2,7]"},
      {"\\begin{pmatrix} 1 & 2 \\\\ 3 & 4 \\end{pmatrix}",
       "\\begin{bmatrix}1&2\\\\3&4\\end{bmatrix}"},
      {"\\text{Evelyn}", "Evelyn"},
      {"\\text{(C)}", "C"},
      {"204_5", "54"},
      {"4 4/9", "\\frac{40}{9}"},
      {"f(1)+f(2)", "f(2)+f(1)"},
      {"5!", "120"},
      {"\\binom{5}{2}", "10"},
      {"|{-3}|", "3"},
  };
  for (const auto& [gold, pred] : pairs) {
    EXPECT_TRUE(same(pred, gold)) << "pred [" << pred << "] gold [" << gold << "]";
  }
}

TEST(MathGrader, WrongAnswersStayWrong) {
  const std::vector<std::pair<std::string, std::string>> pairs = {
      {"5", "5.001"},
      {"\\frac{1}{3}", "0.3334"},  // not rounded right
      {"\\pi", "3.14"},            // rounded approximations of exact answers are wrong
      {"\\pi", "3.1416"},
      {"\\pi", "3.14159"},
      {"\\sqrt{2}", "1.4142"},
      {"\\frac{1}{3}", "0.333"},
      {"\\frac{1}{3}", "0.3333"},
      {"\\pi", "\\frac{355}{113}"},  // and so are close rationals
      {"\\frac{1}{3}", "0.3"},
      {"x^2+2x+1", "x^3+2x+1"},
      {"odd", "\\text{oddd}"},
      {"E", "\\mathrm{E}*2"},
      {"\\pm 2021", "2021"},
      {"(1, 2)", "(2, 1)"},
      {"[0, 1)", "(0, 1)"},
      {"x > 5", "x < 5"},
      {"7 = 11a+c", "11a+c"},
      {"a+3z=0", "0"},
      {"\\sqrt{67},-\\sqrt{85}", "\\sqrt{67}"},
      {"4", "4\\sqrt{2}"},
      {"f(x)", "f(y)"},
      {"1, 2, 3", "1, 2, 3, ..."},
      {"0", ""},
      {"", ""},
      {"42", "   "},
      {"\\frac{1}{2}", "\\frac{1}{0}"},
      {"40/9", "4 4/9%"},
      {"11", "11 6/6"},
      {"2^{1000}", "2^{1000}+1"},
  };
  for (const auto& [gold, pred] : pairs) {
    EXPECT_FALSE(same(pred, gold)) << "pred [" << pred << "] gold [" << gold << "]";
  }
}

TEST(MathGrader, ExtractsTheFinalAnswerFromCompletions) {
  std::string got;
  EXPECT_TRUE(right("so we get $x = 3$ and finally \\boxed{\\frac{1}{2}}.", "0.5", &got));
  EXPECT_EQ(got, "\\frac{1}{2}");
  EXPECT_TRUE(right("\\boxed{\\dfrac{\\sqrt{3}}{2}} and more text", "\\frac{\\sqrt3}{2}"));
  EXPECT_TRUE(right("nested \\boxed{\\frac{1}{\\sqrt{\\frac{4}{9}}}}", "\\frac{3}{2}"));
  EXPECT_TRUE(right("\\fbox{7}", "7"));
  EXPECT_TRUE(right("<think>maybe 5</think><answer>12</answer>", "12"));
  EXPECT_TRUE(right("She has 3 + 4 = 7 apples.\n#### 7", "7"));
  EXPECT_TRUE(right("The answer is $\\frac{1}{3}$.", "1/3"));
  EXPECT_TRUE(right("Final Answer: The final answer is $12$. I hope it is correct.", "12"));
  EXPECT_TRUE(right("Thus there are $\\boxed{2}$ values.", "2"));
  EXPECT_TRUE(right("The roots are \\boxed{1} and \\boxed{-2}.", "-2, 1"));
  EXPECT_TRUE(right("It costs $1,000.99 in total", "1000.99"));
  EXPECT_TRUE(right("The answer is 4 4/9.", "40/9"));
  EXPECT_TRUE(right("The answer is C.", "C"));
  // A boxed text answer wins over numbers elsewhere; a percent sign after the box is kept.
  EXPECT_TRUE(right("past north by 90 degrees, facing $\\boxed{\\text{east}}$.", "\\text{east}"));
  EXPECT_TRUE(right("the area decreased by $\\boxed{10}$ percent.", "10"));
  EXPECT_TRUE(right("so the rate is $\\boxed{20}\\%$.", "0.2"));
  // Reasoning does not count: only what follows </think>.
  EXPECT_FALSE(right("<think>the answer is \\boxed{42}</think> I am not sure.", "42"));
  EXPECT_FALSE(right("<think>\\boxed{42}</think> so \\boxed{43}", "42"));
  EXPECT_FALSE(right("<think>unfinished \\boxed{42}", "42"));
  // The last box counts, not an earlier one.
  EXPECT_FALSE(right("first \\boxed{42}, then on reflection \\boxed{41}", "42"));
  // Numbers glued to letters are not answers; no answer at all is wrong, not an error.
  EXPECT_FALSE(right("AZYUK2A", "2"));
  EXPECT_FALSE(right("I don't know.", "2"));
  EXPECT_FALSE(right("The answer is 11 6/6.", "12"));
}

// Runs fn on a thread with a 1 MiB stack (an eighth of the usual 8 MiB): deep answers must fit.
void on_small_stack(const std::function<void()>& fn) {
  pthread_attr_t attr;
  ASSERT_EQ(pthread_attr_init(&attr), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&attr, 1 << 20), 0);
  pthread_t thread;
  auto run = [](void* arg) -> void* {
    (*static_cast<const std::function<void()>*>(arg))();
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, &attr, run, const_cast<std::function<void()>*>(&fn)), 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
}

std::string nested(int levels, const std::string& open, const std::string& close) {
  std::string s;
  for (int i = 0; i < levels; ++i) s += open;
  s += "1";
  for (int i = 0; i < levels; ++i) s += close;
  return s;
}

TEST(MathGrader, DeepButValidNestingParsesAndDeeperSaysWhy) {
  struct Shape {
    std::string open, close;
  };
  const std::vector<Shape> shapes = {{"(", ")"},
                                     {"{", "}"},
                                     {"[", "]"},
                                     {"-(", ")"},
                                     {"\\frac{1}{", "}"},
                                     {"\\sqrt{", "}"},
                                     {"\\left(", "\\right)"},
                                     {"1^{", "}"}};
  on_small_stack([&] {
    for (const Shape& s : shapes) {
      for (int levels : {29, 200, 256}) {
        const std::string text = "\\boxed{" + nested(levels, s.open, s.close) + "}";
        const std::string gold = s.open == "-(" && levels % 2 == 1 ? "-1" : "1";
        EXPECT_TRUE(right(text, gold)) << levels << " levels of " << s.open;
      }
      for (int levels : {257, 5000}) {
        auto v = grade_completion("\\boxed{" + nested(levels, s.open, s.close) + "}", "1",
                                  MathOptions());
        ASSERT_TRUE(v.ok()) << v.status();
        EXPECT_FALSE(v->correct) << levels << " levels of " << s.open;
        EXPECT_NE(v->detail.find("prediction not graded: "), std::string::npos) << v->detail;
      }
    }
    // Operators without brackets nest too: a chain of 5000 unary minuses is refused, not a crash.
    auto v = grade_prediction(std::string(5000, '-') + "1", "1", MathOptions());
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_FALSE(v->correct);
    EXPECT_NE(v->detail.find("nested deeper than"), std::string::npos) << v->detail;
  });
  auto deep = grade_completion("\\boxed{" + nested(300, "(", ")") + "}", "1", MathOptions());
  ASSERT_TRUE(deep.ok());
  EXPECT_NE(deep->detail.find("nested deeper than 256 levels of brackets"), std::string::npos)
      << deep->detail;
}

TEST(MathGrader, HugeInputsGetAVerdictWithinTheDeadline) {
  MathOptions options;
  options.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  const std::string digits(10000, '9');
  const std::vector<std::pair<std::string, std::string>> hostile = {
      {"2^{10^{9}}", "2^{10^{9}}+1"},
      {"7^{7^{7^{7}}}", "7"},
      {digits, digits + "8"},
      {"\\frac{" + digits + "}{3}", "1"},
      {std::string(20000, '(') + "1" + std::string(20000, ')'), "1"},
      {std::string(20000, '{') + "1" + std::string(20000, '}'), "1"},
      {"\\sqrt{" + std::string(5000, '2') + "}", "x"},
      {std::string(3000, 'x') + "^2", "x"},
      {"(" + std::string(40, '1') + ")!", "1"},
  };
  for (const auto& [pred, gold] : hostile) {
    auto v = grade_prediction(pred, gold, options);
    ASSERT_TRUE(v.ok()) << v.status() << " for " << pred.substr(0, 40);
    EXPECT_FALSE(v->correct) << pred.substr(0, 40);
    auto c = grade_completion("\\boxed{" + pred + "}", gold, options);
    ASSERT_TRUE(c.ok()) << c.status() << " for " << pred.substr(0, 40);
    EXPECT_FALSE(c->correct) << pred.substr(0, 40);
  }
  // The same huge number on both sides is still right (exact string).
  auto same_digits = grade_prediction(digits, digits, options);
  ASSERT_TRUE(same_digits.ok());
  EXPECT_TRUE(same_digits->correct);
  // Megabyte completions built to make a careless scanner quadratic.
  for (const std::string& unit :
       {std::string("\\("), std::string("\\["), std::string("$$"), std::string("</"),
        std::string("{,}"), std::string("1)"), std::string("(1"), std::string("\\boxed{"),
        std::string("$ "), std::string("A "), std::string("answer "), std::string("\\text{a} "),
        std::string("9,"), std::string("<think>")}) {
    std::string big;
    while (big.size() < (1u << 20)) big += unit;
    auto v = grade_completion(big, "5", options);
    ASSERT_TRUE(v.ok()) << v.status() << " for a megabyte of " << unit;
    EXPECT_FALSE(v->correct) << unit;
    auto p = grade_prediction(big, "5", options);
    ASSERT_TRUE(p.ok()) << p.status() << " for a megabyte of " << unit;
  }
  // A long completion full of numbers and dollars.
  std::string flood;
  for (int i = 0; i < 20000; ++i) flood += "$" + std::to_string(i) + " and (" + std::to_string(i);
  auto f = grade_completion(flood + " \\boxed{5}", "5", options);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_TRUE(f->correct);
}

TEST(MathGrader, PastDeadlineIsDeadlineExceeded) {
  MathOptions options;
  options.deadline = std::chrono::steady_clock::now() - std::chrono::milliseconds(1);
  auto v = grade_completion("\\boxed{1}", "1", options);
  EXPECT_EQ(v.status().code(), absl::StatusCode::kDeadlineExceeded);
  auto p = grade_prediction("1", "1", options);
  EXPECT_EQ(p.status().code(), absl::StatusCode::kDeadlineExceeded);
}

}  // namespace
}  // namespace forge::reward::math
