#include "rl/cli/top_screen.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace forge::rl::cli {
namespace {

std::vector<double> series(const TopSnapshot& s, const std::string& key) {
  std::vector<double> out;
  for (const auto& [step, values] : s.history) {
    auto it = values.find(key);
    if (it != values.end()) out.push_back(it->second);
  }
  return out;
}

double last_of(const TopSnapshot& s, const std::string& key, double fallback = NAN) {
  if (s.history.empty()) return fallback;
  const auto& values = s.history.rbegin()->second;
  auto it = values.find(key);
  return it == values.end() ? fallback : it->second;
}

std::string number(double v, const char* format = "%.3f") {
  return std::isfinite(v) ? absl::StrFormat(format, v) : "-";
}

}  // namespace

std::string sparkline(const std::vector<double>& values, int width, bool unicode) {
  static const char* const kBlocks[] = {"\u2581", "\u2582", "\u2583", "\u2584",
                                        "\u2585", "\u2586", "\u2587", "\u2588"};
  static const char kRamp[] = " .:-=+*#";
  if (values.empty() || width <= 0) return "";
  const size_t n = std::min<size_t>(values.size(), static_cast<size_t>(width));
  const std::vector<double> tail(values.end() - n, values.end());
  double lo = INFINITY, hi = -INFINITY;
  for (double v : tail) {
    if (!std::isfinite(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  std::string out;
  for (double v : tail) {
    int level = 0;
    if (std::isfinite(v) && hi > lo)
      level = static_cast<int>(std::lround((v - lo) / (hi - lo) * 7));
    if (std::isfinite(v) && hi == lo) level = 3;
    out += unicode ? kBlocks[level] : std::string(1, kRamp[level]);
  }
  return out;
}

std::string duration_text(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int64_t s = static_cast<int64_t>(std::llround(seconds));
  if (s >= 3600) return absl::StrFormat("%dh%02dm", s / 3600, (s % 3600) / 60);
  if (s >= 60) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrCat(s, "s");
}

std::string render_top(const TopSnapshot& s, int width, bool unicode) {
  std::vector<std::string> lines;
  std::string state = s.state;
  if (s.paused && state != "paused") state += " (pausing)";
  if (s.stop_requested && state != "stopping") state += " (stop requested)";
  const double percent = s.total_steps > 0 ? 100.0 * s.step / s.total_steps : 0.0;
  // ETA from the mean time of the last (up to) 10 steps.
  std::vector<double> step_times = series(s, "time/step");
  double eta = NAN;
  if (!step_times.empty() && s.total_steps > s.step) {
    const size_t k = std::min<size_t>(10, step_times.size());
    double sum = 0;
    for (size_t i = step_times.size() - k; i < step_times.size(); ++i) sum += step_times[i];
    eta = sum / k * static_cast<double>(s.total_steps - s.step);
  } else if (s.total_steps > 0 && s.step >= s.total_steps) {
    eta = 0;
  }
  lines.push_back(absl::StrCat("forge top  ", s.address, "  state ", state));
  lines.push_back(absl::StrFormat("step %d/%d (%.0f%%)  ETA %s  elapsed %s  policy v%d", s.step,
                                  s.total_steps, percent, duration_text(eta),
                                  duration_text(s.elapsed_s), s.policy_version));
  const int spark = std::max(8, width - 34);
  lines.push_back(absl::StrCat("reward    ",
                               absl::StrFormat("%8s", number(last_of(s, "reward/mean"))), "  ",
                               sparkline(series(s, "reward/mean"), spark, unicode)));
  lines.push_back(absl::StrCat("accuracy  ", absl::StrFormat("%8s", number(last_of(s, "accuracy"))),
                               "  ", sparkline(series(s, "accuracy"), spark, unicode)));
  lines.push_back(absl::StrCat("response  mean ",
                               number(last_of(s, "response_length/mean"), "%.1f"), "  max ",
                               number(last_of(s, "response_length/max"), "%.0f"), " tokens  ",
                               number(last_of(s, "tokens_per_s"), "%.0f"), " tokens/s"));
  const double total = last_of(s, "time/step", 0.0);
  std::string split = "time      ";
  for (const char* part : {"rollout", "reward", "train", "sync"}) {
    const double t = last_of(s, absl::StrCat("time/", part), NAN);
    absl::StrAppend(&split, part, " ", number(t, "%.2f"), "s");
    if (total > 0 && std::isfinite(t))
      absl::StrAppend(&split, absl::StrFormat(" (%.0f%%)", 100 * t / total));
    absl::StrAppend(&split, "  ");
  }
  lines.push_back(split);
  lines.push_back(absl::StrFormat(
      "loss %s  kl %s  entropy %s  grad_norm %s", number(last_of(s, "loss"), "%.4f"),
      number(last_of(s, "kl"), "%.4f"), number(last_of(s, "entropy"), "%.3f"),
      number(last_of(s, "grad_norm"), "%.3f")));
  lines.push_back("");
  lines.push_back(absl::StrFormat("%-36s %-7s %-6s %7s %7s %6s %5s", "worker", "role", "health",
                                  "version", "running", "queued", "kv"));
  if (s.workers.empty()) lines.push_back("(in process: no workers)");
  for (const TopWorker& w : s.workers) {
    std::string address = w.address;
    if (address.size() > 36) address = "..." + address.substr(address.size() - 33);
    if (w.role == "rollout" && w.healthy) {
      lines.push_back(absl::StrFormat("%-36s %-7s %-6s %7d %7d %6d %4.0f%%", address, w.role, "ok",
                                      w.policy_version, w.running, w.queued,
                                      100 * w.kv_cache_usage));
    } else {
      lines.push_back(absl::StrFormat("%-36s %-7s %-6s %s", address, w.role,
                                      w.healthy ? "ok" : "DOWN", w.error));
    }
  }
  std::string out;
  for (const std::string& line : lines) {
    absl::StrAppend(&out, absl::StripTrailingAsciiWhitespace(line), "\n");
  }
  return out;
}

}  // namespace forge::rl::cli
