#include "policy/checkpoint_files.h"

#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "base/status_macros.h"

namespace forge::policy {

namespace fs = std::filesystem;

absl::StatusOr<CheckpointFiles> CheckpointFiles::open(const std::string& dir) {
  CheckpointFiles files;
  files.dir_ = dir;
  const fs::path folder(dir);
  auto open_file = [&](const std::string& file) -> absl::Status {
    if (files.readers_.count(file)) return absl::OkStatus();
    ASSIGN_OR_RETURN(SafetensorsReader r, SafetensorsReader::open((folder / file).string()));
    files.readers_.emplace(file, std::move(r));
    files.shards_.push_back(file);
    return absl::OkStatus();
  };
  if (fs::exists(folder / kWeightsFile)) {
    RETURN_IF_ERROR(open_file(kWeightsFile));
    for (const auto& item : files.readers_.at(kWeightsFile).entries()) {
      files.where_[item.first] = kWeightsFile;
    }
  } else if (fs::exists(folder / kIndexFile)) {
    files.sharded_ = true;
    const std::string index_path = (folder / kIndexFile).string();
    ASSIGN_OR_RETURN(std::string text, read_file(index_path));
    try {
      const nlohmann::json index = nlohmann::json::parse(text);
      for (const auto& item : index.at("weight_map").items()) {
        files.where_[item.key()] = item.value().get<std::string>();
      }
    } catch (const nlohmann::json::exception& e) {
      return absl::DataLossError(absl::StrCat(index_path, ": ", e.what()));
    }
    for (const auto& [name, file] : files.where_) {
      if (file.find('/') != std::string::npos) {
        return absl::DataLossError(absl::StrCat(index_path, " maps tensor '", name, "' to '",
                                                file, "', outside the folder"));
      }
      RETURN_IF_ERROR(open_file(file));
      if (!files.readers_.at(file).entries().count(name)) {
        return absl::DataLossError(absl::StrCat(index_path, " maps tensor '", name, "' to ", file,
                                                ", which does not hold it"));
      }
    }
    std::sort(files.shards_.begin(), files.shards_.end());
  } else {
    return absl::NotFoundError(absl::StrCat("checkpoint '", dir, "' has neither ", kWeightsFile,
                                            " nor ", kIndexFile));
  }
  return files;
}

int64_t CheckpointFiles::file_bytes() const {
  int64_t total = 0;
  for (const auto& [file, reader] : readers_) total += reader.file_size();
  return total;
}

const SafetensorsReader& CheckpointFiles::reader_of(const std::string& name) const {
  return readers_.at(where_.at(name));
}

const SafetensorsEntry& CheckpointFiles::entry(const std::string& name) const {
  return reader_of(name).entries().at(name);
}

}  // namespace forge::policy
