// `forge-torch`: every subcommand, LibTorch loaded. Users run `forge` (front_main.cpp), which
// hands this executable the subcommands that need torch.
#include "base/idle_threads.h"
#include "base/process_memory.h"
#include "rl/cli/commands.h"
#include "rl/cli/subcommands.h"

int main(int argc, char** argv) {
  const forge::rl::cli::SubcommandInfo* sub =
      argc > 1 ? forge::rl::cli::find_subcommand(argv[1]) : nullptr;
  // Long torch runs get the idle-thread settings (a re-exec of ~1 s unless the front end or the
  // user set them already).
  if (sub != nullptr && sub->runs_torch_for_long) forge::use_passive_idle_threads(argv);
  forge::keep_freed_memory_for_reuse();
  return forge::rl::cli::run_cli(argc, argv);
}
