// The R1 recipe's stages (`forge sft`, `forge eval`, `forge distill`), on real files with the real
// binary and a tiny MoE (the pieces in process are recipe_pieces_test.cc):
//  * the suite's SFT run memorises one fixed response (every training answer is 2): its loss
//    drops, metrics/model/summary are written, the model loads in `forge generate`;
//  * --resume reproduces a straight run; a flat held-out loss stops on the plateau;
//  * a report of the CLI has every key, rates in [0, 1], and is identical for the same seed; the
//    memorised model's greedy accuracy is exactly the share of held-out prompts whose answer is 2;
//  * distill keeps only correct, well-formed responses (checked with the tasks' own checker),
//    trains a dense student, and leaves no child running.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "policy/model_config.h"
#include "rl/data/chat_template.h"
#include "rl/recipe/distiller.h"
#include "rl/tasks/answer_check.h"
#include "tests/common/forge_command.h"
#include "tests/common/small_model_yaml.h"

namespace forge::rl {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The one response the suite's SFT model memorises.
constexpr char kMemorised[] = "<think>1+1=2.</think><answer>2</answer>";

using Result = test_support::ForgeResult;
using test_support::read_jsonl;
using test_support::run_forge;
using test_support::small_model_yaml;

json read_json(const fs::path& path) {
  std::ifstream in(path);
  return json::parse(in);
}

using forge::test_support::processes_with;

void write_examples(const fs::path& path, const std::vector<std::pair<std::string, int>>& problems,
                    bool with_completion) {
  std::ofstream out(path);
  for (const auto& [prompt, answer] : problems) {
    json j = {{"prompt", prompt}, {"answer", std::to_string(answer)}, {"task", "arithmetic"}};
    if (with_completion) j["completion"] = kMemorised;
    out << j.dump() << "\n";
  }
}

// ---- The CLI stages on real files --------------------------------------------------------------

class RecipeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("forge_recipe_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    // Every training answer is 2 and every completion the same: SFT memorises one response.
    write_examples(dir_ / "train.jsonl",
                   {{"1+1", 2},
                    {"0+2", 2},
                    {"2+0", 2},
                    {"3-1", 2},
                    {"4-2", 2},
                    {"5-3", 2},
                    {"6-4", 2},
                    {"7-5", 2}},
                   true);
    // Held out: half the answers are 2.
    write_examples(dir_ / "heldout.jsonl", {{"8-6", 2}, {"1+2", 3}, {"9-7", 2}, {"5+4", 9}}, true);
    std::ofstream(dir_ / "run.yaml")
        << small_model_yaml()
        << "data: {train: train.jsonl, eval: heldout.jsonl}\n"
        << "rollout: {max_new_tokens: 40}\n"
        << "sft: {max_steps: 60, batch_size: 8, lr: 3.0e-3, warmup_steps: 5, eval_every: 20,"
        << " patience: 100, log_every: 0}\n"
        << "eval: {k: 3, max_prompts: 4}\n"
        << "distill: {k: 2, workers: 1, student_config: " << FORGE_SOURCE_DIR
        << "/configs/models/tiny-dense.json}\n";
    sft_ = run_forge("sft --config " + config() + " run.dir=" + (dir_ / "sft").string());
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static std::string config() { return (dir_ / "run.yaml").string(); }
  static fs::path model_dir() { return dir_ / "sft" / "model"; }

  static fs::path dir_;
  static Result sft_;
};
fs::path RecipeTest::dir_;
Result RecipeTest::sft_;

TEST_F(RecipeTest, SftLossDropsAndWritesMetricsCheckpointsAndALoadableModel) {
  ASSERT_EQ(sft_.exit_code, 0) << sft_.output;
  const fs::path out = dir_ / "sft";
  const std::vector<json> rows = read_jsonl(out / "metrics.jsonl");
  ASSERT_EQ(rows.size(), 60u) << sft_.output;
  for (const char* key :
       {"step", "loss", "lr", "grad_norm", "tokens_per_s", "time", "moe/load_imbalance"}) {
    EXPECT_TRUE(rows[0].contains(key)) << key;
  }
  EXPECT_TRUE(rows[19].contains("eval_loss"));
  EXPECT_FALSE(rows[18].contains("eval_loss"));
  const double first = rows.front()["loss"].get<double>();
  const double last = rows.back()["loss"].get<double>();
  EXPECT_LT(last, 0.2 * first) << "first " << first << " last " << last;
  EXPECT_LT(rows[59]["eval_loss"].get<double>(), rows[19]["eval_loss"].get<double>());
  EXPECT_TRUE(fs::exists(out / "checkpoints/step-60/manifest.json"));
  EXPECT_TRUE(fs::exists(model_dir() / "config.json"));
  EXPECT_TRUE(fs::exists(model_dir() / "model.safetensors"));
  const json summary = read_json(out / "sft.json");
  EXPECT_EQ(summary["steps"], 60);
  EXPECT_EQ(summary["stop_reason"], "max_steps");
  EXPECT_EQ(summary["best_step"], 60);
  EXPECT_EQ(summary["held_out_examples"], 4);
  Result g = run_forge("generate --checkpoint " + model_dir().string() +
                       " --prompt 1+1 --max-new-tokens 8 --temperature 0 --seed 1");
  EXPECT_EQ(g.exit_code, 0) << g.output;
}

TEST_F(RecipeTest, SftResumeReproducesTheStraightRun) {
  // Packed (sft.pack_tokens), so the CLI's packing path runs too.
  const std::string common =
      " sft.lr_schedule=constant sft.warmup_steps=0 sft.eval_every=1 sft.pack_tokens=256";
  const fs::path straight = dir_ / "straight";
  const fs::path resumed = dir_ / "resumed";
  Result a = run_forge("sft --config " + config() + common +
                       " sft.max_steps=4 run.dir=" + straight.string());
  ASSERT_EQ(a.exit_code, 0) << a.output;
  Result b1 = run_forge("sft --config " + config() + common +
                        " sft.max_steps=2 run.dir=" + resumed.string());
  ASSERT_EQ(b1.exit_code, 0) << b1.output;
  Result b2 = run_forge("sft --config " + config() + common +
                        " sft.max_steps=4 run.dir=" + resumed.string() + " --resume");
  ASSERT_EQ(b2.exit_code, 0) << b2.output;
  EXPECT_NE(b2.output.find("resumed from"), std::string::npos) << b2.output;
  const std::vector<json> x = read_jsonl(straight / "metrics.jsonl");
  const std::vector<json> y = read_jsonl(resumed / "metrics.jsonl");
  ASSERT_EQ(x.size(), 4u);
  ASSERT_EQ(y.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    for (const char* key : {"loss", "eval_loss", "grad_norm", "lr", "response_tokens"}) {
      EXPECT_EQ(x[i][key], y[i][key]) << "step " << i + 1 << " " << key;
    }
  }
}

TEST_F(RecipeTest, SftStopsWhenTheHeldOutLossPlateaus) {
  const fs::path out = dir_ / "plateau";
  // lr 0: the held-out loss never improves after the first evaluation.
  Result r = run_forge("sft --config " + config() +
                       " sft.lr=0 sft.moe_bias_update_speed=0 sft.eval_every=1 sft.patience=2"
                       " sft.max_steps=50 run.dir=" +
                       out.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_jsonl(out / "metrics.jsonl").size(), 3u) << r.output;
  const json summary = read_json(out / "sft.json");
  EXPECT_EQ(summary["stop_reason"], "plateau");
  EXPECT_EQ(summary["best_step"], 1);
}

TEST_F(RecipeTest, SftWithoutCompletionsIsAUsageErrorNamingTheKey) {
  write_examples(dir_ / "bare.jsonl", {{"1+1", 2}}, false);
  Result r =
      run_forge("sft --config " + config() + " data.train=" + (dir_ / "bare.jsonl").string() +
                " run.dir=" + (dir_ / "bare").string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("data.train"), std::string::npos) << r.output;
}

const std::vector<std::string>& report_rates() {
  static const std::vector<std::string> keys = {"greedy",    "pass1_t06", "pass1_t1",
                                                "pass_at_k", "maj_at_k",  "format_rate"};
  return keys;
}

TEST_F(RecipeTest, EvalReportHasEveryKeyInRangeAndIsDeterministicForASeed) {
  // An untrained model (weights from run.seed).
  const fs::path a = dir_ / "eval_a.json", b = dir_ / "eval_b.json";
  const std::string args = "eval --config " + config() + " eval.max_new_tokens=12 eval.seed=5";
  Result ra = run_forge(args + " --out " + a.string());
  ASSERT_EQ(ra.exit_code, 0) << ra.output;
  EXPECT_NE(ra.output.find("forge eval: 4 prompts, k=3"), std::string::npos) << ra.output;
  Result rb = run_forge(args + " --out " + b.string());
  ASSERT_EQ(rb.exit_code, 0) << rb.output;
  const json x = read_json(a), y = read_json(b);
  for (const json* group : {&x["all"], &x["tasks"]["arithmetic"]}) {
    for (const std::string& key : report_rates()) {
      ASSERT_TRUE(group->contains(key)) << key;
      EXPECT_GE((*group)[key].get<double>(), 0.0) << key;
      EXPECT_LE((*group)[key].get<double>(), 1.0) << key;
    }
    EXPECT_EQ((*group)["n_prompts"], 4);
    EXPECT_EQ((*group)["k"], 3);
    EXPECT_TRUE(group->contains("response_length"));
  }
  EXPECT_EQ(x["all"], y["all"]);
  EXPECT_EQ(x["tasks"], y["tasks"]);
  EXPECT_GT(x["generated_tokens"].get<int>(), 0);
}

TEST_F(RecipeTest, EvalOfTheMemorisedModelScoresExactlyThePromptsWhoseAnswerIsTwo) {
  ASSERT_EQ(sft_.exit_code, 0) << sft_.output;
  Result r = run_forge("eval --config " + config() + " --checkpoint " + model_dir().string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const size_t brace = r.output.find("{\n");
  ASSERT_NE(brace, std::string::npos) << r.output;
  const json report = json::parse(r.output.substr(brace));
  EXPECT_DOUBLE_EQ(report["all"]["greedy"].get<double>(), 0.5) << report.dump(2);
  EXPECT_DOUBLE_EQ(report["all"]["maj_at_k"].get<double>(), 0.5) << report.dump(2);
  EXPECT_LE(report["all"]["pass_at_k"].get<double>(), 0.5);
  EXPECT_EQ(report["checkpoint"], model_dir().string());
}

TEST_F(RecipeTest, DistillKeepsOnlyAcceptedResponsesAndTrainsADenseStudent) {
  ASSERT_EQ(sft_.exit_code, 0) << sft_.output;
  const fs::path out = dir_ / "distill";
  // Prompts answered 2 (the teacher's only answer) and others.
  write_examples(dir_ / "prompts.jsonl", {{"8-6", 2}, {"1+2", 3}, {"9-7", 2}, {"5+4", 9}}, false);
  Result r =
      run_forge("distill --config " + config() + " distill.teacher=" + model_dir().string() +
                " data.train=" + (dir_ / "prompts.jsonl").string() +
                " sft.max_steps=2 sft.batch_size=4 sft.eval_every=0 run.dir=" + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::vector<json> rows = read_jsonl(out / "distill.jsonl");
  ASSERT_FALSE(rows.empty()) << r.output;
  for (const json& row : rows) {
    const std::string completion = row["completion"];
    EXPECT_TRUE(tasks::is_well_formed(completion)) << completion;
    Example e = parse_example(row, "distill.jsonl").value();
    EXPECT_TRUE(tasks::check_task_answer(e, completion).value().correct) << row.dump();
    EXPECT_EQ(e.answer, "2") << row.dump();
  }
  const json stats = read_json(out / "distill.json");
  EXPECT_EQ(stats["prompts"], 4);
  EXPECT_EQ(stats["samples"], 8);
  EXPECT_EQ(stats["kept"].get<size_t>(), rows.size());
  EXPECT_LE(stats["accepted_samples"].get<int>(), 4);  // only prompts answered 2 can pass
  // The student: a dense model trained in run.dir.
  const json student = read_json(out / "model" / "config.json");
  EXPECT_EQ(student["first_k_dense_replace"], student["num_hidden_layers"]);
  EXPECT_EQ(read_jsonl(out / "metrics.jsonl").size(), 2u);
  EXPECT_TRUE(processes_with(out.string()).empty());
}

TEST_F(RecipeTest, DistillChecksTheStudentConfigBeforeSampling) {
  const fs::path out = dir_ / "distill_bad";
  Result r = run_forge("distill --config " + config() + " distill.teacher=" + model_dir().string() +
                       " distill.student_config=" + (dir_ / "missing.json").string() +
                       " run.dir=" + out.string());
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("distill.student_config"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(out / "distill.jsonl"));
}

}  // namespace
}  // namespace forge::rl
