#include "telemetry/registry.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace forge::telemetry {
namespace {

void atomic_add(std::atomic<double>& target, double amount) {
  double old = target.load();
  while (!target.compare_exchange_weak(old, old + amount)) {
  }
}

// Go's float syntax, which Prometheus parses: +Inf, -Inf, NaN, else the shortest exact form.
std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return absl::StrFormat("%.17g", v);
}

std::string escape(std::string_view value, bool quotes) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quotes) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

// {a="x",b="y"} with `extra` (le="...") last; "" when there are no labels at all.
std::string label_text(const Labels& labels, const std::string& extra_key = "",
                       const std::string& extra_value = "") {
  std::string out;
  for (const auto& [k, v] : labels) {
    absl::StrAppend(&out, out.empty() ? "" : ",", k, "=\"", escape(v, true), "\"");
  }
  if (!extra_key.empty()) {
    absl::StrAppend(&out, out.empty() ? "" : ",", extra_key, "=\"", extra_value, "\"");
  }
  return out.empty() ? "" : absl::StrCat("{", out, "}");
}

bool valid_name(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':';
  });
}

}  // namespace

void Counter::inc(double amount) {
  if (amount > 0) atomic_add(value_, amount);
}

void Gauge::add(double amount) { atomic_add(value_, amount); }

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)), counts_(upper_bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  const size_t bucket =
      std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin();
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_[bucket];
  sum_ += value;
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.upper_bounds = upper_bounds_;
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t running = 0;
  for (uint64_t c : counts_) {
    running += c;
    s.cumulative.push_back(running);
  }
  s.count = running;
  s.sum = sum_;
  return s;
}

std::vector<double> latency_buckets() {
  return {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1,  0.25,  0.5,   0.75,
          1.0,   2.5,   5.0,  7.5,  10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 640.0};
}

std::string metric_name(std::string_view key) {
  std::string out = "forge:";
  for (char c : key) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

Registry::Series& Registry::series(const std::string& name, const std::string& help, Type type,
                                   const Labels& labels) {
  if (!valid_name(name)) {
    std::cerr << "telemetry: invalid metric name '" << name << "'\n";
    std::abort();
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = families_.try_emplace(name, Family{type, help, {}});
  Family& family = it->second;
  if (family.type != type) {
    std::cerr << "telemetry: metric '" << name << "' registered with two types\n";
    std::abort();
  }
  for (auto& s : family.series) {
    if (s->labels == labels) return *s;
  }
  family.series.push_back(std::make_unique<Series>());
  family.series.back()->labels = labels;
  return *family.series.back();
}

Counter& Registry::counter(const std::string& name, const std::string& help, const Labels& labels) {
  Series& s = series(name, help, Type::kCounter, labels);
  std::lock_guard<std::mutex> lock(mu_);
  if (!s.counter) s.counter = std::make_unique<Counter>();
  return *s.counter;
}

Gauge& Registry::gauge(const std::string& name, const std::string& help, const Labels& labels) {
  Series& s = series(name, help, Type::kGauge, labels);
  std::lock_guard<std::mutex> lock(mu_);
  if (!s.gauge) s.gauge = std::make_unique<Gauge>();
  return *s.gauge;
}

Histogram& Registry::histogram(const std::string& name, const std::string& help,
                               const std::vector<double>& upper_bounds, const Labels& labels) {
  Series& s = series(name, help, Type::kHistogram, labels);
  std::lock_guard<std::mutex> lock(mu_);
  if (!s.histogram) s.histogram = std::make_unique<Histogram>(upper_bounds);
  return *s.histogram;
}

void Registry::on_scrape(std::function<void()> update) {
  std::lock_guard<std::mutex> lock(mu_);
  scrape_hooks_.push_back(std::move(update));
}

std::string Registry::render() const {
  std::vector<std::function<void()>> hooks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    hooks = scrape_hooks_;
  }
  for (const auto& hook : hooks) hook();  // outside the lock: a hook may create series

  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    const char* type = family.type == Type::kCounter ? "counter"
                       : family.type == Type::kGauge ? "gauge"
                                                     : "histogram";
    absl::StrAppend(&out, "# HELP ", name, " ", escape(family.help, false), "\n# TYPE ", name, " ",
                    type, "\n");
    for (const auto& s : family.series) {
      if (s->counter) {
        absl::StrAppend(&out, name, label_text(s->labels), " ", number(s->counter->value()), "\n");
      } else if (s->gauge) {
        absl::StrAppend(&out, name, label_text(s->labels), " ", number(s->gauge->value()), "\n");
      } else if (s->histogram) {
        const Histogram::Snapshot h = s->histogram->snapshot();
        for (size_t b = 0; b < h.upper_bounds.size(); ++b) {
          absl::StrAppend(&out, name, "_bucket",
                          label_text(s->labels, "le", number(h.upper_bounds[b])), " ",
                          h.cumulative[b], "\n");
        }
        absl::StrAppend(&out, name, "_bucket", label_text(s->labels, "le", "+Inf"), " ", h.count,
                        "\n", name, "_sum", label_text(s->labels), " ", number(h.sum), "\n", name,
                        "_count", label_text(s->labels), " ", h.count, "\n");
      }
    }
  }
  return out;
}

}  // namespace forge::telemetry
