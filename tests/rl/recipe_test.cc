// The R1 recipe's stages (`forge sft`, `forge eval`, `forge distill`), on real files with the real
// binary and a tiny MoE:
//  * SFT's targets are the completion + eos, the prompt and padding get no loss and no gradient,
//    and the loss equals a per-token reference;
//  * the suite's SFT run memorises one fixed response (every training answer is 2): its loss
//    drops, metrics/model/summary are written, the model loads in `forge generate`;
//  * --resume reproduces a straight run; a flat held-out loss stops on the plateau;
//  * eval's grading of hand-made completions and its report arithmetic (exact values); a report of
//    the CLI has every key, rates in [0, 1], and is identical for the same seed; the memorised
//    model's greedy accuracy is exactly the share of held-out prompts whose answer is 2;
//  * distill keeps only correct, well-formed responses (checked with the tasks' own checker),
//    trains a dense student, and leaves no child running.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "policy/model.h"
#include "policy/model_config.h"
#include "policy/tokenizer.h"
#include "reward/grader.h"
#include "rl/data/chat_template.h"
#include "rl/recipe/distiller.h"
#include "rl/recipe/eval_report.h"
#include "rl/recipe/sample_grader.h"
#include "rl/recipe/sft_batch.h"
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

// ---- SFT batches: targets, masks, gradients ----------------------------------------------------

class SftBatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tokenizer_ = policy::Tokenizer::create("byte").value();
    chat_ = std::make_unique<ChatTemplate>(ChatTemplate::create("r1").value());
  }
  Example example(const std::string& prompt, const std::string& completion) {
    Example e;
    e.id = prompt;
    e.prompt = prompt;
    e.answer = "0";
    e.completion = completion;
    return e;
  }
  std::unique_ptr<policy::Tokenizer> tokenizer_;
  std::unique_ptr<ChatTemplate> chat_;
};

TEST_F(SftBatchTest, TargetsAreTheCompletionAfterThePromptPlusEos) {
  const Example e = example("7+8", "<think>7+8=15.</think><answer>15</answer>");
  TokenSequence s = make_sft_sequence(e, *chat_, *tokenizer_).value();
  std::vector<int32_t> prompt = {tokenizer_->bos_id()};
  for (int32_t id : tokenizer_->encode(chat_->render("7+8"))) prompt.push_back(id);
  EXPECT_EQ(s.prompt, prompt);
  // The prompt ends with "<think>", so the target starts after it.
  std::vector<int32_t> response = tokenizer_->encode("7+8=15.</think><answer>15</answer>");
  response.push_back(tokenizer_->eos_id());
  EXPECT_EQ(s.response, response);

  Example missing = e;
  missing.completion = "";
  EXPECT_FALSE(make_sft_sequence(missing, *chat_, *tokenizer_).ok());
  Example unprefixed = e;
  unprefixed.completion = "7+8=15.</think><answer>15</answer>";
  absl::StatusOr<TokenSequence> bad = make_sft_sequence(unprefixed, *chat_, *tokenizer_);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'7+8'"), std::string::npos) << bad.status();
}

TEST_F(SftBatchTest, OnlyResponseTokensGetLossAndGradient) {
  const TokenSequence a =
      make_sft_sequence(example("7+8", "<think>15</think><answer>15</answer>"), *chat_, *tokenizer_)
          .value();
  const TokenSequence b =
      make_sft_sequence(example("12*3+1", "<think>36, 37</think><answer>37</answer>"), *chat_,
                        *tokenizer_)
          .value();
  const PackedBatch batch = pack_sequences({&a, &b}, tokenizer_->pad_id());
  const int64_t n = 2, t = batch.input_ids.size(1), v = 272;
  EXPECT_EQ(response_tokens(batch), int64_t(a.response.size() + b.response.size()));

  at::manual_seed(0);
  at::Tensor logits = at::randn({n, t, v}, at::kFloat).set_requires_grad(true);  // [n, T, V]
  at::Tensor loss = sft_loss_sum(logits, batch);
  loss.backward();

  // Reference: each response token j of row i is predicted by position len(prompt_i) - 1 + j.
  const at::Tensor logp = at::log_softmax(logits.detach(), -1);  // [n, T, V]
  double expected = 0;
  const TokenSequence* rows[] = {&a, &b};
  const at::Tensor grad_norm = logits.grad().abs().sum(-1);  // [n, T]
  for (int64_t i = 0; i < n; ++i) {
    const int64_t p = static_cast<int64_t>(rows[i]->prompt.size());
    const int64_t r = static_cast<int64_t>(rows[i]->response.size());
    for (int64_t j = 0; j < r; ++j) {
      expected -= logp[i][p - 1 + j][rows[i]->response[j]].item<double>();
    }
    for (int64_t pos = 0; pos < t; ++pos) {
      const bool predicts_response = pos >= p - 1 && pos < p - 1 + r;
      const double g = grad_norm[i][pos].item<double>();
      if (predicts_response) {
        EXPECT_GT(g, 0.0) << "row " << i << " position " << pos;
      } else {
        EXPECT_EQ(g, 0.0) << "row " << i << " position " << pos << " (prompt or padding)";
      }
    }
  }
  EXPECT_NEAR(loss.item<double>(), expected, 1e-3 * std::abs(expected));
}

TEST_F(SftBatchTest, PackingChangesTheLayoutNotTheLossOrTheGradients) {
  std::vector<TokenSequence> seqs;
  for (const auto& [prompt, completion] :
       std::vector<std::pair<std::string, std::string>>{
           {"7+8", "<think>15</think><answer>15</answer>"},
           {"12*3+1", "<think>36, 37</think><answer>37</answer>"},
           {"2", "<think></think><answer>2</answer>"},
           {"9*9-1", "<think>9*9=81, 81-1=80.</think><answer>80</answer>"},
           {"4+4", "<think>8</think><answer>8</answer>"}}) {
    seqs.push_back(make_sft_sequence(example(prompt, completion), *chat_, *tokenizer_).value());
  }
  const std::vector<int64_t> rows = {0, 1, 2, 3, 4};
  const int32_t pad = tokenizer_->pad_id();
  int total = 0;
  for (const TokenSequence& q : seqs) total += static_cast<int>(q.prompt.size() + q.response.size());
  // Rows one token short of everything: four documents share the first row, the shortest goes on.
  const PackedBatch packed = sft_micro_batch(seqs, rows, total - 1, pad);
  const PackedBatch one_per_row = sft_micro_batch(seqs, rows, 0, pad);
  EXPECT_EQ(one_per_row.input_ids.size(0), 5);
  ASSERT_EQ(packed.input_ids.size(0), 2);
  EXPECT_EQ(packed.attention_mask[0].max().item<int64_t>(), 4);
  EXPECT_EQ(packed.attention_mask[1].max().item<int64_t>(), 1);
  EXPECT_EQ(packed.attention_mask.ne(0).sum().item<int64_t>(), total);
  EXPECT_EQ(response_tokens(packed), response_tokens(one_per_row));

  auto config = policy::ModelConfig::from_file(std::string(FORGE_SOURCE_DIR) +
                                               "/configs/models/tiny.json");
  ASSERT_TRUE(config.ok()) << config.status();
  policy::Model model(*config, 7);
  auto loss_and_grads = [&](const PackedBatch& b) {
    model->zero_grad();
    const at::Tensor loss =
        sft_loss_sum(model->forward_packed(b.input_ids, b.attention_mask).logits, b);
    loss.backward();
    std::vector<at::Tensor> grads;
    for (const at::Tensor& p : model->parameters()) {
      grads.push_back(p.grad().defined() ? p.grad().clone() : at::zeros_like(p));
    }
    return std::make_pair(loss.item<double>(), grads);
  };
  const auto [packed_loss, packed_grads] = loss_and_grads(packed);
  const auto [loss, grads] = loss_and_grads(one_per_row);
  EXPECT_NEAR(packed_loss, loss, 1e-5 * std::abs(loss));
  double max_diff = 0, max_grad = 0;
  for (size_t i = 0; i < grads.size(); ++i) {
    max_diff = std::max(max_diff, (packed_grads[i] - grads[i]).abs().max().item<double>());
    max_grad = std::max(max_grad, grads[i].abs().max().item<double>());
  }
  EXPECT_GT(max_grad, 0.0);
  EXPECT_LT(max_diff, 1e-4 * max_grad);
}

TEST_F(SftBatchTest, MicroBatchesGroupSequencesOfSimilarLength) {
  std::vector<TokenSequence> seqs;
  for (int len : {9, 3, 7, 5, 1}) seqs.push_back(TokenSequence{{1}, std::vector<int32_t>(len, 2)});
  const auto groups = micro_batches(seqs, {0, 1, 2, 3, 4}, 2);
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0], (std::vector<int64_t>{4, 1}));
  EXPECT_EQ(groups[1], (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(groups[2], (std::vector<int64_t>{0}));
}

// ---- Grading and the report on hand-made completions -------------------------------------------

TEST(EvalGradingTest, HandMadeCompletionsAreGradedByTheExampleRuleAndTheFormatRule) {
  std::unique_ptr<reward::Grader> grader = reward::Grader::create(reward::RewardConfig{}).value();
  const ChatTemplate chat = ChatTemplate::create("r1").value();
  Example e;
  e.id = "p1";
  e.prompt = "7+8";
  e.answer = "15";
  ASSERT_TRUE(check_gradable(*grader, e).ok());
  Example unknown = e;
  unknown.rule = "no_such_rule";
  const absl::Status st = check_gradable(*grader, unknown);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("no_such_rule"), std::string::npos) << st;

  const std::vector<SampleToGrade> samples = {
      {&e, chat.response("7+8=15.</think><answer>15</answer>"), 30},  // right, well-formed
      {&e, chat.response("7+8=14.</think><answer>14</answer>"), 30},  // wrong, well-formed
      {&e, chat.response("7+8=15.</think>15"), 17},  // no answer tags: not well-formed
      {&e, chat.response("</think><answer>15</answer><answer>15</answer>"), 40},  // a tag twice
  };
  const std::vector<SampleGrade> g = grade_samples(*grader, samples).value();
  ASSERT_EQ(g.size(), 4u);
  EXPECT_TRUE(g[0].correct);
  EXPECT_TRUE(g[0].well_formed);
  EXPECT_EQ(g[0].answer, "15");
  EXPECT_EQ(g[0].tokens, 30);
  EXPECT_FALSE(g[1].correct);
  EXPECT_TRUE(g[1].well_formed);
  EXPECT_EQ(g[1].answer, "14");
  EXPECT_FALSE(g[2].well_formed);
  EXPECT_EQ(g[2].answer, "");
  EXPECT_FALSE(g[3].well_formed);
  for (const SampleGrade& s : g) EXPECT_EQ(s.error, "");
}

SampleGrade grade(bool correct, bool formed, const std::string& answer, int64_t tokens = 10) {
  SampleGrade g;
  g.correct = correct;
  g.well_formed = formed;
  g.answer = answer;
  g.tokens = tokens;
  return g;
}

TEST(EvalReportTest, MetricsFollowTheirDefinitions) {
  const SampleGrade right = grade(true, true, "15");
  const SampleGrade wrong = grade(false, true, "14");
  const SampleGrade other = grade(false, false, "13");
  const SampleGrade none = grade(false, false, "");
  std::vector<PromptResult> prompts(3);
  // Prompt 0: greedy right; low: 3 of 4 right; high: 2 of 4 right, all formed.
  prompts[0].task = "arithmetic";
  prompts[0].greedy = right;
  prompts[0].low = {right, right, wrong, right};
  prompts[0].high = {right, wrong, right, wrong};
  // Prompt 1: greedy wrong; low: one right but the majority (14, 2 votes) wrong; high: none right,
  // 2 of 4 formed.
  prompts[1].task = "arithmetic";
  prompts[1].greedy = wrong;
  prompts[1].low = {wrong, right, wrong, none};
  prompts[1].high = {wrong, other, none, wrong};
  // Prompt 2 (another task): a 1-1 tie goes to the answer that got there first (right); no answer
  // samples do not vote.
  prompts[2].task = "countdown";
  prompts[2].greedy = none;
  prompts[2].low = {none, right, other, none};
  prompts[2].high = {grade(true, true, "15", 20), none, none, none};

  const json report = eval_report(prompts);
  const json& a = report["tasks"]["arithmetic"];
  EXPECT_DOUBLE_EQ(a["greedy"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(a["pass1_t06"].get<double>(), (0.75 + 0.25) / 2);
  EXPECT_DOUBLE_EQ(a["pass1_t1"].get<double>(), (0.5 + 0.0) / 2);
  EXPECT_DOUBLE_EQ(a["pass_at_k"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(a["maj_at_k"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(a["format_rate"].get<double>(), 6.0 / 8);
  EXPECT_DOUBLE_EQ(a["response_length"].get<double>(), 10.0);
  EXPECT_EQ(a["n_prompts"].get<int>(), 2);
  EXPECT_EQ(a["k"].get<int>(), 4);
  // Per-prompt greedy 1, 0: std sqrt(0.5), over sqrt(2) prompts; pass1_t06 per prompt 0.75, 0.25.
  EXPECT_DOUBLE_EQ(a["standard_errors"]["greedy"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(a["standard_errors"]["pass1_t06"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(a["standard_errors"]["pass1_t1"].get<double>(), 0.25);

  const json& c = report["tasks"]["countdown"];
  EXPECT_DOUBLE_EQ(c["greedy"].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(c["pass1_t06"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(c["maj_at_k"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(c["pass1_t1"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(c["format_rate"].get<double>(), 0.25);
  EXPECT_DOUBLE_EQ(c["response_length"].get<double>(), (20.0 + 30.0) / 4);

  const json& all = report["all"];
  EXPECT_EQ(all["n_prompts"].get<int>(), 3);
  EXPECT_DOUBLE_EQ(all["greedy"].get<double>(), 1.0 / 3);
  EXPECT_DOUBLE_EQ(all["pass_at_k"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(all["maj_at_k"].get<double>(), 2.0 / 3);
  EXPECT_DOUBLE_EQ(all["format_rate"].get<double>(), 7.0 / 12);
}

// ---- Distillation's selection ------------------------------------------------------------------

TEST(DistillSelectTest, KeepsOnlyCorrectWellFormedResponsesDedupedAndCapped) {
  const ChatTemplate chat = ChatTemplate::create("r1").value();
  Example e;
  e.id = "a-1";
  e.prompt = "7+8";
  e.answer = "15";
  e.completion = "<think>old</think><answer>14</answer>";
  e.meta = {{"task", "arithmetic"}, {"teacher", {{"correct", false}}}};
  std::vector<std::string> responses;
  for (const char* text :
       {"x</think><answer>15</answer>", "y</think>15", "x</think><answer>15</answer>",
        "z</think><answer>14</answer>", "w</think><answer>15</answer>",
        "v</think><answer>15</answer>"}) {
    responses.push_back(chat.response(text));
  }
  const std::vector<SampleGrade> grades = {grade(true, true, "15"), grade(true, false, ""),
                                           grade(true, true, "15"), grade(false, true, "14"),
                                           grade(true, true, "15"), grade(true, true, "15")};
  DistillOptions options;
  options.max_per_prompt = 2;
  DistillStats stats;
  const std::vector<Example> kept = select_accepted(e, responses, grades, options, stats);
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].completion, "<think>x</think><answer>15</answer>");
  EXPECT_EQ(kept[0].id, "a-1#0");
  EXPECT_EQ(kept[1].completion, "<think>w</think><answer>15</answer>");
  EXPECT_EQ(kept[1].id, "a-1#4");
  EXPECT_FALSE(kept[0].meta.contains("teacher"));
  EXPECT_EQ(kept[0].meta["task"], "arithmetic");
  EXPECT_EQ(kept[1].meta["distill"]["sample"], 4);
  EXPECT_EQ(stats.samples, 6);
  EXPECT_EQ(stats.correct, 5);
  EXPECT_EQ(stats.well_formed, 5);
  EXPECT_EQ(stats.accepted_samples, 4);
  EXPECT_EQ(stats.duplicates, 1);
  EXPECT_EQ(stats.over_cap, 1);
  EXPECT_EQ(stats.kept, 2);
  EXPECT_EQ(stats.prompts_with_kept, 1);
}

TEST(DistillSelectTest, HeldOutPromptsAreTheLastOnesAndNeverTrainedOn) {
  std::vector<Example> accepted;
  for (int p = 0; p < 30; ++p) {
    for (int copy = 0; copy < (p % 2 == 0 ? 2 : 1); ++copy) {
      Example e;
      e.prompt = "p" + std::to_string(p);
      e.id = e.prompt + "#" + std::to_string(copy);
      accepted.push_back(e);
    }
  }
  std::vector<Example> train, held_out;
  split_held_out(accepted, 5, train, held_out);  // at most a tenth of 30 prompts: 3
  ASSERT_EQ(held_out.size(), 4u);                // p27, p28 (x2), p29
  EXPECT_EQ(held_out[0].prompt, "p27");
  EXPECT_EQ(held_out[3].prompt, "p29");
  EXPECT_EQ(train.size(), accepted.size() - 4);
  for (const Example& e : train) {
    for (const Example& h : held_out) EXPECT_NE(e.prompt, h.prompt);
  }
  std::vector<Example> all, none;
  split_held_out(accepted, 0, all, none);
  EXPECT_EQ(all.size(), accepted.size());
  EXPECT_TRUE(none.empty());
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
