// Whole-file I/O with absl::Status errors that name the path, and atomic replacement.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace forge {

// The whole file. NotFound when it cannot be opened; DataLoss when a read fails, as reading a
// /proc/<pid> file does once that process has exited.
absl::StatusOr<std::string> read_file(const std::string& path);

// Writes `contents` to `path` + ".tmp.<pid>" and renames it over `path`: readers see the old file or
// the whole new one, never a torn write.
absl::Status write_file_atomic(const std::string& path, const std::string& contents);

}  // namespace forge
