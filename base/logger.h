// Where library code reports progress and warnings (LevelDB's Logger): a trainer or a stage takes a
// Logger* and writes plain lines to it; the program that owns the output (the CLI) decides where
// they go and how they are labelled. A null Logger* means "say nothing" (log_info / log_warning
// accept it).
// Thread-safety: implementations must be thread-safe; StreamLogger is.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

namespace forge {

class Logger {
 public:
  enum class Level { kInfo, kWarning };
  virtual ~Logger() = default;
  virtual void log(Level level, std::string_view line) = 0;
};

inline void log_info(Logger* logger, std::string_view line) {
  if (logger != nullptr) logger->log(Logger::Level::kInfo, line);
}
inline void log_warning(Logger* logger, std::string_view line) {
  if (logger != nullptr) logger->log(Logger::Level::kWarning, line);
}

// Info lines to `out`, warnings to `err`, each after "<label>: " ("forge run: step 3/120 ...").
// Each line is flushed at once, so a log file or a pipe sees progress as it happens.
class StreamLogger : public Logger {
 public:
  StreamLogger(std::string label, std::FILE* out = stdout, std::FILE* err = stderr)
      : label_(std::move(label)), out_(out), err_(err) {}

  void log(Level level, std::string_view line) override {
    std::lock_guard<std::mutex> lock(mu_);
    std::FILE* f = level == Level::kInfo ? out_ : err_;
    if (!label_.empty()) {
      std::fwrite(label_.data(), 1, label_.size(), f);
      std::fputs(": ", f);
    }
    std::fwrite(line.data(), 1, line.size(), f);
    std::fputc('\n', f);
    std::fflush(f);
  }

 private:
  std::mutex mu_;
  const std::string label_;
  std::FILE* const out_;
  std::FILE* const err_;
};

}  // namespace forge
