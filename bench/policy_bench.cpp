// policy_bench: speed of the policy on this machine, as a table.
//   prefill tokens/s; decode tokens/s at batch 1/16/64 with the latent KV cache and by recomputing
//   the prefix; training forward+backward tokens/s; cache bytes per token vs plain multi-head
//   attention; and the 384-token greedy decode, cached vs recomputed (target: >= 2x).
// Usage: policy_bench [--config configs/models/tiny.json] [--threads N] [--device cpu|cuda] [--quick]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include "base/stopwatch.h"
#include "base/idle_threads.h"
#include "base/process_memory.h"
#include "policy/generate.h"
#include "policy/kv_cache.h"
#include "policy/log_probs.h"
#include "policy/model.h"
#include "policy/model_stats.h"

namespace {

using forge::seconds_since;
using forge::policy::ModelConfig;

at::Device g_device = at::kCPU;  // --device

// Waits for the device's queued work (CUDA runs asynchronously), so a timer reads what it ran.
void sync(const at::Tensor& t) {
  if (t.is_cuda()) (void)t.sum().item<double>();
}
using Clock = std::chrono::steady_clock;

at::Tensor random_ids(int64_t b, int64_t t, int64_t vocab, uint64_t seed) {
  at::Tensor ids = at::empty({b, t}, at::kLong);
  ids.random_(0, std::min<int64_t>(vocab, 256), at::detail::createCPUGenerator(seed));
  return ids.to(g_device);
}

// Prefill of `batch` prompts of `len` tokens into fresh slots. -> tokens/s
double prefill_rate(forge::policy::Model& model, int batch, int len, int reps) {
  const ModelConfig& c = model->config();
  forge::policy::KvCache::Options o;
  o.max_seq_len = len;
  o.max_slots = batch;
  o.budget_bytes = int64_t{1} << 40;
  o.device = g_device;
  auto cache = forge::policy::KvCache::create(c, o);
  at::Tensor ids = random_ids(batch, len, c.vocab_size, 1);
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    std::vector<int> slots;
    for (int i = 0; i < batch; ++i) slots.push_back(*cache->alloc());
    const auto start = Clock::now();
    sync(model->prefill(*cache, ids, at::Tensor(), slots));
    best = std::max(best, batch * len / seconds_since(start));
    for (int s : slots) cache->free(s);
  }
  return best;
}

// Greedy decode of `steps` tokens after a `prompt`-token prompt for `batch` sequences. -> tokens/s
double decode_rate(forge::policy::Model& model, int batch, int prompt, int steps, bool cached) {
  const ModelConfig& c = model->config();
  at::NoGradGuard no_grad;
  at::Tensor ids = random_ids(batch, prompt, c.vocab_size, 2);
  if (cached) {
    forge::policy::KvCache::Options o;
    o.max_seq_len = prompt + steps;
    o.max_slots = batch;
    o.budget_bytes = int64_t{1} << 40;
    o.device = g_device;
    auto cache = forge::policy::KvCache::create(c, o);
    std::vector<int> slots;
    for (int i = 0; i < batch; ++i) slots.push_back(*cache->alloc());
    at::Tensor logits = model->prefill(*cache, ids, at::Tensor(), slots);
    const auto start = Clock::now();
    for (int s = 0; s < steps; ++s) logits = model->decode_step(*cache, logits.argmax(-1), slots);
    sync(logits);
    return batch * steps / seconds_since(start);
  }
  const auto start = Clock::now();
  for (int s = 0; s < steps; ++s) {
    at::Tensor next = model->last_logits(ids).argmax(-1);  // [B]
    ids = at::cat({ids, next.unsqueeze(1)}, 1);
  }
  sync(ids);
  return batch * steps / seconds_since(start);
}

// Training forward + backward over [batch, len]. -> tokens/s
double train_rate(forge::policy::Model& model, int batch, int len, int reps) {
  const ModelConfig& c = model->config();
  model->train();
  at::Tensor ids = random_ids(batch, len + 1, c.vocab_size, 3);
  double best = 0;
  for (int r = 0; r < reps; ++r) {
    model->zero_grad();
    const auto start = Clock::now();
    forge::policy::ForwardOutput out = model->forward(ids.narrow(1, 0, len));
    at::Tensor loss = -forge::policy::token_log_probs(out.logits, ids.narrow(1, 1, len)).mean() +
                      out.aux_loss;
    loss.backward();
    sync(loss);
    best = std::max(best, batch * len / seconds_since(start));
  }
  model->eval();
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  forge::use_passive_idle_threads(argv);  // as build/forge does
  forge::keep_freed_memory_for_reuse();
  std::string config_path = std::string(FORGE_SOURCE_DIR) + "/configs/models/tiny.json";
  int threads = 0;
  bool quick = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--config") && i + 1 < argc) config_path = argv[++i];
    else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--quick")) quick = true;
    else if (!std::strcmp(argv[i], "--device") && i + 1 < argc) g_device = at::Device(argv[++i]);
    else {
      std::fprintf(stderr,
                   "usage: policy_bench [--config FILE] [--threads N] [--device D] [--quick]\n");
      return 2;
    }
  }
  auto config = ModelConfig::from_file(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "policy_bench: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  auto created = forge::policy::create_model(*config, 1);
  if (!created.ok()) {
    std::fprintf(stderr, "policy_bench: %s\n", std::string(created.status().message()).c_str());
    return 2;
  }
  forge::policy::Model model = *created;
  model->to(g_device);
  model->eval();
  if (threads > 0) at::set_num_threads(threads);
  else at::set_num_threads(static_cast<int>(std::thread::hardware_concurrency()));
  const forge::policy::ModelStats stats = forge::policy::model_stats(*config);

  std::printf("policy_bench: %s (%.2fM params, %.2fM active), %d torch threads\n\n",
              config_path.c_str(), stats.total_params / 1e6, stats.active_params / 1e6,
              at::get_num_threads());
  std::printf("| measurement | value |\n|---|---|\n");
  const int reps = quick ? 1 : 3;
  std::printf("| prefill tokens/s (8 x 128) | %.0f |\n", prefill_rate(model, 8, 128, reps));
  const int prompt = 32, steps = quick ? 8 : 32;
  for (int batch : {1, 16, 64}) {
    const double cached = decode_rate(model, batch, prompt, steps, true);
    const double recomputed = decode_rate(model, batch, prompt, steps, false);
    std::printf("| decode tokens/s, batch %d, %d-token prompt + %d: cache | %.0f |\n", batch, prompt,
                steps, cached);
    std::printf("| decode tokens/s, batch %d, %d-token prompt + %d: no cache | %.0f |\n", batch,
                prompt, steps, recomputed);
  }
  std::printf("| train forward+backward tokens/s (8 x 128) | %.0f |\n", train_rate(model, 8, 128, reps));
  const int64_t bytes = 4;
  std::printf("| cache bytes/token, MLA latent (fp32) | %lld |\n",
              static_cast<long long>(stats.kv_cache_values_per_token * bytes));
  std::printf("| cache bytes/token, plain MHA equivalent (fp32) | %lld (%.1fx more) |\n",
              static_cast<long long>(stats.mha_cache_values_per_token * bytes),
              static_cast<double>(stats.mha_cache_values_per_token) / stats.kv_cache_values_per_token);

  // The acceptance check: 384-token greedy decoding, cached vs recomputing the prefix.
  const int new_tokens = quick ? 128 : 384;
  forge::policy::GenerateOptions options;
  options.max_new_tokens = new_tokens;
  options.sampling.temperature = 0.0;
  const std::vector<std::vector<int32_t>> bos = {{config->bos_token_id}};
  auto start = Clock::now();
  auto with_cache = forge::policy::generate(*model, bos, options);
  const double t_cache = seconds_since(start);
  options.use_cache = false;
  start = Clock::now();
  auto without = forge::policy::generate(*model, bos, options);
  const double t_recompute = seconds_since(start);
  if (!with_cache.ok() || !without.ok()) {
    std::fprintf(stderr, "policy_bench: generate failed\n");
    return 1;
  }
  const bool same = (*with_cache)[0].tokens == (*without)[0].tokens;
  std::printf("| %d-token greedy decode, cache | %.2f s (%.0f tokens/s) |\n", new_tokens, t_cache,
              new_tokens / t_cache);
  std::printf("| %d-token greedy decode, recompute | %.2f s (%.0f tokens/s) |\n", new_tokens,
              t_recompute, new_tokens / t_recompute);
  std::printf("| cache speedup (target >= 2x) | %.1fx %s; tokens identical: %s |\n",
              t_recompute / t_cache, t_recompute / t_cache >= 2.0 ? "PASS" : "FAIL",
              same ? "yes" : "NO");
  return 0;
}
