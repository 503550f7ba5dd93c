// The safetensors file format (https://huggingface.co/docs/safetensors): an 8-byte little-endian
// header length N, N bytes of JSON {"name": {"dtype", "shape", "data_offsets": [begin, end]},
// "__metadata__": {str: str}}, then the raw little-endian tensor bytes. Only the format lives here;
// checkpoint.h maps it onto a Model. Dtypes: F64, F32, F16, BF16, the integers, BOOL, and F8_E4M3
// (DeepSeek-V3's FP8 weights; no LibTorch 1.13 dtype, so held as uint8 codes, fp8.h decodes them).
// Thread-safety: a SafetensorsReader is immutable after open() and safe to share.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/ATen.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace forge::policy {

// Writes `tensors` (any device; copied to the CPU) to `path` and fsyncs it. Not atomic by itself.
absl::Status write_safetensors(const std::string& path,
                               const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                               const std::map<std::string, std::string>& metadata = {});

struct SafetensorsEntry {
  at::ScalarType dtype = at::kFloat;  // kByte for F8_E4M3
  std::string dtype_name;       // as in the file: "F32", "BF16", "F8_E4M3", ...
  std::vector<int64_t> shape;
  int64_t begin = 0, end = 0;   // byte offsets into the data section
  bool fp8_e4m3() const { return dtype_name == "F8_E4M3"; }
};

class SafetensorsReader {
 public:
  // Maps `path` and validates the header: known dtypes, offsets inside the file and matching the
  // shapes. Errors name the file (and the tensor).
  static absl::StatusOr<SafetensorsReader> open(const std::string& path);

  const std::string& path() const { return path_; }
  const std::map<std::string, SafetensorsEntry>& entries() const { return entries_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // A CPU tensor holding a copy of `name`'s bytes.
  absl::StatusOr<at::Tensor> read(const std::string& name) const;

  // A read-only CPU tensor over `name`'s bytes in the mapping itself (no copy; it keeps the
  // mapping alive). Never write to it. Pages are read from the file as the tensor is touched.
  absl::StatusOr<at::Tensor> view(const std::string& name) const;

  // Drops the pages of `name`'s bytes [from, to) (to < 0: its end) from this process's resident
  // memory (they are re-read from the file if touched again), so reading a whole checkpoint never
  // holds it all resident.
  void release(const std::string& name, int64_t from = 0, int64_t to = -1) const;

  int64_t file_size() const;

 private:
  struct Mapping;
  std::string path_;
  std::shared_ptr<Mapping> mapping_;
  const uint8_t* data_ = nullptr;  // start of the data section
  std::map<std::string, SafetensorsEntry> entries_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace forge::policy
