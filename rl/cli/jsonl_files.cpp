#include "rl/cli/jsonl_files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "absl/strings/str_cat.h"

namespace forge::rl::cli {

namespace {

// An output path that exists and is not a regular file (a device, a FIFO): written in place.
bool written_in_place(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode);
}

}  // namespace

JsonlFiles::JsonlFiles(std::string input, std::string output)
    : input_(std::move(input)),
      output_(std::move(output)),
      tmp_(output_ == "-" || written_in_place(output_) ? ""
                                                       : absl::StrCat(output_, ".tmp.", ::getpid())) {}

absl::StatusOr<std::unique_ptr<JsonlFiles>> JsonlFiles::open(const std::string& input,
                                                             const std::string& output) {
  std::unique_ptr<JsonlFiles> files(new JsonlFiles(input, output));
  if (input != "-") {
    files->in_file_.open(input, std::ios::binary);
    if (!files->in_file_) {
      return absl::NotFoundError(absl::StrCat("cannot read --input '", input, "'"));
    }
  }
  if (output != "-") {
    files->out_file_.open(files->tmp_.empty() ? output : files->tmp_,
                          std::ios::binary | std::ios::trunc);
    if (!files->out_file_) {
      return absl::PermissionDeniedError(absl::StrCat("cannot write --output '", output, "'"));
    }
  }
  return files;
}

JsonlFiles::~JsonlFiles() {
  if (!tmp_.empty() && !committed_) std::remove(tmp_.c_str());
}

absl::Status JsonlFiles::commit() {
  if (output_ == "-") {
    std::cout.flush();
    return std::cout ? absl::OkStatus() : absl::DataLossError("writing stdout failed");
  }
  out_file_.close();
  if (!out_file_)
    return absl::DataLossError(absl::StrCat("writing --output '", output_, "' failed"));
  if (!tmp_.empty() && std::rename(tmp_.c_str(), output_.c_str()) != 0) {
    return absl::DataLossError(absl::StrCat("cannot rename ", tmp_, " to ", output_));
  }
  committed_ = true;
  return absl::OkStatus();
}

}  // namespace forge::rl::cli
