// Runs the `forge` binary of this build as a real process, as a user would: the CLI tests' one way
// to call it. Each test target defines FORGE_BINARY (the path CMake built it at).
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace forge::test_support {

struct ForgeResult {
  int exit_code = -1;  // -1 when it did not start or did not exit normally
  std::string output;  // stdout and stderr together
};

// `forge ARGS` through the shell (ARGS may quote and redirect), waiting for it to end.
inline ForgeResult run_forge(const std::string& args) {
  const std::string command = std::string(FORGE_BINARY) + " " + args + " 2>&1";
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

}  // namespace forge::test_support
