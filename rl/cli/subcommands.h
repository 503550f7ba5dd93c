// Every `forge` subcommand of DESIGN.md's contract, in one table: its name, its one-line
// description (what `forge --help` lists), and which executable runs it. `forge` is a front end
// without gRPC or LibTorch (front_end.cpp): it runs grade itself (in milliseconds) and hands the
// others to a sibling executable by exec (same pid, same arguments): `forge-serve` (gRPC, no
// LibTorch) or `forge-torch` (LibTorch; it has every subcommand).
#pragma once

#include <string>
#include <vector>

namespace forge::rl::cli {

enum class Runner {
  kFrontEnd,  // `forge` itself: no gRPC, no LibTorch loaded
  kServe,     // `forge-serve`: gRPC servers and clients, no LibTorch loaded
  kTorch,     // `forge-torch`: LibTorch loaded
};

struct SubcommandInfo {
  const char* name;
  const char* description;
  Runner runner;
  bool runs_torch_for_long;  // worth the compute libraries' idle-thread settings (idle_threads.h)
};

const std::vector<SubcommandInfo>& subcommands();

// The entry named `name`, or null.
const SubcommandInfo* find_subcommand(const std::string& name);

// The description of `name` (a name of the table; "" otherwise).
const char* description_of(const std::string& name);

}  // namespace forge::rl::cli
