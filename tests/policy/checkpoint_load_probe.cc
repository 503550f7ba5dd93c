// Loads a checkpoint folder in a fresh process, for checkpoint_memory_test.cc (which measures this
// process's peak resident memory with wait4) and for measuring load times by hand:
//   checkpoint_load_probe DIR [float32|bfloat16]
// prints one JSON line: {"model_bytes", "rss_before_bytes", "peak_rss_bytes" (VmHWM), "seconds",
// "summary"}. Exit status 1 when loading fails (the error on stderr).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "policy/checkpoint.h"

namespace {

// A "VmRSS:" / "VmHWM:" line of /proc/self/status, in bytes.
int64_t status_bytes(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::stoll(line.substr(key.size())) * 1024;
  }
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: checkpoint_load_probe DIR [float32|bfloat16]\n";
    return 2;
  }
  const std::string dtype = argc > 2 ? argv[2] : "float32";
  const int64_t before = status_bytes("VmRSS:");
  forge::policy::LoadReport report;
  auto model = forge::policy::load_checkpoint(
      argv[1], nlohmann::json::object(), dtype == "bfloat16" ? at::kBFloat16 : at::kFloat, &report);
  if (!model.ok()) {
    std::cerr << model.status() << "\n";
    return 1;
  }
  int64_t bytes = 0;
  for (const auto& [name, t] : (*model)->named_tensors()) bytes += t.numel() * t.element_size();
  std::cout << nlohmann::json{{"model_bytes", bytes},
                              {"rss_before_bytes", before},
                              {"peak_rss_bytes", status_bytes("VmHWM:")},
                              {"seconds", report.seconds},
                              {"summary", report.summary()}}
                   .dump()
            << std::endl;
  return 0;
}
