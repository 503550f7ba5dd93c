// `forge-serve`: reward-server and top (gRPC, no LibTorch). Users run `forge` (front_main.cpp),
// which hands this executable those subcommands.
#include "rl/cli/commands.h"

int main(int argc, char** argv) { return forge::rl::cli::run_serve_cli(argc, argv); }
