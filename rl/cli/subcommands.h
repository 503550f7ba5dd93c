// Every `forge` subcommand of DESIGN.md's contract, in one table: its name, its one-line
// description (what `forge --help` lists), and where it runs. `forge` is a torch-free front end
// (front_end.cpp): it runs the subcommands that need no torch itself (grade, reward-server, top:
// they start in milliseconds) and hands the others to `forge-torch`, its sibling executable, by exec
// (same pid, same arguments).
#pragma once

#include <string>
#include <vector>

namespace forge::rl::cli {

struct SubcommandInfo {
  const char* name;
  const char* description;
  bool needs_torch;          // false: the front end runs it without loading LibTorch
  bool runs_torch_for_long;  // worth the compute libraries' idle-thread settings (idle_threads.h)
};

const std::vector<SubcommandInfo>& subcommands();

// The entry named `name`, or null.
const SubcommandInfo* find_subcommand(const std::string& name);

// The description of `name` (a name of the table; "" otherwise).
const char* description_of(const std::string& name);

}  // namespace forge::rl::cli
