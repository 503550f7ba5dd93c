#include "base/process_memory.h"
#include "rl/cli/commands.h"

int main(int argc, char** argv) {
  forge::keep_freed_memory_for_reuse();
  return forge::rl::cli::run_cli(argc, argv);
}
