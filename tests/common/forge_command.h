// Runs the `forge` binary of this build as a real process, as a user would: the CLI tests' one way
// to call it, and to check what it left running. Each test target defines FORGE_BINARY (the path
// CMake built it at).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/file_util.h"

namespace forge::test_support {

struct ForgeResult {
  int exit_code = -1;  // -1 when it did not start or did not exit normally
  std::string output;  // stdout and stderr together
};

// `forge ARGS` through the shell (ARGS may quote and redirect), waiting for it to end; `env`
// ("NAME=value ...") is set for it alone.
inline ForgeResult run_forge(const std::string& args, const std::string& env = "") {
  const std::string command = env + (env.empty() ? "" : " ") + std::string(FORGE_BINARY) + " " +
                              args + " 2>&1";
  ForgeResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    result.output.append(buffer.data(), n);
  }
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// The command line of process `pid`, its arguments joined by spaces; empty once it has exited (and
// for a zombie).
inline std::string command_line_of(pid_t pid) {
  std::string cmdline = forge::read_file("/proc/" + std::to_string(pid) + "/cmdline").value_or("");
  for (char& c : cmdline) {
    if (c == '\0') c = ' ';
  }
  return cmdline;
}

// Processes other than this one whose command line (arguments joined by spaces) contains `marker`,
// e.g. a run folder: how tests find children and grandchildren left running. Zombies have an empty
// command line and never match.
inline std::vector<pid_t> processes_with(const std::string& marker) {
  std::vector<pid_t> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = std::stoi(name);
    if (pid != ::getpid() && command_line_of(pid).find(marker) != std::string::npos) {
      found.push_back(pid);
    }
  }
  return found;
}

// The JSON objects of a JSONL file a command wrote (metrics.jsonl, samples.jsonl, ...), blank
// lines skipped; empty when the file is missing.
inline std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& path) {
  std::vector<nlohmann::json> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  }
  return rows;
}

}  // namespace forge::test_support
