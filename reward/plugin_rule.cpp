#include "reward/plugin_rule.h"

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "reward/grade_error.h"
#include "reward/plugin_abi.h"

namespace forge::reward {
namespace {

using Clock = std::chrono::steady_clock;

bool valid_rule_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// A string returned by the plugin, freed by the plugin's own free_string().
std::string take_string(const ForgeRewardPlugin* table, char* s) {
  if (s == nullptr) return "";
  std::string out(s);
  table->free_string(s);
  return out;
}

absl::StatusCode code_of(int rc) {
  switch (rc) {
    case FORGE_REWARD_INVALID_ARGUMENT: return absl::StatusCode::kInvalidArgument;
    case FORGE_REWARD_DEADLINE_EXCEEDED: return absl::StatusCode::kDeadlineExceeded;
    default: return absl::StatusCode::kInternal;
  }
}

class PluginRule final : public RewardRule {
 public:
  PluginRule(std::shared_ptr<void> library, const ForgeRewardPlugin* table, void* instance,
             std::string path)
      : library_(std::move(library)), table_(table), instance_(instance), path_(std::move(path)) {}

  ~PluginRule() override {
    if (table_->destroy != nullptr) table_->destroy(instance_);
  }

  std::string name() const override { return table_->name; }
  std::string description() const override {
    return absl::StrCat(table_->description != nullptr ? table_->description : "",
                        " (plugin ", path_, ")");
  }
  RewardRange range() const override { return {table_->min_reward, table_->max_reward}; }

  absl::StatusOr<RuleResult> grade(const GradeItem& item, Clock::time_point deadline) const override {
    const std::string tests = item.tests.is_null() ? "null" : item.tests.dump();
    ForgeRewardItem c_item;
    c_item.id = item.id.c_str();
    c_item.completion = item.completion.c_str();
    c_item.answer = item.answer.c_str();
    c_item.prediction = item.prediction.c_str();
    c_item.tests_json = tests.c_str();
    c_item.completion_tokens = item.completion_tokens;
    c_item.timeout_s =
        deadline == Clock::time_point::max()
            ? 1e9
            : std::max(0.0, std::chrono::duration<double>(deadline - Clock::now()).count());
    double reward = 0.0;
    char* detail = nullptr;
    int rc;
    if (table_->flags & FORGE_REWARD_PLUGIN_THREAD_SAFE) {
      rc = table_->grade(instance_, &c_item, &reward, &detail);
    } else {
      std::lock_guard<std::mutex> lock(mu_);
      rc = table_->grade(instance_, &c_item, &reward, &detail);
    }
    std::string text = take_string(table_, detail);
    if (rc != FORGE_REWARD_OK) {
      absl::Status failed(code_of(rc), text.empty() ? "the plugin reported an error" : text);
      // A bad item or a deadline keeps its own code; any other failure is the plugin's.
      return failed.code() == absl::StatusCode::kInternal
                 ? with_error_code(failed, kErrorPluginFailed)
                 : failed;
    }
    return RuleResult{reward, std::move(text)};
  }

 private:
  std::shared_ptr<void> library_;  // dlclose()d after the instance is destroyed
  const ForgeRewardPlugin* table_;
  void* instance_;
  std::string path_;
  mutable std::mutex mu_;  // serialises grade() for plugins that are not thread-safe
};

}  // namespace

absl::StatusOr<std::unique_ptr<RewardRule>> load_plugin_rule(const std::string& path,
                                                             const nlohmann::json& plugin_options) {
  auto fail = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("reward plugin '", path, "': ", why));
  };
  // dlopen() searches the library path for a bare name; a plugin is always a file.
  const std::string file = path.find('/') == std::string::npos ? "./" + path : path;
  void* handle = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = ::dlerror();
    return fail(absl::StrCat("cannot load: ", err != nullptr ? err : "unknown dlopen error"));
  }
  std::shared_ptr<void> library(handle, [](void* h) { ::dlclose(h); });
  ::dlerror();
  void* symbol = ::dlsym(handle, FORGE_REWARD_PLUGIN_ENTRY_NAME);
  if (symbol == nullptr) {
    return fail(absl::StrCat("no exported function '", FORGE_REWARD_PLUGIN_ENTRY_NAME,
                             "' (see reward/plugin_abi.h)"));
  }
  auto entry = reinterpret_cast<ForgeRewardPluginEntry>(symbol);
  const ForgeRewardPlugin* table = entry(FORGE_REWARD_PLUGIN_ABI_VERSION);
  if (table == nullptr) {
    return fail(absl::StrCat("the plugin declined ABI version ", FORGE_REWARD_PLUGIN_ABI_VERSION));
  }
  if (table->abi_version != FORGE_REWARD_PLUGIN_ABI_VERSION) {
    return fail(absl::StrCat("plugin ABI version ", table->abi_version, ", but this Forge speaks ",
                             FORGE_REWARD_PLUGIN_ABI_VERSION, "; rebuild it against this Forge's "
                             "reward/plugin_abi.h"));
  }
  if (table->struct_size < sizeof(ForgeRewardPlugin)) {
    return fail(absl::StrCat("function table of ", table->struct_size, " bytes, expected at least ",
                             sizeof(ForgeRewardPlugin)));
  }
  const std::string name = table->name != nullptr ? table->name : "";
  if (!valid_rule_name(name)) {
    return fail(absl::StrCat("rule name '", name, "' is not of the form [a-z0-9_-]+"));
  }
  if (table->create == nullptr || table->grade == nullptr || table->free_string == nullptr) {
    return fail("create, grade and free_string must all be set");
  }
  if (!(table->min_reward <= table->max_reward) || !std::isfinite(table->min_reward) ||
      !std::isfinite(table->max_reward)) {
    return fail(absl::StrCat("reward range [", table->min_reward, ", ", table->max_reward,
                             "] is not a finite interval"));
  }
  nlohmann::json options = nlohmann::json::object();
  if (plugin_options.is_object() && plugin_options.contains(name)) options = plugin_options[name];
  char* error = nullptr;
  void* instance = table->create(options.dump().c_str(), &error);
  const std::string error_text = take_string(table, error);
  if (instance == nullptr) {
    return fail(absl::StrCat("create() failed for rule '", name, "': ",
                             error_text.empty() ? "no message" : error_text));
  }
  return std::unique_ptr<RewardRule>(
      std::make_unique<PluginRule>(std::move(library), table, instance, path));
}

}  // namespace forge::reward
