// The run config head most end-to-end tests share: a fixed seed, one thread, and a small MoE
// (2 layers of configs/models/tiny.json, every mechanism live) so a GRPO step takes a fraction of
// a second. Tests append the sections they need.
#pragma once

#include <string>

namespace forge::test_support {

inline std::string small_model_yaml() {
  return std::string("run: {seed: 3, threads: 1}\n") + "model:\n  config: " + FORGE_SOURCE_DIR +
         "/configs/models/tiny.json\n"
         "  num_hidden_layers: 2\n  hidden_size: 64\n"
         "  intermediate_size: 96\n  moe_intermediate_size: 32\n";
}

}  // namespace forge::test_support
