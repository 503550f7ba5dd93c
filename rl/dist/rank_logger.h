// The log of one rank of a data-parallel job: every line goes to run.dir/logs/rank-<r>.log
// (appended, flushed line by line); on the console (the program's own logger), rank 0 says
// everything and the other ranks only their warnings, each line marked with its rank.
// Thread-safety: thread-safe.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"
#include "base/logger.h"

namespace forge::rl {

class RankLogger : public Logger {
 public:
  // `console` may be null. Lines that cannot be written to `path` still reach the console.
  RankLogger(const std::string& path, int rank, Logger* console)
      : file_(std::fopen(path.c_str(), "a")), rank_(rank), console_(console) {}
  ~RankLogger() override {
    if (file_ != nullptr) std::fclose(file_);
  }
  RankLogger(const RankLogger&) = delete;
  RankLogger& operator=(const RankLogger&) = delete;

  void log(Level level, std::string_view line) override {
    const std::string marked = absl::StrCat("[rank ", rank_, "] ", std::string(line));
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (file_ != nullptr) {
        std::fputs(level == Level::kWarning ? "warning: " : "", file_);
        std::fwrite(marked.data(), 1, marked.size(), file_);
        std::fputc('\n', file_);
        std::fflush(file_);
      }
    }
    if (console_ != nullptr && (rank_ == 0 || level == Level::kWarning)) {
      console_->log(level, rank_ == 0 ? std::string(line) : marked);
    }
  }

 private:
  std::mutex mu_;
  std::FILE* const file_;
  const int rank_;
  Logger* const console_;
};

}  // namespace forge::rl
