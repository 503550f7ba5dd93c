// The R1 recipe's pieces in process (the CLI stages on real files are recipe_test.cc):
//  * SFT's targets are the completion + eos, the prompt and padding get no loss and no gradient,
//    and the loss equals a per-token reference; packing changes the layout, not the loss;
//  * eval's grading of hand-made completions and its report arithmetic (exact values);
//  * distillation's selection keeps only correct, well-formed responses, deduplicated and capped,
//    and never trains on its held-out prompts.
#include <cmath>
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

namespace forge::rl {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

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

// A held-out set where every sample is well formed has no sampling error: its standard error is
// exactly 0 (scripts/demo.sh reports no margin in standard errors for such a bar), not a rounding
// residue that turns a 0.02 margin into 10^15 standard errors.
TEST(EvalReportTest, AConstantMetricHasAZeroStandardError) {
  const SampleGrade right = grade(true, true, "15");
  std::vector<PromptResult> prompts(1000);
  for (PromptResult& p : prompts) {
    p.task = "arithmetic";
    p.greedy = right;
    p.low = {right, right, right, right};
    p.high = {right, right, right, right};
  }
  const json report = eval_report(prompts);
  EXPECT_EQ(report["all"]["format_rate"].get<double>(), 1.0);
  EXPECT_EQ(report["all"]["standard_errors"]["format_rate"].get<double>(), 0.0);
  EXPECT_EQ(report["all"]["standard_errors"]["greedy"].get<double>(), 0.0);
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

}  // namespace
}  // namespace forge::rl
