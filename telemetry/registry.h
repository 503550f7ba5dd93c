// Prometheus metrics for Forge's servers: counters, gauges and histograms, each a family of series
// told apart by labels, rendered in the Prometheus text format (version 0.0.4) by render(). Names
// are used as given ("forge:generation_tokens_total"); metric_name() turns any other key into a
// valid one. A Registry hands out stable references: asking again for the same name and labels
// returns the same metric. on_scrape() hooks copy state that lives elsewhere (a queue depth) into
// gauges just before each render.
// Thread-safety: everything is thread-safe; counters and gauges update without a lock, histograms
// under their own small mutex; render() may run while metrics change.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace forge::telemetry {

using Labels = std::vector<std::pair<std::string, std::string>>;

// Goes up only (a reset is a process restart).
class Counter {
 public:
  void inc(double amount = 1.0);  // amount >= 0
  double value() const { return value_.load(); }

 private:
  std::atomic<double> value_{0.0};
};

class Gauge {
 public:
  void set(double value) { value_.store(value); }
  void add(double amount);
  double value() const { return value_.load(); }

 private:
  std::atomic<double> value_{0.0};
};

// Cumulative buckets over fixed upper bounds (+Inf is implied), with the sum and count.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);  // sorted ascending
  void observe(double value);

  struct Snapshot {
    std::vector<double> upper_bounds;
    std::vector<uint64_t> cumulative;  // per bound, then +Inf (= count)
    double sum = 0;
    uint64_t count = 0;
  };
  Snapshot snapshot() const;

 private:
  const std::vector<double> upper_bounds_;
  mutable std::mutex mu_;
  std::vector<uint64_t> counts_;  // per bound, then the +Inf bucket (not cumulative)
  double sum_ = 0;
};

// Latency buckets in seconds, 1 ms .. 10 min (vLLM's request-latency spread).
std::vector<double> latency_buckets();

// `key` as a Prometheus name under "forge:": "reward/mean" -> "forge:reward_mean" (characters
// outside [a-zA-Z0-9_] become '_').
std::string metric_name(std::string_view key);

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // The metric `name` with `labels`, created on first use. A name keeps the type and help it was
  // first registered with (asking for it as another type is a programming error: it aborts).
  Counter& counter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& gauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& histogram(const std::string& name, const std::string& help,
                       const std::vector<double>& upper_bounds, const Labels& labels = {});

  // Called (in registration order) at the start of every render().
  void on_scrape(std::function<void()> update);

  // Every family sorted by name, its series in creation order.
  std::string render() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    Labels labels;
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
  };
  struct Family {
    Type type;
    std::string help;
    std::vector<std::unique_ptr<Series>> series;
  };
  Series& series(const std::string& name, const std::string& help, Type type, const Labels& labels);

  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
  std::vector<std::function<void()>> scrape_hooks_;
};

}  // namespace forge::telemetry
