// `forge`: the one entry point. Torch-free: grade and reward-server run here; the subcommands that
// need LibTorch are handed to `forge-torch` beside it (rl/cli/front_end.cpp).
#include "rl/cli/commands.h"

int main(int argc, char** argv) { return forge::rl::cli::run_front_end(argc, argv); }
