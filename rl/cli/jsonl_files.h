// The --input and --output of a JSONL subcommand (`forge grade`, `forge tokenize`): '-' is
// stdin / stdout; an output file is written beside itself and renamed over itself by commit(), so
// it appears whole or not at all. An output that exists and is not a regular file (/dev/null, a
// FIFO, a terminal) is written in place: renaming over it would replace the device with a file.
// Thread-safety: one command's files; not shared.
#pragma once

#include <fstream>
#include <iostream>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/statusor.h"

namespace forge::rl::cli {

class JsonlFiles {
 public:
  // NotFound "cannot read --input 'PATH'"; PermissionDenied "cannot write --output 'PATH'".
  static absl::StatusOr<std::unique_ptr<JsonlFiles>> open(const std::string& input,
                                                          const std::string& output);
  ~JsonlFiles();  // an output never committed is removed
  JsonlFiles(const JsonlFiles&) = delete;
  JsonlFiles& operator=(const JsonlFiles&) = delete;

  std::istream& in() { return input_ == "-" ? std::cin : in_file_; }
  std::ostream& out() { return output_ == "-" ? std::cout : out_file_; }
  // Closes the output and renames it into place.
  absl::Status commit();

 private:
  JsonlFiles(std::string input, std::string output);

  std::string input_, output_, tmp_;  // tmp_ empty: the output is written in place
  std::ifstream in_file_;
  std::ofstream out_file_;
  bool committed_ = false;
};

}  // namespace forge::rl::cli
