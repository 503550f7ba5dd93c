// Loading reward rules from plugins: shared libraries that speak the C ABI of
// reward/plugin_abi.h. A plugin that cannot be opened, lacks the entry point, speaks another ABI
// version, or fails to build its instance is an error naming the file and the reason.
//
// The returned rule keeps the library loaded for as long as it lives. Thread-safe: grade() calls a
// plugin concurrently only when it declares FORGE_REWARD_PLUGIN_THREAD_SAFE, else one at a time.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "reward/reward_rule.h"

namespace forge::reward {

// Loads the plugin at `path`; `plugin_options` is reward.plugin_options (a JSON object keyed by
// rule name): the entry under the plugin's name, or {}, is passed to its create().
absl::StatusOr<std::unique_ptr<RewardRule>> load_plugin_rule(const std::string& path,
                                                             const nlohmann::json& plugin_options);

}  // namespace forge::reward
