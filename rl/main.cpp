#include "rl/cli/commands.h"

int main(int argc, char** argv) { return forge::rl::cli::run_cli(argc, argv); }
