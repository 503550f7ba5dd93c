#include "rl/metrics/metrics_log.h"

#include <chrono>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "rl/metrics/step_lines.h"

namespace forge::rl {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string to_line(const StepRecord& r) {
  nlohmann::ordered_json j;
  j["step"] = r.step;
  for (const auto& [k, v] : r.values) {
    if (k != "step") j[k] = v;
  }
  j["wall_time"] = r.wall_time;
  return j.dump() + "\n";
}

absl::StatusOr<StepRecord> from_line(const std::string& line, const std::string& where) {
  StepRecord r;
  try {
    const nlohmann::json j = nlohmann::json::parse(line);
    r.step = j.at("step").get<int64_t>();
    for (const auto& [k, v] : j.items()) {
      if (k == "step") continue;
      if (k == "wall_time") {
        r.wall_time = v.get<double>();
      } else if (v.is_number()) {
        r.values[k] = v.get<double>();
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat(where, ": bad metrics line: ", e.what()));
  }
  return r;
}

}  // namespace

MetricsLog::MetricsLog(std::string path, TensorBoardWriter tensorboard)
    : path_(std::move(path)), tensorboard_(std::move(tensorboard)) {}

absl::StatusOr<std::unique_ptr<MetricsLog>> MetricsLog::open(const std::string& run_dir,
                                                             int64_t keep_through_step) {
  std::error_code ec;
  std::filesystem::create_directories(run_dir, ec);
  const std::string path = run_dir + "/metrics.jsonl";
  ASSIGN_OR_RETURN(std::vector<StepLine> lines, keep_lines_through_step(path, keep_through_step));
  std::vector<StepRecord> kept;
  for (const StepLine& line : lines) {
    ASSIGN_OR_RETURN(StepRecord record, from_line(line.text, absl::StrCat(path, ":", line.number)));
    kept.push_back(std::move(record));
  }
  ASSIGN_OR_RETURN(TensorBoardWriter tensorboard, TensorBoardWriter::open(run_dir));
  std::unique_ptr<MetricsLog> log(new MetricsLog(path, std::move(tensorboard)));
  log->out_.open(path, std::ios::app);
  if (!log->out_) return absl::PermissionDeniedError(absl::StrCat("cannot append to '", path, "'"));
  log->steps_ = std::move(kept);
  return log;
}

absl::Status MetricsLog::log(int64_t step, const std::map<std::string, double>& values) {
  StepRecord record{step, values, now_seconds()};
  {
    std::lock_guard<std::mutex> lock(mu_);
    out_ << to_line(record);
    out_.flush();
    if (!out_) return absl::DataLossError(absl::StrCat("write to '", path_, "' failed"));
    RETURN_IF_ERROR(tensorboard_.add_scalars(step, values, record.wall_time));
    steps_.push_back(std::move(record));
  }
  changed_.notify_all();
  return absl::OkStatus();
}

std::vector<StepRecord> MetricsLog::history(int64_t from_step) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<StepRecord> out;
  for (const auto& r : steps_) {
    if (r.step >= from_step) out.push_back(r);
  }
  return out;
}

std::vector<StepRecord> MetricsLog::wait_after(int64_t after_step,
                                               std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait_for(lock, timeout, [&] {
    return closed_ || (!steps_.empty() && steps_.back().step > after_step);
  });
  std::vector<StepRecord> out;
  for (const auto& r : steps_) {
    if (r.step > after_step) out.push_back(r);
  }
  return out;
}

void MetricsLog::close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  changed_.notify_all();
}

bool MetricsLog::closed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return closed_;
}

std::optional<StepRecord> MetricsLog::last() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (steps_.empty()) return std::nullopt;
  return steps_.back();
}

}  // namespace forge::rl
