// `forge grade`'s engine on real files: one output line per input line, same order, malformed
// lines reported on their own line with the line number, never stopping the run.
#include "reward/grade_file.h"

#include <fstream>
#include <sstream>

#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "reward/grade_json.h"

namespace forge::reward {
namespace {

using json = nlohmann::json;

std::vector<json> grade_lines(const std::string& input, GradeFileStats* stats = nullptr) {
  RewardConfig config;
  config.concurrency = 2;
  auto grader = Grader::create(config);
  EXPECT_TRUE(grader.ok()) << grader.status();
  // ctest runs each test as its own process, in parallel: the files are unique to this one.
  const std::string stem = ::testing::TempDir() + "/grade_" + std::to_string(::getpid()) + "_" +
                           ::testing::UnitTest::GetInstance()->current_test_info()->name();
  const std::string in_path = stem + "_in.jsonl";
  const std::string out_path = stem + "_out.jsonl";
  std::ofstream(in_path, std::ios::binary) << input;
  {
    std::ifstream in(in_path, std::ios::binary);
    std::ofstream out(out_path, std::ios::binary);
    absl::Status status = grade_jsonl(in, out, **grader, stats);
    EXPECT_TRUE(status.ok()) << status;
  }
  std::ifstream out(out_path);
  std::vector<json> lines;
  std::string line;
  while (std::getline(out, line)) lines.push_back(json::parse(line));
  return lines;
}

TEST(GradeFile, OneOutputLinePerInputLineInOrder) {
  std::string input;
  for (int i = 0; i < 300; ++i) {
    json line = {{"id", "q" + std::to_string(i)},
                 {"rule", "math"},
                 {"completion", "... so \\boxed{" + std::to_string(i % 7) + "}"},
                 {"answer", std::to_string(i % 5)}};
    input += line.dump() + "\n";
  }
  GradeFileStats stats;
  std::vector<json> out = grade_lines(input, &stats);
  ASSERT_EQ(out.size(), 300u);
  for (int i = 0; i < 300; ++i) {
    EXPECT_EQ(out[i]["id"], "q" + std::to_string(i));
    EXPECT_EQ(out[i]["reward"], (i % 7) == (i % 5) ? 1.0 : 0.0) << out[i].dump();
    EXPECT_EQ(out[i]["components"]["math"], out[i]["reward"]);
    EXPECT_FALSE(out[i].contains("error"));
  }
  EXPECT_EQ(stats.lines, 300);
  EXPECT_EQ(stats.errors, 0);
}

TEST(GradeFile, MalformedLinesYieldAnErrorOnTheirOwnLine) {
  const std::string input =
      R"({"id": "ok1", "rule": "format", "completion": "<think>a</think><answer>1</answer>"})" "\n"
      "{not json\n"
      "\n"
      R"([1, 2, 3])" "\n"
      R"({"id": "bad-type", "rule": "math", "completion": 42, "answer": "1"})" "\n"
      R"({"id": "unknown", "rule": "mth", "completion": "x", "answer": "1"})" "\n"
      R"({"id": "no-completion", "rule": "format"})" "\n"
      R"({"id": "no-answer", "rule": "math", "completion": "\\boxed{1}"})" "\n"
      R"({"id": 7, "rule": "math", "completion": "\\boxed{3}", "answer": 3})" "\n"
      R"({"id": "bad-tests", "rule": "code", "completion": "x", "tests": [1]})" "\n"
      R"({"id": "ok2", "completion": "<think>a</think><answer>\\boxed{2}</answer>", "answer": "2"})";
  GradeFileStats stats;
  std::vector<json> out = grade_lines(input, &stats);
  ASSERT_EQ(out.size(), 11u);
  auto error_of = [&](size_t i) {
    if (!out[i].contains("error")) return std::string();
    // Every malformed line is the item's fault, not a grading failure.
    EXPECT_EQ(out[i]["error"]["code"], "invalid_item") << out[i].dump();
    return out[i]["error"]["message"].get<std::string>();
  };

  EXPECT_EQ(out[0]["id"], "ok1");
  EXPECT_EQ(out[0]["reward"], 1.0);

  EXPECT_TRUE(out[1]["id"].is_null());
  EXPECT_EQ(out[1]["reward"], 0.0);
  EXPECT_EQ(error_of(1).rfind("line 2: not valid JSON", 0), 0u) << error_of(1);

  EXPECT_EQ(error_of(2), "line 3: empty line");
  EXPECT_EQ(error_of(3), "line 4: line: expected a JSON object, got a list");

  EXPECT_EQ(out[4]["id"], "bad-type");
  EXPECT_EQ(error_of(4), "line 5: completion: expected a string, got a number");

  EXPECT_EQ(out[5]["id"], "unknown");
  EXPECT_EQ(error_of(5).rfind("line 6: rule: unknown rule 'mth' (known: accuracy, code", 0), 0u)
      << error_of(5);

  EXPECT_EQ(error_of(6).rfind("line 7: completion: missing", 0), 0u) << error_of(6);
  EXPECT_EQ(error_of(7), "line 8: answer: the math rule needs a reference answer");

  EXPECT_EQ(out[8]["id"], 7);  // a numeric id comes back as a number
  EXPECT_EQ(out[8]["reward"], 1.0) << out[8].dump();

  EXPECT_EQ(error_of(9).rfind("line 10: tests: expected an object", 0), 0u) << error_of(9);

  // No rule: the configured mix (math 1.0 + format 0.1).
  EXPECT_EQ(out[10]["id"], "ok2");
  EXPECT_DOUBLE_EQ(out[10]["reward"].get<double>(), 1.1);
  EXPECT_EQ(out[10]["components"].size(), 2u);

  EXPECT_EQ(stats.lines, 11);
  EXPECT_EQ(stats.errors, 8);
}

TEST(GradeFile, PredictionsAreComparedWithoutExtraction) {
  std::vector<json> out = grade_lines(
      R"({"id": "p", "rule": "math", "prediction": "\\frac{1}{2}", "answer": "0.5"})" "\n"
      R"({"id": "q", "rule": "math", "prediction": "0.4", "answer": "0.5"})" "\n");
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]["reward"], 1.0) << out[0].dump();
  EXPECT_EQ(out[1]["reward"], 0.0) << out[1].dump();
}

TEST(GradeFile, InvalidUtf8IsReplacedNotFatal) {
  std::string completion = "<think>\xff\xfe</think><answer>1</answer>";
  json line = {{"id", "u"}, {"rule", "format"}};
  std::string input = line.dump();
  input.pop_back();  // splice raw bytes in: nlohmann would refuse to dump them
  input += ", \"completion\": \"" + completion + "\"}\n";
  std::vector<json> out = grade_lines(input);
  ASSERT_EQ(out.size(), 1u);
  // The parser rejects invalid UTF-8 in JSON strings: reported, not a crash.
  EXPECT_EQ(out[0]["reward"], 0.0);
  EXPECT_EQ(out[0]["error"]["message"].get<std::string>().rfind("line 1: not valid JSON", 0), 0u)
      << out[0].dump();
}

TEST(GradeJson, OutputShape) {
  GradeOutcome outcome;
  outcome.reward = 1.1;
  outcome.components = {{"format", 1.0}, {"math", 1.0}};
  outcome.detail = "math: '42': exact";
  json j = grade_outcome_to_json(outcome, "id-1");
  EXPECT_EQ(j.dump(),
            R"({"components":{"format":1.0,"math":1.0},"detail":"math: '42': exact","id":"id-1","reward":1.1})");
  GradeOutcome bad;
  bad.error = "line 3: empty line";
  bad.error_code = kErrorInvalidItem;
  EXPECT_EQ(
      grade_outcome_to_json(bad, nullptr).dump(),
      R"({"error":{"code":"invalid_item","message":"line 3: empty line"},"id":null,"reward":0.0})");
}

}  // namespace
}  // namespace forge::reward
