#include <cstring>

#include "base/idle_threads.h"
#include "base/process_memory.h"
#include "rl/cli/commands.h"

namespace {

// Subcommands that run torch for long: worth a re-exec (~1 s) to give the compute libraries the
// idle-thread settings of base/idle_threads.h.
bool runs_torch_for_long(int argc, char** argv) {
  if (argc < 2) return false;
  for (const char* name : {"run", "sft", "eval", "distill", "rollout-worker", "generate"}) {
    if (std::strcmp(argv[1], name) == 0) return true;
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (runs_torch_for_long(argc, argv)) forge::use_passive_idle_threads(argv);
  forge::keep_freed_memory_for_reuse();
  return forge::rl::cli::run_cli(argc, argv);
}
