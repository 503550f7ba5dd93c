// Synthetic tasks, their checkers and the imperfect teacher: generation is seeded and respects its
// difficulty options, held-out sets are disjoint from training sets, every gold answer passes its
// checker, and the teacher's accuracy, habit, slips and format breaks are what its options say.
// Also `forge data gen` end to end (the real binary, real files).
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include <gtest/gtest.h>

#include "tests/common/forge_command.h"
#include "reward/math/math_grader.h"
#include "rl/data/dataset.h"
#include "rl/tasks/answer_check.h"
#include "rl/tasks/arithmetic.h"
#include "rl/tasks/countdown.h"
#include "rl/tasks/expression.h"
#include "rl/tasks/generate.h"
#include "rl/tasks/teacher.h"

#include "tests/common/temp_dir.h"

namespace forge::rl::tasks {
namespace {

namespace fs = std::filesystem;

std::vector<Example> generate(const GenerateOptions& o, const std::set<std::string>& exclude = {},
                              GenerateStats* stats = nullptr) {
  auto examples = generate_examples(o, exclude, stats);
  EXPECT_TRUE(examples.ok()) << examples.status();
  return examples.ok() ? *examples : std::vector<Example>{};
}

GenerateOptions with_teacher(const std::string& task, int64_t n, uint64_t seed = 1) {
  GenerateOptions o;
  o.task = task;
  o.n = n;
  o.seed = seed;
  o.teacher = true;
  return o;
}

TeacherOptions flawless() {
  TeacherOptions t;
  t.habit = "none";
  t.slip_rate = 0;
  t.format_break_rate = 0;
  return t;
}

double mean_correct(const std::vector<Example>& v) {
  double c = 0;
  for (const Example& e : v) c += e.meta.at("teacher").at("correct").get<bool>() ? 1 : 0;
  return c / static_cast<double>(v.size());
}

// ---- expressions -------------------------------------------------------------------------------

TEST(Expression, EvaluatesWithPrecedenceParenthesesAndExactDivision) {
  auto e = evaluate_expression("7+8*3-5");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->value, (Rational{26, 1}));
  EXPECT_EQ(e->literals, (std::vector<int64_t>{7, 8, 3, 5}));
  EXPECT_EQ(evaluate_expression("(7+8)*3 - 5")->value, (Rational{40, 1}));
  EXPECT_EQ(evaluate_expression("8-3-2")->value, (Rational{3, 1}));
  EXPECT_EQ(evaluate_expression("8/(3-1)")->value, (Rational{4, 1}));
  EXPECT_EQ(evaluate_expression("7/2")->value, (Rational{7, 2}));
  EXPECT_EQ(evaluate_expression("12/8*2")->value, (Rational{3, 1}));
}

TEST(Expression, RejectsWhatIsNotAnExpression) {
  for (const char* bad : {"", "-3+5", "3+", "(3+4", "3+4)", "3 4", "3^2", "x+1", "3++4"}) {
    EXPECT_FALSE(evaluate_expression(bad).ok()) << bad;
  }
  EXPECT_EQ(evaluate_expression("5/(3-3)").status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(evaluate_expression("99999999999*99999999999").status().code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_FALSE(evaluate_expression(std::string(300, '1')).ok());
  EXPECT_FALSE(evaluate_expression(std::string(40, '(') + "1" + std::string(40, ')')).ok());
}

// ---- arithmetic --------------------------------------------------------------------------------

TEST(Arithmetic, GenerationIsSeededAndRespectsTheDifficulty) {
  GenerateOptions o;
  o.n = 300;
  o.seed = 5;
  o.arithmetic.digits = 2;
  o.arithmetic.ops = 2;
  o.arithmetic.max_value = 500;
  const std::vector<Example> a = generate(o), b = generate(o);
  ASSERT_EQ(a.size(), 300u);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(example_to_json(a[i]), example_to_json(b[i]));
  o.seed = 6;
  EXPECT_NE(example_to_json(generate(o)[0]), example_to_json(a[0]));

  for (const Example& e : a) {
    EXPECT_EQ(e.rule, "math");
    auto p = parse_arithmetic(e.prompt);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->operators.size(), 2u) << e.prompt;
    for (int64_t x : p->operands) {
      EXPECT_GE(x, 10) << e.prompt;
      EXPECT_LE(x, 99) << e.prompt;
    }
    std::vector<ArithmeticStep> steps;
    ASSERT_TRUE(evaluate_arithmetic(*p, EvalOrder::kPrecedence, &steps));
    for (const ArithmeticStep& s : steps) {
      EXPECT_GE(s.result, 0) << e.prompt;
      EXPECT_LE(s.result, 500) << e.prompt;
    }
    // The gold answer agrees with an independent evaluator.
    auto value = evaluate_expression(e.prompt);
    ASSERT_TRUE(value.ok());
    EXPECT_EQ(e.answer, std::to_string(value->value.num)) << e.prompt;
  }
}

TEST(Arithmetic, BadOptionsAreErrorsNamingTheField) {
  GenerateOptions o;
  o.n = 1;
  o.arithmetic.digits = 0;
  auto r = generate_examples(o, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("digits"), std::string::npos);
  o.arithmetic.digits = 1;
  o.arithmetic.operators = "+/";
  r = generate_examples(o, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("operators"), std::string::npos);
  o.arithmetic.operators = "*";
  o.arithmetic.digits = 3;
  o.arithmetic.max_value = 50;  // no product of 3-digit numbers is that small
  r = generate_examples(o, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(Arithmetic, LeftToRightDiffersExactlyWhenAStarFollowsPlusOrMinus) {
  auto p = parse_arithmetic("7+8*3-5");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(precedence_matters(*p));
  EXPECT_EQ(*evaluate_arithmetic(*p, EvalOrder::kPrecedence), 26);
  EXPECT_EQ(*evaluate_arithmetic(*p, EvalOrder::kLeftToRight), 40);
  auto q = parse_arithmetic("8*3+7-5");
  EXPECT_FALSE(precedence_matters(*q));
  EXPECT_EQ(*evaluate_arithmetic(*q, EvalOrder::kLeftToRight), 26);
  EXPECT_FALSE(parse_arithmetic("7 + 8").ok());
  EXPECT_FALSE(parse_arithmetic("7+").ok());
}

// ---- countdown ---------------------------------------------------------------------------------

TEST(Countdown, EveryGeneratedPuzzleIsSolvableAndItsSolutionPassesTheChecker) {
  GenerateOptions o;
  o.task = "countdown";
  o.n = 400;
  for (const Example& e : generate(o)) {
    EXPECT_EQ(e.rule, "countdown");
    auto p = parse_countdown_gold(e.answer);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->numbers.size(), 3u);
    EXPECT_GE(p->target, 1);
    EXPECT_LE(p->target, 99);
    EXPECT_EQ(e.prompt, p->prompt());
    const std::string reference = e.meta.at("solution").get<std::string>();
    const std::string response = "<think>x</think><answer>" + reference + "</answer>";
    AnswerCheck c = check_countdown(response, e.answer);
    EXPECT_TRUE(c.correct) << e.prompt << " " << reference << ": " << c.detail;
    auto solved = solve_countdown(*p);
    ASSERT_TRUE(solved) << e.prompt;
    c = check_countdown("<answer>" + solved->expression + "</answer>", e.answer);
    EXPECT_TRUE(c.correct) << e.prompt << " " << solved->expression << ": " << c.detail;
  }
}

TEST(Countdown, CheckerRejectsWrongNumbersValuesAndFormats) {
  const std::string gold = "22 from 3,5,7";
  EXPECT_TRUE(check_countdown("<answer>3*5+7</answer>", gold).correct);
  EXPECT_TRUE(check_countdown("<answer> 7 + 5*3 </answer>", gold).correct);
  struct Case {
    const char* response;
    const char* why;
  };
  for (const Case& c : std::vector<Case>{
           {"<answer>3*5+7+0</answer>", "uses"},  // an extra number
           {"<answer>5*5-3</answer>", "uses"},    // a number twice, one missing
           {"<answer>3+5+7</answer>", "makes 15"},
           {"<answer>22</answer>", "uses"},
           {"3*5+7", "no <answer>"},
           {"<answer>3*5+7", "no <answer>"},
           {"<answer>3*(5+7</answer>", "expected ')'"},
       }) {
    AnswerCheck r = check_countdown(c.response, gold);
    EXPECT_FALSE(r.correct) << c.response;
    EXPECT_NE(r.detail.find(c.why), std::string::npos) << c.response << ": " << r.detail;
  }
  // Exact arithmetic: 7/2 is not 3.
  EXPECT_FALSE(check_countdown("<answer>7/2+0</answer>", "3 from 7,2,0").correct);
  EXPECT_TRUE(check_countdown("<answer>7/2*2</answer>", "7 from 7,2,2").correct);
  EXPECT_FALSE(check_countdown("<answer>1+2</answer>", "3 of 1,2").correct);
}

TEST(Countdown, ExpressionsGetTheParenthesesTheirStepsNeed) {
  const std::vector<CountdownStep> steps = {{3, '+', 5, 8}, {8, '*', 7, 56}};
  bool parens = false;
  EXPECT_EQ(countdown_expression({3, 5, 7}, steps, true, &parens), "(3+5)*7");
  EXPECT_TRUE(parens);
  EXPECT_EQ(countdown_expression({3, 5, 7}, steps, false), "3+5*7");
  const std::vector<CountdownStep> minus = {{5, '-', 3, 2}, {7, '-', 2, 5}};
  EXPECT_EQ(countdown_expression({3, 5, 7}, minus, true), "7-(5-3)");
  EXPECT_EQ(countdown_expression({3, 5, 9}, minus, true), "");  // steps do not fit the numbers
}

// ---- checkers ----------------------------------------------------------------------------------

TEST(AnswerCheck, ExtractsTheLastAnswerAndChecksTheFormat) {
  EXPECT_EQ(*extract_answer("<think>a</think><answer> 26 </answer>"), "26");
  EXPECT_EQ(*extract_answer("<answer>1</answer> then <answer>2</answer>"), "2");
  EXPECT_FALSE(extract_answer("<think>a</think>26"));
  EXPECT_TRUE(is_well_formed("<think>8*3=24.</think><answer>26</answer>"));
  EXPECT_TRUE(is_well_formed(" <think>x</think>\n<answer>26</answer>\n"));
  for (const char* bad : {"<think>x<answer>26</answer>", "<think>x</think>26",
                          "<think>x</think><answer>26", "x</think><answer>26</answer>",
                          "<think>x</think><answer> </answer>",
                          "<think>x</think><answer>26</answer>more",
                          "<think><think>x</think><answer>26</answer>"}) {
    EXPECT_FALSE(is_well_formed(bad)) << bad;
  }
  EXPECT_TRUE(check_integer_answer("<answer>-4</answer>", "-4").correct);
  EXPECT_FALSE(check_integer_answer("<answer>4.0</answer>", "4").correct);
  EXPECT_FALSE(check_integer_answer("<answer>5</answer>", "4").correct);
}

// ---- held-out sets -----------------------------------------------------------------------------

TEST(HeldOut, ExcludedProblemsNeverAppearAndWouldHaveWithoutTheExclusion) {
  GenerateOptions train;
  train.n = 1500;
  train.seed = 1;
  train.arithmetic.ops = 2;  // a small problem space, so that two seeds overlap
  const std::vector<Example> train_set = generate(train);
  std::set<std::string> keys;
  for (const Example& e : train_set) keys.insert(problem_key(e));
  EXPECT_EQ(keys.size(), train_set.size());  // no duplicate within a set

  GenerateOptions held = train;
  held.seed = 2;
  held.n = 300;
  size_t overlap_without = 0;
  for (const Example& e : generate(held)) overlap_without += keys.count(problem_key(e));
  EXPECT_GT(overlap_without, 0u);  // the exclusion below is doing real work

  GenerateStats stats;
  const std::vector<Example> held_set = generate(held, keys, &stats);
  ASSERT_EQ(held_set.size(), 300u);
  for (const Example& e : held_set) EXPECT_EQ(keys.count(problem_key(e)), 0u) << e.prompt;
  EXPECT_GT(stats.excluded_skipped, 0);
}

TEST(HeldOut, CountdownKeysIgnoreTheOrderOfTheNumbers) {
  Example a, b;
  a.rule = b.rule = "countdown";
  a.prompt = "Use 3,5,7 to make 22.";
  a.answer = "22 from 3,5,7";
  b.prompt = "Use 7,3,5 to make 22.";
  b.answer = "22 from 7,3,5";
  EXPECT_EQ(problem_key(a), problem_key(b));
}

TEST(HeldOut, ATooSmallProblemSpaceIsAnErrorNotADuplicate) {
  GenerateOptions o;
  o.n = 100;
  o.arithmetic.ops = 1;
  o.arithmetic.operators = "+";  // only 81 problems exist
  auto r = generate_examples(o, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("81"), std::string::npos) << r.status();
  o.n = 81;
  EXPECT_EQ(generate(o).size(), 81u);
}

// ---- the teacher -------------------------------------------------------------------------------

TEST(Teacher, WithoutFlawsEveryStepIsRightAndEveryAnswerGradesCorrect) {
  for (const std::string task : {"arithmetic", "countdown"}) {
    GenerateOptions o = with_teacher(task, 500);
    o.teacher_options = flawless();
    for (const Example& e : generate(o)) {
      EXPECT_TRUE(is_well_formed(e.completion)) << e.completion;
      auto check = check_task_answer(e, e.completion);
      ASSERT_TRUE(check.ok());
      EXPECT_TRUE(check->correct) << e.prompt << " " << e.completion << ": " << check->detail;
      // Every step "a op b=c." is true arithmetic.
      const std::string think = e.completion.substr(7, e.completion.find("</think>") - 7);
      size_t pos = 0;
      int steps = 0;
      while (pos < think.size()) {
        const size_t eq = think.find('=', pos);
        const size_t end = think.find_first_of(",.", eq);
        ASSERT_NE(eq, std::string::npos) << think;
        auto lhs = evaluate_expression(think.substr(pos, eq - pos));
        int64_t rhs = 0;
        ASSERT_TRUE(lhs.ok()) << think;
        ASSERT_TRUE(parse_int64(think.substr(eq + 1, end - eq - 1), &rhs)) << think;
        EXPECT_EQ(lhs->value, (Rational{rhs, 1})) << think;
        ++steps;
        pos = think.find(". ", end);
        pos = pos == std::string::npos ? think.size() : pos + 2;
      }
      EXPECT_EQ(steps, task == "arithmetic" ? 3 : 2) << think;
    }
  }
}

TEST(Teacher, DefaultArithmeticTeacherIsRightAboutTwoThirdsOfTheTimeWithShortTraces) {
  GenerateStats stats;
  const std::vector<Example> v = generate(with_teacher("arithmetic", 2000), {}, &stats);
  const double accuracy = mean_correct(v);
  EXPECT_GE(accuracy, 0.5);
  EXPECT_LE(accuracy, 0.7);
  EXPECT_DOUBLE_EQ(accuracy, static_cast<double>(stats.teacher_correct) / 2000);
  const double format_rate = static_cast<double>(stats.teacher_well_formed) / 2000;
  EXPECT_GE(format_rate, 0.95);  // 3% breaks by default
  EXPECT_LE(format_rate, 0.995);
  // Byte-level tokens: short traces.
  EXPECT_LE(static_cast<double>(stats.response_chars_total) / 2000, 100.0);
  EXPECT_LE(stats.response_chars_max, 150);
}

TEST(Teacher, TheHabitIsSystematic) {
  // Most problems of the class are wrong, in the same way; the others are mostly right.
  const std::vector<Example> v = generate(with_teacher("arithmetic", 2000));
  int in_class = 0, class_wrong = 0, habit_clean = 0, habit_answer = 0, others = 0, others_right = 0;
  for (const Example& e : v) {
    const auto& t = e.meta.at("teacher");
    auto p = parse_arithmetic(e.prompt);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(t.at("habit_class").get<bool>(), precedence_matters(*p));
    const bool correct = t.at("correct").get<bool>();
    if (precedence_matters(*p)) {
      ++in_class;
      class_wrong += correct ? 0 : 1;
      if (t.at("habit_applied").get<bool>() && t.at("slips").get<int>() == 0 &&
          extract_answer(e.completion)) {
        ++habit_clean;
        const std::string ltr =
            std::to_string(*evaluate_arithmetic(*p, EvalOrder::kLeftToRight));
        habit_answer += *extract_answer(e.completion) == ltr ? 1 : 0;
      }
    } else {
      ++others;
      others_right += correct ? 1 : 0;
    }
  }
  ASSERT_GT(in_class, 400);
  ASSERT_GT(others, 400);
  EXPECT_GE(static_cast<double>(class_wrong) / in_class, 0.7);
  EXPECT_GE(static_cast<double>(others_right) / others, 0.85);
  EXPECT_EQ(habit_answer, habit_clean);  // the same wrong step every time: left to right
}

TEST(Teacher, SlipsArePerStepAndFormatBreaksPerResponse) {
  GenerateOptions o = with_teacher("arithmetic", 2000, 3);
  o.teacher_options = flawless();
  o.teacher_options.slip_rate = 0.1;
  GenerateStats stats;
  double accuracy = mean_correct(generate(o, {}, &stats));
  // Three steps, each slipping with p = 0.1: 0.9^3 = 0.729 (a slip almost never cancels out).
  EXPECT_NEAR(accuracy, 0.729, 0.04);
  EXPECT_NEAR(static_cast<double>(stats.with_slips) / 2000, 1 - 0.729, 0.04);

  o.teacher_options = flawless();
  o.teacher_options.format_break_rate = 0.2;
  accuracy = mean_correct(generate(o, {}, &stats));
  EXPECT_NEAR(static_cast<double>(stats.teacher_well_formed) / 2000, 0.8, 0.03);
  // Two of the three breaks lose the <answer> tags, so the answer cannot be read.
  EXPECT_NEAR(accuracy, 1 - 0.2 * 2 / 3, 0.03);
}

TEST(Teacher, DropCarryHabitHitsAdditionsThatCarry) {
  EXPECT_EQ(add_without_carry(27, 15), 32);
  EXPECT_EQ(add_without_carry(7, 8), 5);
  EXPECT_EQ(add_without_carry(12, 3), 15);
  EXPECT_TRUE(addition_needs_carry(27, 15));
  EXPECT_FALSE(addition_needs_carry(12, 13));
  GenerateOptions o = with_teacher("arithmetic", 1000);
  o.teacher_options = flawless();
  o.teacher_options.habit = "drop_carry";
  o.teacher_options.habit_rate = 1.0;
  int in_class = 0, class_wrong = 0, others_wrong = 0;
  for (const Example& e : generate(o)) {
    const bool cls = e.meta.at("teacher").at("habit_class").get<bool>();
    const bool correct = e.meta.at("teacher").at("correct").get<bool>();
    in_class += cls ? 1 : 0;
    class_wrong += (cls && !correct) ? 1 : 0;
    others_wrong += (!cls && !correct) ? 1 : 0;
  }
  ASSERT_GT(in_class, 200);
  EXPECT_GE(static_cast<double>(class_wrong) / in_class, 0.9);
  EXPECT_EQ(others_wrong, 0);
}

TEST(Teacher, CountdownHabitDropsParentheses) {
  GenerateStats stats;
  const std::vector<Example> v = generate(with_teacher("countdown", 2000), {}, &stats);
  const double accuracy = mean_correct(v);
  EXPECT_GE(accuracy, 0.5);
  EXPECT_LE(accuracy, 0.75);
  int in_class = 0, class_wrong = 0, others = 0, others_right = 0;
  for (const Example& e : v) {
    const auto& t = e.meta.at("teacher");
    const bool correct = t.at("correct").get<bool>();
    if (t.at("habit_class").get<bool>()) {
      ++in_class;
      class_wrong += correct ? 0 : 1;
      if (t.at("habit_applied").get<bool>() && extract_answer(e.completion)) {
        EXPECT_EQ(extract_answer(e.completion)->find('('), std::string::npos) << e.completion;
      }
    } else {
      ++others;
      others_right += correct ? 1 : 0;
    }
  }
  ASSERT_GT(in_class, 300);
  EXPECT_GE(static_cast<double>(class_wrong) / in_class, 0.7);
  EXPECT_GE(static_cast<double>(others_right) / others, 0.85);
  EXPECT_LE(static_cast<double>(stats.response_chars_total) / 2000, 100.0);
}

TEST(Teacher, AnswersAreGradedRightExactlyWhenTheyAreRight) {
  // Independently of the checker: a response is right when it has <answer> tags holding the gold
  // value (arithmetic) -- and the checker must agree on every one of them.
  const std::vector<Example> v = generate(with_teacher("arithmetic", 2000, 9));
  for (const Example& e : v) {
    const size_t open = e.completion.find("<answer>");
    const size_t close = e.completion.find("</answer>");
    const bool tagged = open != std::string::npos && close != std::string::npos;
    const bool right = tagged && e.completion.substr(open + 8, close - open - 8) == e.answer;
    auto check = check_task_answer(e, e.completion);
    ASSERT_TRUE(check.ok());
    EXPECT_EQ(check->correct, right) << e.completion << " gold " << e.answer;
  }
}

TEST(Teacher, TheRewardStacksMathGraderAgreesOnEveryWellFormedResponse) {
  // Arithmetic items are graded in training by reward/'s "math" rule, not by check_task_answer:
  // the two must agree wherever the format is intact (on broken formats the math rule may still
  // find a final bare number; the format reward is what punishes those).
  const std::vector<Example> v = generate(with_teacher("arithmetic", 1000, 4));
  int compared = 0;
  for (const Example& e : v) {
    if (!is_well_formed(e.completion)) continue;
    auto verdict = reward::math::grade_completion(e.completion, e.answer, {});
    ASSERT_TRUE(verdict.ok()) << verdict.status();
    EXPECT_EQ(verdict->correct, check_task_answer(e, e.completion)->correct)
        << e.completion << " gold " << e.answer << ": " << verdict->detail;
    ++compared;
  }
  EXPECT_GT(compared, 900);
}

TEST(Teacher, TurningTheTeacherOnDoesNotChangeTheProblems) {
  GenerateOptions plain;
  plain.n = 200;
  GenerateOptions taught = plain;
  taught.teacher = true;
  const std::vector<Example> a = generate(plain), b = generate(taught);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].prompt, b[i].prompt);
    EXPECT_TRUE(a[i].completion.empty());
    EXPECT_EQ(b[i].completion.rfind("<think>", 0), 0u);
  }
}

TEST(Teacher, BadRatesAndHabitsAreErrorsNamingTheField) {
  TeacherOptions t;
  t.slip_rate = 1.5;
  EXPECT_NE(t.validate("arithmetic").message().find("slip_rate"), std::string::npos);
  t = TeacherOptions{};
  t.habit = "no_parens";
  EXPECT_NE(t.validate("arithmetic").message().find("habit"), std::string::npos);
  EXPECT_TRUE(t.validate("countdown").ok());
}

// ---- forge data gen ----------------------------------------------------------------------------

using Result = forge::test_support::ForgeResult;
using forge::test_support::run_forge;

class DataGenCli : public ::testing::Test {
 protected:
  test_support::TempDir tmp_{"forge_data_gen_test"};
  const fs::path& dir_ = tmp_.path();
};

TEST_F(DataGenCli, WritesATeacherDatasetAndADisjointHeldOutSet) {
  const std::string train = (dir_ / "sub" / "train.jsonl").string();
  Result r = run_forge("data gen --task arithmetic --n 300 --seed 1 --ops 2 --teacher --out " +
                       train);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json summary = nlohmann::json::parse(r.output);
  EXPECT_EQ(summary.at("n"), 300);
  const double accuracy = summary.at("teacher").at("accuracy").get<double>();
  EXPECT_GT(accuracy, 0.3);
  EXPECT_LT(accuracy, 0.95);
  auto examples = load_jsonl(train);
  ASSERT_TRUE(examples.ok()) << examples.status();
  ASSERT_EQ(examples->size(), 300u);
  double correct = 0;
  for (const Example& e : *examples) {
    EXPECT_EQ(e.completion.rfind("<think>", 0), 0u);
    correct += check_task_answer(e, e.completion)->correct ? 1 : 0;
  }
  EXPECT_DOUBLE_EQ(correct / 300, accuracy);

  const std::string eval = (dir_ / "eval.jsonl").string();
  r = run_forge("data gen --task arithmetic --n 100 --seed 2 --ops 2 --exclude " + train +
                " --out " + eval);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_GT(nlohmann::json::parse(r.output).at("excluded_skipped").get<int>(), 0);
  auto keys = load_problem_keys(train);
  auto held = load_jsonl(eval);
  ASSERT_TRUE(keys.ok() && held.ok());
  EXPECT_EQ(held->size(), 100u);
  for (const Example& e : *held) EXPECT_EQ(keys->count(problem_key(e)), 0u) << e.prompt;
}

TEST_F(DataGenCli, CountdownAndErrors) {
  const std::string out = (dir_ / "cd.jsonl").string();
  Result r = run_forge("data gen --task countdown --n 50 --count 4 --max-number 9 --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto examples = load_jsonl(out);
  ASSERT_TRUE(examples.ok());
  EXPECT_EQ((*examples)[0].rule, "countdown");
  EXPECT_EQ(parse_countdown_gold((*examples)[0].answer)->numbers.size(), 4u);

  r = run_forge("data gen --n 5 --digits 0 --out " + out);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("digits"), std::string::npos) << r.output;
  r = run_forge("data gen --n 5 --task sudoku --out " + out);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  r = run_forge("data gen --n 5 --exclude " + (dir_ / "missing.jsonl").string() + " --out " + out);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("missing.jsonl"), std::string::npos) << r.output;
  r = run_forge("data gen --n 100 --ops 1 --operators + --out " + out);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("too small"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace forge::rl::tasks
