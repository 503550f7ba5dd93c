// What runs inside each sandbox, compiled into forge_reward: the Python source of the sandbox
// worker (reward/code/harness.py), and the shared library it loads for the zygote's loop and each
// program's setup (reward/code/sandbox_spawn.c), as hex.
#pragma once

#include <string>

namespace forge::reward::code {

const std::string& harness_source();
const std::string& sandbox_spawn_library_hex();

}  // namespace forge::reward::code
