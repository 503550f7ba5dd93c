// The Python source of the sandbox worker (reward/code/harness.py), compiled into forge_reward.
#pragma once

#include <string>

namespace forge::reward::code {

const std::string& harness_source();

}  // namespace forge::reward::code
