// dp_bench: what data parallelism costs and gains on this machine, in two tables.
//  1. All-reduce bandwidth over Gloo between 2 local ranks for the tiny model's gradient and for a
//     ~100M-parameter one, through all_reduce_gradients (the buckets training uses).
//  2. GRPO step time of the tiny config with the same global batch: 1 rank x 1 thread, 1 rank x 2
//     threads and 2 ranks x 1 thread (`forge run --nproc 2`), and the scaling efficiency of each
//     2-core layout: T(1 x 1) / (2 x T(layout)).
//   build/bench/dp_bench [--steps N] [--repeats N]
// The ranks of table 1 are this program run again with RANK/WORLD_SIZE/MASTER_* set.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "base/idle_threads.h"
#include "base/process_memory.h"
#include "base/stopwatch.h"
#include "rl/dist/data_parallel.h"
#include "rl/dist/process_group.h"

namespace {

using forge::seconds_since;
using forge::SteadyClock;

// One rank of table 1: all-reduces a gradient of `params` floats `repeats` times; rank 0 prints.
int allreduce_rank(int64_t params, int repeats) {
  auto rank = forge::rl::rank_from_environment([](const char* n) { return std::getenv(n); });
  if (!rank.ok()) return 1;
  forge::rl::JoinOptions options;
  options.timeout = std::chrono::seconds(120);
  auto group = forge::rl::join_process_group(*rank, options);
  if (!group.ok()) {
    std::fprintf(stderr, "%s\n", std::string(group.status().message()).c_str());
    return 1;
  }
  at::set_num_threads(1);
  // Gradients shaped like a model's: matrices of 1M floats and a remainder.
  std::vector<at::Tensor> tensors;
  for (int64_t left = params; left > 0; left -= 1 << 20) {
    at::Tensor p = at::zeros({std::min<int64_t>(left, 1 << 20)}, at::kFloat).requires_grad_(true);
    p.mutable_grad() = at::randn_like(p);
    tensors.push_back(p);
  }
  (void)forge::rl::all_reduce_gradients(**group, tensors);  // warm up the connections
  const auto start = SteadyClock::now();
  for (int i = 0; i < repeats; ++i) {
    if (!forge::rl::all_reduce_gradients(**group, tensors).ok()) return 1;
  }
  const double seconds = seconds_since(start) / repeats;
  if (rank->rank == 0) {
    const double bytes = 4.0 * static_cast<double>(params);
    std::printf("| %lld | %.1f MB | %.1f ms | %.2f GB/s |\n", static_cast<long long>(params),
                bytes / 1e6, seconds * 1e3, bytes / seconds / 1e9);
  }
  return 0;
}

int run(const std::string& command) { return std::system(command.c_str()); }

// Mean time/step over the steps after the first (warm-up) of a metrics.jsonl.
double mean_step_seconds(const std::string& metrics) {
  std::ifstream in(metrics);
  std::string line;
  double sum = 0;
  int n = 0;
  while (std::getline(in, line)) {
    const nlohmann::json j = nlohmann::json::parse(line);
    if (j["step"].get<int>() == 1) continue;
    sum += j["time/step"].get<double>();
    ++n;
  }
  return n > 0 ? sum / n : 0.0;
}

}  // namespace

int main(int argc, char** argv) {
  forge::use_passive_idle_threads(argv);
  forge::keep_freed_memory_for_reuse();
  int steps = 6, repeats = 5;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--steps") steps = std::atoi(argv[++i]);
    if (std::string(argv[i]) == "--repeats") repeats = std::atoi(argv[++i]);
  }
  if (const char* params = std::getenv("DP_BENCH_PARAMS")) {
    return allreduce_rank(std::atoll(params), repeats);
  }
  const std::string self = argv[0];
  std::printf("all-reduce over Gloo, 2 ranks on this machine (all_reduce_gradients, 25 MB buckets)\n\n");
  std::printf("| parameters | gradient | time | algorithm bandwidth |\n|---|---|---|---|\n");
  std::fflush(stdout);
  for (int64_t params : {int64_t{3620000}, int64_t{100000000}}) {
    const std::string env = "RANK=%d WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=29611 "
                            "DP_BENCH_PARAMS=" + std::to_string(params) + " ";
    char cmd0[512], cmd1[512];
    std::snprintf(cmd0, sizeof cmd0, (env + self + " --repeats %d").c_str(), 0, repeats);
    std::snprintf(cmd1, sizeof cmd1, (env + self + " --repeats %d").c_str(), 1, repeats);
    const std::string both = std::string(cmd1) + " & " + cmd0 + "; wait";
    if (run(both) != 0) return 1;
    std::fflush(stdout);
  }

  const std::string forge = std::string(FORGE_BINARY);
  const std::string dir = "/tmp/forge_dp_bench_" + std::to_string(::getpid());
  const std::string config = std::string(FORGE_SOURCE_DIR) + "/configs/tiny.yaml";
  const std::string common = " trainer.total_steps=" + std::to_string(steps) +
                             " rollout.workers=0 reward.in_process=true trainer.samples_per_step=0"
                             " trainer.dynamic_sampling=false > /dev/null 2>&1";
  struct Layout {
    const char* name;
    std::string args;
    double seconds = 0;
  };
  std::vector<Layout> layouts = {{"1 rank x 1 thread", " run.threads=1 run.dir=" + dir + "/a"},
                                 {"1 rank x 2 threads", " run.threads=2 run.dir=" + dir + "/b"},
                                 {"2 ranks x 1 thread", " run.threads=1 run.dir=" + dir + "/c"}};
  for (size_t i = 0; i < layouts.size(); ++i) {
    const std::string nproc = i == 2 ? " --nproc 2" : "";
    if (run(forge + " run" + nproc + " " + config + layouts[i].args + common) != 0) {
      std::fprintf(stderr, "dp_bench: forge run failed (%s)\n", layouts[i].name);
      return 1;
    }
    const std::string out = layouts[i].args.substr(layouts[i].args.find("run.dir=") + 8);
    layouts[i].seconds = mean_step_seconds(out + "/metrics.jsonl");
  }
  std::printf("\nGRPO step of configs/tiny.yaml (batch 16 x 8, in-process generation and grading), "
              "mean of steps 2..%d\n\n", steps);
  std::printf("| layout | time/step | speed-up over 1 x 1 | scaling efficiency |\n|---|---|---|---|\n");
  for (const Layout& l : layouts) {
    const double speedup = layouts[0].seconds / l.seconds;
    const int cores = &l == &layouts[0] ? 1 : 2;
    std::printf("| %s | %.2f s | %.2f | %.0f%% |\n", l.name, l.seconds, speedup,
                100.0 * speedup / cores);
  }
  run("rm -rf " + dir);
  return 0;
}
