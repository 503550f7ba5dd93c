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

// Names a checkpoint may carry that this model does not use: DeepSeek-V3's multi-token-prediction
// layers (model.layers.{i >= num_hidden_layers}) and stale rotary caches.
bool ignorable(const std::string& name, int num_layers) {
  if (absl::EndsWith(name, "rotary_emb.inv_freq")) return true;
  constexpr absl::string_view kPrefix = "model.layers.";
  if (!absl::StartsWith(name, kPrefix)) return false;
  std::vector<std::string> parts = absl::StrSplit(name.substr(kPrefix.size()), '.');
  int index = 0;
  return !parts.empty() && absl::SimpleAtoi(parts[0], &index) && index >= num_layers;
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
  if (auto st = write_text(tmp / kConfigFile, model.config().to_json().dump(2) + "\n"); !st.ok()) {
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

absl::Status load_weights(ModelImpl& model, const std::string& dir) {
  const fs::path folder(dir);
  // name -> file holding it
  std::map<std::string, std::string> where;
  std::map<std::string, SafetensorsReader> readers;
  auto open_file = [&](const std::string& file) -> absl::Status {
    if (readers.count(file)) return absl::OkStatus();
    ASSIGN_OR_RETURN(SafetensorsReader r, SafetensorsReader::open((folder / file).string()));
    readers.emplace(file, std::move(r));
    return absl::OkStatus();
  };
  if (fs::exists(folder / kWeightsFile)) {
    RETURN_IF_ERROR(open_file(kWeightsFile));
    for (const auto& item : readers.at(kWeightsFile).entries()) where[item.first] = kWeightsFile;
  } else if (fs::exists(folder / kIndexFile)) {
    ASSIGN_OR_RETURN(std::string text, read_file((folder / kIndexFile).string()));
    json index;
    try {
      index = json::parse(text);
      for (const auto& item : index.at("weight_map").items()) where[item.key()] = item.value().get<std::string>();
    } catch (const json::exception& e) {
      return absl::DataLossError(absl::StrCat((folder / kIndexFile).string(), ": ", e.what()));
    }
    for (const auto& [name, file] : where) {
      RETURN_IF_ERROR(open_file(file));
      if (!readers.at(file).entries().count(name)) {
        return absl::DataLossError(absl::StrCat((folder / kIndexFile).string(), " maps tensor '", name,
                                                "' to ", file, ", which does not hold it"));
      }
    }
  } else {
    return absl::NotFoundError(absl::StrCat("checkpoint '", dir, "' has neither ", kWeightsFile,
                                            " nor ", kIndexFile));
  }

  const int num_layers = model.config().num_hidden_layers;
  const std::vector<std::pair<std::string, at::Tensor>> targets = model.named_tensors();
  std::set<std::string> target_names;
  for (const auto& item : targets) target_names.insert(item.first);
  for (const auto& [name, file] : where) {
    if (!target_names.count(name) && !ignorable(name, num_layers)) {
      return absl::InvalidArgumentError(absl::StrCat("checkpoint '", dir, "': unexpected tensor '", name,
                                                     "' in ", file, " (not in this config's model)"));
    }
  }
  // Presence, shapes and dtypes of everything before the first copy.
  for (const auto& [name, target] : targets) {
    auto it = where.find(name);
    if (it == where.end()) {
      return absl::InvalidArgumentError(absl::StrCat("checkpoint '", dir, "': missing tensor '", name, "'"));
    }
    const SafetensorsEntry& e = readers.at(it->second).entries().at(name);
    if (at::IntArrayRef(e.shape) != target.sizes()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "checkpoint '", dir, "': tensor '", name, "' has shape ", shape_str(e.shape), " in ",
          it->second, " but the config needs ", shape_str(target.sizes())));
    }
    if (!at::isFloatingType(e.dtype)) {
      return absl::InvalidArgumentError(absl::StrCat("checkpoint '", dir, "': tensor '", name,
                                                     "' has non-floating dtype ", e.dtype_name));
    }
  }
  at::NoGradGuard no_grad;
  for (const auto& [name, target] : targets) {
    ASSIGN_OR_RETURN(at::Tensor value, readers.at(where.at(name)).read(name));
    if (!at::isfinite(value).all().item<bool>()) {
      return absl::DataLossError(absl::StrCat("checkpoint '", dir, "': tensor '", name,
                                              "' has non-finite values"));
    }
    at::Tensor(target).copy_(value);
  }
  return absl::OkStatus();
}

absl::StatusOr<Model> load_checkpoint(const std::string& dir, const nlohmann::json& overrides) {
  ASSIGN_OR_RETURN(ModelConfig config, read_checkpoint_config(dir));
  RETURN_IF_ERROR(config.apply_overrides(overrides));
  if (absl::Status st = config.validate(); !st.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(dir, "/", kConfigFile, ": ", st.message()));
  }
  ASSIGN_OR_RETURN(Model model, create_model(config, 0, /*initialise=*/false));
  RETURN_IF_ERROR(load_weights(*model, dir));
  return model;
}

}  // namespace forge::policy
