// partial_rollout_bench: what a weight update that lands mid-generation costs under each partial
// rollout mode (rollout.partial_rollouts), on the demo's GRPO step shape: 16 prompts of ~24 tokens
// x n = 8 samples, up to 96 new tokens, temperature 1, configs/models/tiny.json. Weights A
// (seed 1) generate; once every sequence has ~32 tokens, weights B = A + lr * sign(noise) (the size
// of one Adam step at the demo's lr, 2.5e-4) are published as version 1.
//   off        the request stays on A (pinned): no tokens from B
//   recompute  running sequences move to B after their caches are rewritten by one prefill of B
//   keep       running sequences move to B and decode over the latents A wrote
// For each mode: the generation's wall time (median of --rounds), the tokens sampled by B, the
// tokens re-read by the recompute prefill, and the mean / max |engine log-prob - full forward| over
// the tokens B sampled (for `off`, over A's tokens against A): how far the behaviour log-probs the
// trainer receives are from what the weights that sampled them give over the whole sequence.
// Prints a markdown table and the load average (the numbers depend on what else runs).
//
// Usage: partial_rollout_bench [--threads N] [--rounds N] [--lr X]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include "base/idle_threads.h"
#include "base/process_memory.h"
#include "base/stopwatch.h"
#include "bench/load_average.h"
#include "policy/byte_tokenizer.h"
#include "policy/log_probs.h"
#include "policy/model.h"
#include "rollout/engine.h"

namespace forge::rollout {
namespace {

using Clock = std::chrono::steady_clock;

using forge::bench::load_average;

policy::Model tiny_model(uint64_t seed) {
  auto config = policy::ModelConfig::from_file(std::string(FORGE_SOURCE_DIR) +
                                               "/configs/models/tiny.json");
  if (!config.ok()) {
    std::fprintf(stderr, "partial_rollout_bench: %s\n", config.status().ToString().c_str());
    std::exit(1);
  }
  policy::Model model = policy::create_model(*config, seed).value();
  model->eval();
  return model;
}

// A's weights moved by lr * sign(noise): the size of one Adam step.
void one_step_away(policy::ModelImpl& from, policy::ModelImpl& to, double lr) {
  at::NoGradGuard no_grad;
  at::Generator gen = at::detail::createCPUGenerator(7);
  auto src = from.named_tensors();
  auto dst = to.named_tensors();
  for (size_t i = 0; i < dst.size(); ++i) {
    at::Tensor noise = at::empty(src[i].second.sizes(), at::kFloat).normal_(0.0, 1.0, gen);
    const bool bias = src[i].first.find("e_score_correction_bias") != std::string::npos;
    dst[i].second.copy_(bias ? src[i].second : src[i].second + lr * noise.sign());
  }
}

GenerationRequest demo_step(PartialRollout mode) {
  GenerationRequest r;
  for (int p = 0; p < 16; ++p) {
    std::vector<int32_t> ids = {policy::ByteTokenizer::kBos};
    for (int j = 0; j < 23; ++j) ids.push_back('0' + (7 * p + 3 * j) % 10);
    r.prompts.push_back(ids);
  }
  r.sampling.n = 8;
  r.sampling.max_new_tokens = 96;
  r.sampling.seed = 3;
  r.partial = mode;
  return r;
}

// Full-forward log-probs of every generated token under `model`, at temperature 1.
std::vector<float> full_forward(policy::ModelImpl& model, const Completion& c) {
  std::vector<int64_t> ids(c.prompt_token_ids.begin(), c.prompt_token_ids.end());
  ids.insert(ids.end(), c.token_ids.begin(), c.token_ids.end());
  at::NoGradGuard no_grad;
  const int64_t p = static_cast<int64_t>(c.prompt_token_ids.size());
  const int64_t r = static_cast<int64_t>(c.token_ids.size());
  at::Tensor logits = model.forward(at::tensor(ids, at::kLong).unsqueeze(0)).logits[0];  // [T, V]
  at::Tensor lp = policy::token_log_probs(
      logits.narrow(0, p - 1, r),
      at::tensor(std::vector<int64_t>(c.token_ids.begin(), c.token_ids.end()), at::kLong));
  return std::vector<float>(lp.data_ptr<float>(), lp.data_ptr<float>() + r);
}

struct Row {
  std::vector<double> seconds;
  int64_t tokens = 0, from_b = 0, reread = 0;
  double sum = 0, max = 0;
  int64_t compared = 0;
};

void run_once(PartialRollout mode, policy::ModelImpl& a, policy::ModelImpl& b, Row& row) {
  auto engine = Engine::create(tiny_model(1), std::make_shared<policy::ByteTokenizer>(), {}).value();
  const GenerationRequest request = demo_step(mode);
  const int64_t sequences = static_cast<int64_t>(request.prompts.size()) * request.sampling.n;
  const auto start = Clock::now();
  std::promise<absl::StatusOr<std::vector<Completion>>> result;
  std::thread runner([&] { result.set_value(engine->generate(request)); });
  while (engine->stats().tokens_generated < sequences * 32) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));  // not a busy wait: 2 cores
  }
  auto spare = engine->weights().acquire_spare().value();
  {
    at::NoGradGuard no_grad;
    auto dst = spare->model->named_tensors();
    auto src = b.named_tensors();
    for (size_t i = 0; i < dst.size(); ++i) dst[i].second.copy_(src[i].second);
  }
  engine->weights().publish(spare, 1);
  runner.join();
  row.seconds.push_back(seconds_since(start));
  const std::vector<Completion> out = result.get_future().get().value();
  for (const Completion& c : out) {
    row.tokens += static_cast<int64_t>(c.token_ids.size());
    size_t j = 0;
    while (j < c.token_versions.size() && c.token_versions[j] == 0) ++j;
    row.from_b += static_cast<int64_t>(c.token_ids.size() - j);
    if (mode == PartialRollout::kRecompute && j > 0 && j < c.token_ids.size()) {
      row.reread += static_cast<int64_t>(c.prompt_token_ids.size() + j - 1);
    }
    if (row.seconds.size() > 1) continue;  // the log-probs are the same every round
    const bool on_b = j < c.token_ids.size();
    const std::vector<float> want = full_forward(on_b ? b : a, c);
    for (size_t t = on_b ? j : 0; t < want.size(); ++t) {
      const double d = std::abs(c.logprobs[t] - want[t]);
      row.sum += d;
      row.max = std::max(row.max, d);
      ++row.compared;
    }
  }
}

int main_impl(int argc, char** argv) {
  int threads = 1, rounds = 3;
  double lr = 2.5e-4;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--threads")) threads = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--rounds")) rounds = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--lr")) lr = std::atof(argv[i + 1]);
  }
  at::set_num_threads(threads);
  policy::Model a = tiny_model(1), b = tiny_model(1);
  one_step_away(*a, *b, lr);
  std::printf("partial rollouts: 16 prompts x 8 samples, <= 96 new tokens, tiny MoE, %d thread(s),"
              " update of lr %.1e lands at ~32 tokens/sequence; load %s\n\n",
              threads, lr, load_average().c_str());
  std::printf("| mode | seconds (median of %d) | tokens | sampled by B | re-read by prefill |"
              " mean abs dlogp | max abs dlogp |\n|---|---:|---:|---:|---:|---:|---:|\n",
              rounds);
  const std::pair<const char*, PartialRollout> modes[] = {{"off", PartialRollout::kOff},
                                                          {"recompute", PartialRollout::kRecompute},
                                                          {"keep", PartialRollout::kKeep}};
  for (const auto& [name, mode] : modes) {
    Row row;
    for (int r = 0; r < rounds; ++r) run_once(mode, *a, *b, row);
    std::sort(row.seconds.begin(), row.seconds.end());
    const int64_t n = static_cast<int64_t>(rounds);
    std::printf("| %s | %.2f | %lld | %lld | %lld | %.2e | %.2e |\n", name,
                row.seconds[row.seconds.size() / 2], static_cast<long long>(row.tokens / n),
                static_cast<long long>(row.from_b / n), static_cast<long long>(row.reread / n),
                row.compared > 0 ? row.sum / static_cast<double>(row.compared) : 0.0, row.max);
  }
  std::printf("\nload after: %s\n", load_average().c_str());
  return 0;
}

}  // namespace
}  // namespace forge::rollout

int main(int argc, char** argv) {
  forge::use_passive_idle_threads(argv);  // as build/forge does
  forge::keep_freed_memory_for_reuse();
  return forge::rollout::main_impl(argc, argv);
}
