#include "reward/code/sandbox_config.h"

#include "absl/strings/str_cat.h"

namespace forge::reward::code {

absl::Status SandboxConfig::validate() const {
  auto bad = [](const std::string& field, const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("sandbox config: ", field, " ", why));
  };
  if (bwrap_path.empty() || bwrap_path[0] != '/') return bad("bwrap", "must be an absolute path");
  if (python_path.empty() || python_path[0] != '/') {
    return bad("python", "must be an absolute path");
  }
  for (const std::string& dir : extra_ro_binds) {
    if (dir.empty() || dir[0] != '/')
      return bad("extra_ro_binds", "entries must be absolute paths");
  }
  if (sandbox_uid <= 0 || sandbox_gid <= 0) {
    return bad("sandbox_uid/sandbox_gid", "must be > 0 (a sandbox never runs as host root)");
  }
  if (!(wall_seconds > 0 && wall_seconds <= 3600))
    return bad("wall_seconds", "must be in (0, 3600]");
  if (!(cpu_seconds > 0 && cpu_seconds <= 3600)) return bad("cpu_seconds", "must be in (0, 3600]");
  if (memory_bytes < (64ll << 20)) return bad("memory_mb", "must be at least 64");
  if (max_processes < 1 || max_processes > 100000) {
    return bad("max_processes", "must be in [1, 100000]");
  }
  if (max_file_bytes < 0) return bad("max_file_mb", "must be >= 0");
  if (tmp_bytes < (1ll << 20)) return bad("tmp_mb", "must be at least 1");
  if (max_open_files < 16 || max_open_files > 1048576) {
    return bad("max_open_files", "must be in [16, 1048576]");
  }
  if (max_output_bytes < 1024) return bad("max_output_kb", "must be at least 1");
  return absl::OkStatus();
}

}  // namespace forge::reward::code
