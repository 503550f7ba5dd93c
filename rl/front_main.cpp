// `forge`: the one entry point, with neither gRPC nor LibTorch loaded: grade runs here; the other
// subcommands are handed to `forge-serve` or `forge-torch` beside it (rl/cli/front_end.cpp).
#include "rl/cli/commands.h"

int main(int argc, char** argv) { return forge::rl::cli::run_front_end(argc, argv); }
