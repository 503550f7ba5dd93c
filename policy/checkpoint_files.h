// The safetensors files of a checkpoint folder: model.safetensors, or the shards that
// model.safetensors.index.json ({"metadata": {"total_size"}, "weight_map": {name: file}}) lists.
// Every file is memory-mapped (nothing read yet) and its header validated; each tensor name is
// mapped to the file holding it.
// Thread-safety: immutable after open(); safe to share.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "policy/safetensors.h"

namespace forge::policy {

inline constexpr char kWeightsFile[] = "model.safetensors";
inline constexpr char kIndexFile[] = "model.safetensors.index.json";

class CheckpointFiles {
 public:
  // NOT_FOUND when DIR has neither file; DATA_LOSS naming the file for a bad header or an index
  // that maps a tensor to a file without it.
  static absl::StatusOr<CheckpointFiles> open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  const std::vector<std::string>& shards() const { return shards_; }  // file names, sorted
  bool sharded() const { return sharded_; }
  int64_t file_bytes() const;  // all shards

  // Every tensor name, with the file that holds it.
  const std::map<std::string, std::string>& tensors() const { return where_; }
  bool has(const std::string& name) const { return where_.count(name) > 0; }
  // Requires has(name).
  const std::string& file_of(const std::string& name) const { return where_.at(name); }
  const SafetensorsReader& reader_of(const std::string& name) const;
  const SafetensorsEntry& entry(const std::string& name) const;

 private:
  std::string dir_;
  bool sharded_ = false;
  std::vector<std::string> shards_;
  std::map<std::string, SafetensorsReader> readers_;  // by file name
  std::map<std::string, std::string> where_;          // tensor -> file name
};

}  // namespace forge::policy
