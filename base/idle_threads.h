// How the compute libraries' idle threads wait, set for Forge's programs.
//
// libgomp (torch's intra-op threads) and OpenBLAS (matrix products) read their waiting policy from
// the environment when the program loads, before main(), and both default to spinning: an idle
// OpenBLAS thread yields in a loop for 2^28 cycles (~0.1 s), and libgomp's threads spin before
// sleeping, taking the core that the other library's threads, or another Forge process (a
// rollout worker next to the trainer), needs. Measured on a 2-core machine (docs/results.md): an
// SFT step of the tiny model 0.47 s with the defaults, 0.39 s with OPENBLAS_THREAD_TIMEOUT=20
// (2^20 cycles, ~0.3 ms); with an active OpenMP wait, SFT steps next to a rollout worker ran
// 5-10x slower.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace forge {

// The variables and the values Forge wants: OMP_WAIT_POLICY=PASSIVE, OPENBLAS_THREAD_TIMEOUT=20.
std::vector<std::pair<std::string, std::string>> idle_thread_env();

// Sets each variable of idle_thread_env() that is unset (a user's own value is kept) and returns
// the names it set. Children started afterwards inherit them.
std::vector<std::string> set_idle_thread_env();

// For a program's main(): set_idle_thread_env(), and when it set anything, replace this process
// (same pid, same arguments) with a fresh run of its own executable (/proc/self/exe) so the
// libraries load with it; costs one more start-up (~1 s with torch). Returns when nothing needed
// setting, or (after a warning on stderr) when the exec failed.
void use_passive_idle_threads(char** argv);

}  // namespace forge
