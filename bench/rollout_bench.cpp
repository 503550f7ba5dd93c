// rollout_bench: what the rollout side of an RL step costs.
//  1. Generation tokens/s with 1, 8 and 64 concurrent requests, calling the Engine in-process and
//     through gRPC (a RolloutWorker on loopback, one Client per concurrent caller), and the gRPC
//     overhead. Model: configs/models/tiny.json; each request is one prompt of 16 tokens, n = 1,
//     --tokens new tokens (eos may end one earlier; only generated tokens count).
//  2. Pushing the tiny model's weights to 2 workers with rollout::Pool (first push, which builds the
//     workers' spare weight sets, and the mean of the next ones).
//  3. Weight sync GB/s for a ~100M-parameter synthetic model (fp32) to 1 and 2 workers on this
//     host, over TCP loopback and over Unix sockets (--pushes pushes each; the first is apart).
// Prints markdown tables and the machine's load average (the numbers depend on what else runs).
//
// Usage: rollout_bench [--threads N] [--tokens N] [--rounds N] [--pushes N] [--skip-sync]
#include <algorithm>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <ATen/Parallel.h>

#include "base/stopwatch.h"
#include "base/idle_threads.h"
#include "base/process_memory.h"
#include "bench/load_average.h"
#include "policy/byte_tokenizer.h"
#include "policy/model.h"
#include "policy/model_stats.h"
#include "rollout/client.h"
#include "rollout/engine.h"
#include "rollout/pool.h"
#include "rollout/worker_server.h"

namespace forge::rollout {
namespace {

using Clock = std::chrono::steady_clock;

using forge::bench::load_average;

policy::ModelConfig config_from(const nlohmann::json& overrides) {
  auto config = policy::ModelConfig::from_file(std::string(FORGE_SOURCE_DIR) + "/configs/models/tiny.json");
  if (!config.ok() || !config->apply_overrides(overrides).ok() || !config->validate().ok()) {
    std::fprintf(stderr, "rollout_bench: bad model config\n");
    std::exit(1);
  }
  return *config;
}

std::unique_ptr<Engine> make_engine(const policy::ModelConfig& config, uint64_t seed,
                                    int max_batch_size) {
  EngineOptions options;
  options.max_batch_size = max_batch_size;
  options.cache_bytes = int64_t{512} << 20;
  options.max_seq_len = 256;
  auto engine = Engine::create(policy::Model(config, seed), std::make_shared<policy::ByteTokenizer>(),
                               options);
  if (!engine.ok()) {
    std::fprintf(stderr, "rollout_bench: %s\n", std::string(engine.status().message()).c_str());
    std::exit(1);
  }
  return std::move(engine).value();
}

GenerationRequest request_for(int caller, int round, int tokens) {
  GenerationRequest r;
  std::vector<int32_t> prompt = {policy::ByteTokenizer::kBos};
  for (int j = 0; j < 15; ++j) prompt.push_back('a' + (caller * 7 + j * 3 + round) % 26);
  r.prompts = {prompt};
  r.sampling.max_new_tokens = tokens;
  r.sampling.seed = static_cast<uint64_t>(caller) * 1000 + round;
  return r;
}

// `concurrency` callers, each running `rounds` requests back to back through generate(caller,
// request); returns generated tokens/s.
template <typename Generate>
double tokens_per_second(int concurrency, int rounds, int tokens, const Generate& generate) {
  std::atomic<int64_t> generated{0};
  std::atomic<bool> failed{false};
  const auto start = Clock::now();
  std::vector<std::thread> callers;
  for (int c = 0; c < concurrency; ++c) {
    callers.emplace_back([&, c] {
      for (int r = 0; r < rounds; ++r) {
        absl::StatusOr<std::vector<Completion>> out = generate(c, request_for(c, r, tokens));
        if (!out.ok()) {
          std::fprintf(stderr, "rollout_bench: %s\n", std::string(out.status().message()).c_str());
          failed = true;
          return;
        }
        for (const Completion& x : *out) generated += static_cast<int64_t>(x.token_ids.size());
      }
    });
  }
  for (auto& t : callers) t.join();
  if (failed) std::exit(1);
  return generated.load() / seconds_since(start);
}

void generation_table(int tokens, int rounds) {
  const policy::ModelConfig config = config_from(nlohmann::json::object());
  std::printf("\n## Generation (tiny model: %lld params, %d new tokens per request, %d torch threads)\n\n",
              static_cast<long long>(policy::model_stats(config).total_params), tokens,
              at::get_num_threads());
  std::printf("| concurrent requests | in-process tok/s | gRPC tok/s | gRPC overhead |\n");
  std::printf("|---:|---:|---:|---:|\n");
  for (int concurrency : {1, 8, 64}) {
    const int r = concurrency == 1 ? rounds * 4 : concurrency == 8 ? rounds * 2 : rounds;
    // Warm-up, then each mode on a fresh engine of its own.
    double local = 0, remote = 0;
    {
      auto engine = make_engine(config, 1, 64);
      auto call = [&](int, const GenerationRequest& q) { return engine->generate(q); };
      tokens_per_second(concurrency, 1, 8, call);
      local = tokens_per_second(concurrency, r, tokens, call);
    }
    {
      auto worker = RolloutWorker::start("127.0.0.1:0", make_engine(config, 1, 64));
      if (!worker.ok()) std::exit(1);
      std::vector<std::unique_ptr<Client>> clients;
      for (int c = 0; c < concurrency; ++c) clients.push_back(std::make_unique<Client>((*worker)->address()));
      auto call = [&](int caller, const GenerationRequest& q) { return clients[caller]->generate(q); };
      tokens_per_second(concurrency, 1, 8, call);
      remote = tokens_per_second(concurrency, r, tokens, call);
    }
    std::printf("| %d | %.0f | %.0f | %+.1f%% |\n", concurrency, local, remote,
                100.0 * (local - remote) / local);
    std::fflush(stdout);
  }
}

// Pushes `model`'s weights to `workers` new workers `pushes` times; returns seconds of each push.
// The workers listen on TCP loopback, or on Unix sockets when `unix_socket`.
std::vector<double> push_times(const policy::ModelConfig& config, int workers, int pushes,
                               int64_t* bytes, bool unix_socket = false) {
  std::vector<std::unique_ptr<RolloutWorker>> servers;
  std::vector<std::string> addresses;
  for (int w = 0; w < workers; ++w) {
    const std::string listen =
        unix_socket ? "unix:/tmp/rollout_bench." + std::to_string(getpid()) + "." + std::to_string(w)
                    : "127.0.0.1:0";
    auto worker = RolloutWorker::start(listen, make_engine(config, 1, 8));
    if (!worker.ok()) {
      std::fprintf(stderr, "rollout_bench: %s\n", std::string(worker.status().message()).c_str());
      std::exit(1);
    }
    addresses.push_back((*worker)->address());
    servers.push_back(std::move(worker).value());
  }
  auto pool = Pool::create(addresses);
  policy::Model trainer(config, 2);
  std::vector<double> out;
  for (int i = 0; i < pushes; ++i) {
    auto pushed = (*pool)->push_weights(trainer->named_tensors(), i + 1);
    if (!pushed.ok() || !pushed->failed.empty()) {
      std::fprintf(stderr, "rollout_bench: push failed: %s\n",
                   pushed.ok() ? pushed->failed[0].c_str() : std::string(pushed.status().message()).c_str());
      std::exit(1);
    }
    *bytes = pushed->bytes;
    out.push_back(pushed->seconds);
  }
  return out;
}

double mean_after_first(const std::vector<double>& v) {
  double s = 0;
  for (size_t i = 1; i < v.size(); ++i) s += v[i];
  return v.size() > 1 ? s / (v.size() - 1) : v[0];
}

void sync_tables(bool skip_big, int big_pushes) {
  int64_t bytes = 0;
  const policy::ModelConfig tiny = config_from(nlohmann::json::object());
  const std::vector<double> t = push_times(tiny, 2, 6, &bytes);
  std::printf("\n## Weight push, tiny model (%.1f MB fp32) to 2 workers (rollout::Pool, 4 MiB chunks)\n\n",
              bytes / 1e6);
  std::printf("| push | time | per-worker rate |\n|---|---:|---:|\n");
  std::printf("| first (workers build their spare weight set) | %.1f ms | %.2f GB/s |\n", t[0] * 1e3,
              bytes / t[0] / 1e9);
  std::printf("| next %zu, mean | %.1f ms | %.2f GB/s |\n", t.size() - 1, mean_after_first(t) * 1e3,
              bytes / mean_after_first(t) / 1e9);
  std::fflush(stdout);
  if (skip_big) return;

  const policy::ModelConfig big = config_from({{"vocab_size", 24000}, {"hidden_size", 768},
                                               {"num_hidden_layers", 6}, {"intermediate_size", 2048},
                                               {"moe_intermediate_size", 512}, {"q_lora_rank", 256},
                                               {"kv_lora_rank", 128}, {"num_attention_heads", 12},
                                               {"num_key_value_heads", 12}, {"qk_nope_head_dim", 64},
                                               {"qk_rope_head_dim", 32}, {"v_head_dim", 64}});
  std::printf("\n## Weight sync, synthetic %.0fM-parameter model (fp32, 4 MiB chunks, one host)\n\n",
              policy::model_stats(big).total_params / 1e6);
  std::printf("| transport | workers | bytes per worker | first push | steady push (mean of %d) | GB/s per worker | GB/s total |\n",
              big_pushes - 1);
  std::printf("|---|---:|---:|---:|---:|---:|---:|\n");
  for (bool unix_socket : {false, true}) {
    for (int workers : {1, 2}) {
      const std::vector<double> s = push_times(big, workers, big_pushes, &bytes, unix_socket);
      const double steady = mean_after_first(s);
      std::printf("| %s | %d | %.0f MB | %.2f s | %.2f s | %.2f | %.2f |\n",
                  unix_socket ? "Unix socket" : "TCP 127.0.0.1", workers, bytes / 1e6, s[0], steady,
                  bytes / steady / 1e9, workers * bytes / steady / 1e9);
      std::fflush(stdout);
    }
  }
}

}  // namespace
}  // namespace forge::rollout

int main(int argc, char** argv) {
  forge::use_passive_idle_threads(argv);  // as build/forge does
  forge::keep_freed_memory_for_reuse();
  int threads = 0, tokens = 64, rounds = 3, pushes = 4;
  bool skip_sync = false, skip_generation = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--tokens") && i + 1 < argc) tokens = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--pushes") && i + 1 < argc) pushes = std::max(2, std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--skip-sync")) skip_sync = true;
    else if (!std::strcmp(argv[i], "--skip-generation")) skip_generation = true;
    else {
      std::fprintf(stderr, "usage: rollout_bench [--threads N] [--tokens N] [--rounds N] [--pushes N] [--skip-sync] [--skip-generation]\n");
      return 2;
    }
  }
  if (threads > 0) at::set_num_threads(threads);
  else at::set_num_threads(static_cast<int>(std::thread::hardware_concurrency()));
  std::printf("# rollout_bench (%u cores, load average %s at start)\n",
              std::thread::hardware_concurrency(), forge::bench::load_average().c_str());
  if (!skip_generation) forge::rollout::generation_table(tokens, rounds);
  if (!skip_sync) forge::rollout::sync_tables(false, pushes);
  std::printf("\nload average at end: %s\n", forge::bench::load_average().c_str());
  return 0;
}
