#include "base/idle_threads.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace forge {

std::vector<std::pair<std::string, std::string>> idle_thread_env() {
  return {{"OMP_WAIT_POLICY", "PASSIVE"}, {"OPENBLAS_THREAD_TIMEOUT", "20"}};
}

std::vector<std::string> set_idle_thread_env() {
  std::vector<std::string> set;
  for (const auto& [name, value] : idle_thread_env()) {
    if (std::getenv(name.c_str()) != nullptr) continue;
    if (setenv(name.c_str(), value.c_str(), /*overwrite=*/0) == 0) set.push_back(name);
  }
  return set;
}

void use_passive_idle_threads(char** argv) {
  if (set_idle_thread_env().empty()) return;
  execv("/proc/self/exe", argv);
  std::fprintf(stderr, "%s: exec /proc/self/exe: %s; idle compute threads will spin\n", argv[0],
               std::strerror(errno));
}

}  // namespace forge
