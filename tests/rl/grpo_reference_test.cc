// GRPO advantages, policy loss and gradients == a Python reference of verl's and TRL's formulas, run
// by Debian's python3-torch (tests/rl/reference/grpo_reference.py). Tolerance: 1e-9 absolute in
// float64. Skipped, with a message, where python3-torch is absent.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "rl/grpo/advantages.h"
#include "rl/grpo/policy_loss.h"

namespace forge::rl {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr double kTol = 1e-9;
const char* const kPython = "/usr/bin/python3";

bool python_torch_available() {
  const std::string cmd = std::string(kPython) +
                          " -I -S -c \"import sys; sys.path.append('/usr/lib/python3/dist-packages');"
                          " import torch\" >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

json run_reference(const json& cases) {
  const fs::path dir = fs::temp_directory_path() / ("forge_grpo_ref_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "in.json") << json{{"cases", cases}}.dump();
  const std::string cmd = std::string(kPython) + " -I -S " + FORGE_SOURCE_DIR +
                          "/tests/rl/reference/grpo_reference.py < " + (dir / "in.json").string() +
                          " > " + (dir / "out.json").string();
  const int rc = std::system(cmd.c_str());
  std::ifstream in(dir / "out.json");
  std::stringstream text;
  text << in.rdbuf();
  fs::remove_all(dir);
  if (rc != 0) ADD_FAILURE() << "reference script failed: " << cmd;
  return rc == 0 ? json::parse(text.str())["results"] : json::array();
}

json to_json(const at::Tensor& t) {
  const at::Tensor c = t.to(at::kDouble).contiguous();
  json rows = json::array();
  for (int64_t i = 0; i < c.size(0); ++i) {
    json row = json::array();
    for (int64_t j = 0; j < c.size(1); ++j) row.push_back(c[i][j].item<double>());
    rows.push_back(row);
  }
  return rows;
}

at::Tensor from_json(const json& rows) {
  std::vector<double> flat;
  for (const auto& row : rows) for (double v : row) flat.push_back(v);
  return at::tensor(flat, at::kDouble).view({static_cast<int64_t>(rows.size()), -1});
}

// A batch of 3 groups x 2 completions, right-padded to 7 tokens, with ratios far enough from 1
// that both clip bounds and the dual clip are exercised.
struct Batch {
  at::Tensor log_probs_new, log_probs_old, log_probs_ref, log_probs_rollout, advantages, mask,
      entropy;
};

Batch make_batch(uint64_t seed) {
  at::manual_seed(seed);
  const int64_t n = 6, t = 7;
  Batch b;
  b.log_probs_new = -at::rand({n, t}, at::kDouble) * 3 - 0.05;
  b.log_probs_old = b.log_probs_new + (at::rand({n, t}, at::kDouble) - 0.5) * 0.9;
  b.log_probs_ref = b.log_probs_new + (at::rand({n, t}, at::kDouble) - 0.5) * 1.5;
  b.log_probs_rollout = b.log_probs_old + (at::rand({n, t}, at::kDouble) - 0.5) * 0.6;
  b.entropy = at::rand({n, t}, at::kDouble) * 2;
  const std::vector<int64_t> lengths = {7, 3, 5, 1, 6, 4};
  b.mask = at::zeros({n, t}, at::kDouble);
  for (int64_t i = 0; i < n; ++i) b.mask[i].slice(0, 0, lengths[i]).fill_(1.0);
  const at::Tensor scores = at::tensor({1.0, 0.0, 0.2, 0.9, 0.0, 0.0}, at::kDouble);
  const at::Tensor groups = at::tensor({0, 0, 1, 1, 2, 2}, at::kLong);
  b.advantages = compute_advantages(AdvantageEstimator::kGrpo, scores, groups, b.mask)
                     .to(at::kDouble);
  b.advantages = b.advantages + (at::rand({n, t}, at::kDouble) - 0.5) * b.mask;  // vary per token
  return b;
}

struct Case {
  std::string name;
  std::string agg, kl;
  double kl_coef, clip_c, tis_cap, entropy_coef;
};

json config_json(const Case& c) {
  return {{"clip_ratio_low", 0.2}, {"clip_ratio_high", 0.28}, {"clip_ratio_c", c.clip_c},
          {"agg", c.agg},          {"norm_length", 0},        {"kl_coef", c.kl_coef},
          {"kl_estimator", c.kl},  {"entropy_coef", c.entropy_coef},
          {"tis_cap", c.tis_cap}};
}

PolicyLossConfig config_of(const Case& c) {
  PolicyLossConfig config;
  config.clip_ratio_low = 0.2;
  config.clip_ratio_high = 0.28;
  config.clip_ratio_c = c.clip_c;
  config.agg = parse_loss_agg_mode(c.agg).value();
  config.kl_coef = c.kl_coef;
  config.kl_estimator = parse_kl_estimator(c.kl).value();
  config.entropy_coef = c.entropy_coef;
  config.tis_cap = c.tis_cap;
  return config;
}

std::vector<Case> all_cases() {
  std::vector<Case> cases;
  for (const char* agg : {"token-mean", "seq-mean-token-mean", "seq-mean-token-sum",
                          "seq-mean-token-sum-norm"}) {
    for (const char* kl : {"k1", "k2", "k3"}) {
      cases.push_back({std::string(agg) + "/" + kl, agg, kl, 0.05, 0, 0, 0});
    }
    cases.push_back({std::string(agg) + "/no-kl", agg, "k3", 0, 0, 0, 0});
    cases.push_back({std::string(agg) + "/dual-clip", agg, "k3", 0, 3.0, 0, 0});
    cases.push_back({std::string(agg) + "/tis", agg, "k3", 0, 0, 2.0, 0});
    cases.push_back({std::string(agg) + "/entropy", agg, "k3", 0.01, 0, 0, 0.01});
  }
  return cases;
}

void expect_close(const at::Tensor& got, const json& want, const std::string& what) {
  const at::Tensor w = from_json(want);
  const double diff = (got.to(at::kDouble) - w).abs().max().item<double>();
  EXPECT_LT(diff, kTol) << what << ": max abs diff " << diff;
}

TEST(GrpoReference, PolicyLossAndGradientsMatchVerlAndTrl) {
  if (!python_torch_available()) GTEST_SKIP() << "Debian's python3-torch is not installed";
  const Batch b = make_batch(7);
  const std::vector<Case> cases = all_cases();
  json requests = json::array();
  for (const Case& c : cases) {
    requests.push_back({{"name", c.name},
                        {"config", config_json(c)},
                        {"inputs",
                         {{"log_probs_new", to_json(b.log_probs_new)},
                          {"log_probs_old", to_json(b.log_probs_old)},
                          {"log_probs_ref", to_json(b.log_probs_ref)},
                          {"log_probs_rollout", to_json(b.log_probs_rollout)},
                          {"advantages", to_json(b.advantages)},
                          {"mask", to_json(b.mask)},
                          {"entropy", to_json(b.entropy)}}}});
  }
  const json results = run_reference(requests);
  ASSERT_EQ(results.size(), cases.size());
  int trl_compared = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].name);
    PolicyLossInputs in;
    in.log_probs_new = b.log_probs_new.clone().requires_grad_(true);
    in.log_probs_old = b.log_probs_old;
    in.log_probs_ref = b.log_probs_ref;
    in.log_probs_rollout = b.log_probs_rollout;
    in.advantages = b.advantages;
    in.mask = b.mask;
    at::Tensor entropy = b.entropy.clone().requires_grad_(true);
    in.entropy = entropy;
    PolicyLossOutput out = compute_policy_loss(in, config_of(cases[i]));
    out.loss.backward();

    const json& verl = results[i]["verl"];
    EXPECT_NEAR(out.loss.item<double>(), verl["loss"].get<double>(), kTol);
    EXPECT_NEAR(out.pg_loss, verl["pg_loss"].get<double>(), kTol);
    EXPECT_NEAR(out.kl, verl["kl"].get<double>(), kTol);
    EXPECT_NEAR(out.entropy, verl["entropy"].get<double>(), kTol);
    EXPECT_NEAR(out.clip_fraction, verl["clip_fraction"].get<double>(), kTol);
    EXPECT_NEAR(out.clip_fraction_lower, verl["clip_fraction_lower"].get<double>(), kTol);
    expect_close(in.log_probs_new.grad(), verl["grad"], "d loss / d log_probs_new (verl)");
    // With entropy_coef 0 no gradient reaches the entropy (the reference's is all zeros).
    const at::Tensor entropy_grad =
        entropy.grad().defined() ? entropy.grad() : at::zeros_like(entropy);
    expect_close(entropy_grad, verl["entropy_grad"], "d loss / d entropy (verl)");

    const json& trl = results[i]["trl"];
    if (!trl.is_null()) {
      ++trl_compared;
      EXPECT_NEAR(out.loss.item<double>(), trl["loss"].get<double>(), kTol);
      expect_close(in.log_probs_new.grad(), trl["grad"], "d loss / d log_probs_new (TRL)");
    }
  }
  EXPECT_GE(trl_compared, 6);  // bnpo/grpo/dr_grpo with and without KL
  // The batch really exercises clipping (else the comparison above proves little).
  PolicyLossInputs in{b.log_probs_new, b.log_probs_old, b.advantages, b.mask};
  PolicyLossConfig dual;
  dual.clip_ratio_c = 1.2;
  PolicyLossOutput out = compute_policy_loss(in, dual);
  EXPECT_GT(out.clip_fraction, 0.05);
  EXPECT_GT(out.clip_fraction_lower, 0.0);
}

TEST(GrpoReference, AdvantagesMatchVerl) {
  if (!python_torch_available()) GTEST_SKIP() << "Debian's python3-torch is not installed";
  const at::Tensor scores = at::tensor({1.0, 0.0, 1.0, 0.5, 0.5, 0.5, 0.0, 1.0, 0.25}, at::kDouble);
  // Groups of 4, 3 (all equal), 1 (single), 1; interleaved ids to prove contiguity is not needed.
  const std::vector<int64_t> ids = {3, 3, 7, 3, 7, 7, 3, 9, 11};
  at::Tensor mask = at::ones({9, 5}, at::kDouble);
  mask[1].slice(0, 2).zero_();
  mask[4].slice(0, 1).zero_();
  json requests = json::array();
  const std::vector<std::string> names = {"grpo", "dr_grpo", "rloo", "reinforce_plus_plus",
                                          "reinforce_plus_plus_baseline"};
  for (const auto& name : names) {
    requests.push_back({{"name", name},
                        {"kind", "advantages"},
                        {"estimator", name},
                        {"eps", 1e-6},
                        {"inputs",
                         {{"scores", std::vector<double>(scores.data_ptr<double>(),
                                                         scores.data_ptr<double>() + 9)},
                          {"group_ids", ids},
                          {"mask", to_json(mask)}}}});
  }
  const json results = run_reference(requests);
  ASSERT_EQ(results.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    const at::Tensor adv = compute_advantages(parse_advantage_estimator(names[i]).value(), scores,
                                              at::tensor(ids, at::kLong), mask);
    // float32 inside compute_advantages: looser tolerance here.
    const double diff = (adv.to(at::kDouble) - from_json(results[i]["advantages"])).abs().max()
                            .item<double>();
    EXPECT_LT(diff, 1e-5) << names[i];
  }
}

TEST(GrpoLoss, MicroBatchesWithGlobalDenominatorsEqualTheWholeBatch) {
  const Batch b = make_batch(11);
  for (const char* agg : {"token-mean", "seq-mean-token-mean", "seq-mean-token-sum",
                          "seq-mean-token-sum-norm"}) {
    SCOPED_TRACE(agg);
    PolicyLossConfig config;
    config.agg = parse_loss_agg_mode(agg).value();
    config.kl_coef = 0.1;
    config.clip_ratio_c = 3.0;

    at::Tensor whole = b.log_probs_new.clone().requires_grad_(true);
    PolicyLossOutput full = compute_policy_loss(
        {whole, b.log_probs_old, b.advantages, b.mask, b.log_probs_ref}, config);
    full.loss.backward();

    at::Tensor parts = b.log_probs_new.clone().requires_grad_(true);
    double summed = 0;
    for (int64_t start : {0, 4}) {
      const int64_t len = start == 0 ? 4 : 2;
      auto sl = [&](const at::Tensor& t) { return t.narrow(0, start, len); };
      PolicyLossInputs in{sl(parts), sl(b.log_probs_old), sl(b.advantages), sl(b.mask),
                          sl(b.log_probs_ref)};
      in.total_tokens = b.mask.sum().item<double>();
      in.total_sequences = 6;
      PolicyLossOutput out = compute_policy_loss(in, config);
      out.loss.backward();
      summed += out.loss.item<double>();
    }
    EXPECT_NEAR(summed, full.loss.item<double>(), 1e-12);
    EXPECT_LT((parts.grad() - whole.grad()).abs().max().item<double>(), 1e-12);
  }
}

TEST(GrpoLoss, UnknownNamesAreErrorsListingTheChoices) {
  EXPECT_FALSE(parse_loss_agg_mode("token_mean").ok());
  EXPECT_NE(std::string(parse_loss_agg_mode("x").status().message()).find("seq-mean-token-sum-norm"),
            std::string::npos);
  EXPECT_FALSE(parse_kl_estimator("low_var_kl").ok());
  EXPECT_FALSE(parse_advantage_estimator("ppo").ok());
}

TEST(Advantages, GroupOfIdenticalRewardsHasZeroAdvantage) {
  const at::Tensor scores = at::tensor({1.0f, 1.0f, 1.0f, 0.0f, 1.0f, 0.5f});
  const at::Tensor groups = at::tensor({0, 0, 0, 1, 1, 1}, at::kLong);
  const at::Tensor mask = at::ones({6, 3});
  const at::Tensor adv = compute_advantages(AdvantageEstimator::kGrpo, scores, groups, mask);
  EXPECT_EQ(adv.narrow(0, 0, 3).abs().max().item<float>(), 0.0f);
  // The better completion of group 1 gets the positive advantage, and advantages are normalised.
  EXPECT_GT(adv[4][0].item<float>(), 0.0f);
  EXPECT_LT(adv[3][0].item<float>(), 0.0f);
  EXPECT_NEAR(adv.narrow(0, 3, 3).select(1, 0).std().item<float>(), 1.0f, 1e-4);
}

}  // namespace
}  // namespace forge::rl
