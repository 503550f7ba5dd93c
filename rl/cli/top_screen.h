// What `forge top` shows, as text from plain values: the run's state, step and ETA, sparklines of
// reward and accuracy over the steps so far, response length, where a step's time goes, and the
// workers with their load. No terminal control here: top_command.cpp clears and redraws.
// Thread-safety: functions.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace forge::rl::cli {

struct TopWorker {
  std::string address;
  std::string role;
  bool healthy = false;
  int64_t policy_version = 0;
  int running = 0;
  int queued = 0;
  double kv_cache_usage = 0;
  std::string error;
};

struct TopSnapshot {
  std::string address;  // the TrainerService watched
  std::string state;
  int64_t step = 0;
  int64_t total_steps = 0;
  int64_t policy_version = 0;
  double elapsed_s = 0;
  bool paused = false;
  bool stop_requested = false;
  std::map<int64_t, std::map<std::string, double>> history;  // step -> metrics.jsonl values
  std::vector<TopWorker> workers;
};

// `values` as a sparkline of at most `width` characters (the last ones): Unicode blocks, or the
// ASCII ramp " .:-=+*#" when `unicode` is false. "" for no values.
std::string sparkline(const std::vector<double>& values, int width, bool unicode);

// "1h02m", "3m05s", "42s"; "?" for a negative or non-finite number.
std::string duration_text(double seconds);

// The whole screen, lines separated by '\n'; the sparklines fill what `width` leaves.
std::string render_top(const TopSnapshot& snapshot, int width, bool unicode);

}  // namespace forge::rl::cli
