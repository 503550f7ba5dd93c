#include "policy/checkpoint.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"
#include "base/status_macros.h"
#include "policy/safetensors.h"

namespace forge::policy {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string shape_str(at::IntArrayRef shape) { return absl::StrCat("[", absl::StrJoin(shape, ", "), "]"); }

std::string shard_name(int i, int n) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "model-%05d-of-%05d.safetensors", i, n);
  return buf;
}

absl::Status write_text(const fs::path& path, const std::string& text) {
  return write_file_atomic(path.string(), text);
}

// Best effort: makes a rename durable.
void fsync_dir(const fs::path& dir) {
  FILE* f = std::fopen(dir.c_str(), "r");
  if (f == nullptr) return;
  ::fsync(fileno(f));
  std::fclose(f);
}

}  // namespace

absl::Status save_checkpoint(const ModelImpl& model, const std::string& dir,
                             const SaveOptions& options) {
  const fs::path target = fs::absolute(fs::path(dir)).lexically_normal();
  const fs::path tmp = target.string() + ".tmp." + std::to_string(::getpid());
  std::error_code ec;
  fs::remove_all(tmp, ec);
  if (!fs::create_directories(tmp, ec) || ec) {
    return absl::InternalError(absl::StrCat("cannot create checkpoint folder '", tmp.string(), "': ",
                                            ec.message()));
  }
  auto fail = [&](absl::Status st) {
    std::error_code ignore;
    fs::remove_all(tmp, ignore);
    return st;
  };

  const auto tensors = model.named_tensors();
  // Group tensors into shards in order.
  std::vector<std::vector<std::pair<std::string, at::Tensor>>> shards(1);
  int64_t shard_bytes = 0, total_bytes = 0;
  for (const auto& item : tensors) {
    const int64_t bytes = item.second.numel() * static_cast<int64_t>(item.second.element_size());
    if (options.max_shard_bytes > 0 && shard_bytes > 0 && shard_bytes + bytes > options.max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back(item);
    shard_bytes += bytes;
    total_bytes += bytes;
  }
  const std::map<std::string, std::string> metadata = {{"format", "pt"}};
  if (options.max_shard_bytes <= 0) {
    if (auto st = write_safetensors((tmp / kWeightsFile).string(), shards[0], metadata); !st.ok()) {
      return fail(st);
    }
  } else {
    json weight_map = json::object();
    const int n = static_cast<int>(shards.size());
    for (int i = 0; i < n; ++i) {
      const std::string file = shard_name(i + 1, n);
      if (auto st = write_safetensors((tmp / file).string(), shards[i], metadata); !st.ok()) {
        return fail(st);
      }
      for (const auto& item : shards[i]) weight_map[item.first] = file;
    }
    json index = {{"metadata", {{"total_size", total_bytes}}}, {"weight_map", weight_map}};
    if (auto st = write_text(tmp / kIndexFile, index.dump(2) + "\n"); !st.ok()) return fail(st);
  }
  ModelConfig config = model.config();
  config.torch_dtype = model.dtype() == at::kBFloat16 ? "bfloat16" : "float32";
  if (auto st = write_text(tmp / kConfigFile, config.to_json().dump(2) + "\n"); !st.ok()) {
    return fail(st);
  }
  fsync_dir(tmp);

  // Swap into place: move any old folder aside, rename, then delete the old one.
  fs::path old;
  if (fs::exists(target, ec)) {
    old = target.string() + ".old." + std::to_string(::getpid());
    fs::remove_all(old, ec);
    fs::rename(target, old, ec);
    if (ec) return fail(absl::InternalError(absl::StrCat("cannot move aside '", target.string(), "': ", ec.message())));
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    if (!old.empty()) fs::rename(old, target, ec);
    return fail(absl::InternalError(absl::StrCat("cannot rename '", tmp.string(), "' to '",
                                                 target.string(), "': ", ec.message())));
  }
  fsync_dir(target.parent_path());
  if (!old.empty()) fs::remove_all(old, ec);
  return absl::OkStatus();
}

absl::StatusOr<ModelConfig> read_checkpoint_config(const std::string& dir) {
  return ModelConfig::from_file((fs::path(dir) / kConfigFile).string());
}

absl::Status copy_named_tensors(ModelImpl& model,
                                const std::vector<std::pair<std::string, at::Tensor>>& values,
                                bool require_all) {
  std::map<std::string, at::Tensor> targets;
  for (auto& [name, tensor] : model.named_tensors()) targets.emplace(name, tensor);
  // Check everything before changing anything.
  std::set<std::string> seen;
  for (const auto& [name, value] : values) {
    auto it = targets.find(name);
    if (it == targets.end()) return absl::InvalidArgumentError(absl::StrCat("unknown tensor '", name, "'"));
    if (value.sizes() != it->second.sizes()) {
      return absl::InvalidArgumentError(absl::StrCat("tensor '", name, "' has shape ",
                                                     shape_str(value.sizes()), " but the config needs ",
                                                     shape_str(it->second.sizes())));
    }
    if (!at::isFloatingType(value.scalar_type())) {
      return absl::InvalidArgumentError(absl::StrCat("tensor '", name, "' has non-floating dtype ",
                                                     c10::toString(value.scalar_type())));
    }
    seen.insert(name);
  }
  if (require_all) {
    for (const auto& [name, tensor] : targets) {
      if (!seen.count(name)) return absl::InvalidArgumentError(absl::StrCat("missing tensor '", name, "'"));
    }
  }
  at::NoGradGuard no_grad;
  for (const auto& [name, value] : values) targets.at(name).copy_(value);
  return absl::OkStatus();
}

absl::StatusOr<Model> load_checkpoint(const std::string& dir, const nlohmann::json& overrides,
                                      at::ScalarType dtype, LoadReport* report) {
  ASSIGN_OR_RETURN(ModelConfig config, read_checkpoint_config(dir));
  RETURN_IF_ERROR(config.apply_overrides(overrides));
  if (absl::Status st = config.validate(); !st.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(dir, "/", kConfigFile, ": ", st.message()));
  }
  ASSIGN_OR_RETURN(Model model, create_model(config, 0, /*initialise=*/false, dtype));
  RETURN_IF_ERROR(load_weights(*model, dir, report));
  return model;
}

}  // namespace forge::policy
