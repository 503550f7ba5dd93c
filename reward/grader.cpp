#include "reward/grader.h"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/utf8.h"

namespace forge::reward {

using Clock = std::chrono::steady_clock;

GradeOutcome error_outcome(const GradeItem& item, const absl::Status& status) {
  GradeOutcome out;
  out.id = item.id;
  out.error = to_valid_utf8(std::string(status.message()));
  out.error_code = error_code_of(status);
  return out;
}

namespace {

// How long past an item's deadline grade_batch waits for a rule before giving up on it.
constexpr std::chrono::milliseconds kOverrunGrace{1000};

Clock::duration seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

}  // namespace

struct Grader::Core {
  RewardConfig config;
  std::unique_ptr<RuleRegistry> registry;
  RewardMix mix;

  absl::Status check(const GradeItem& item) const {
    if (item.rule.empty()) return mix.check(item);
    const RewardRule* rule = registry->find(item.rule);
    if (rule == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("rule: unknown rule '", item.rule,
                                                     "' (known: ", registry->names(), ")"));
    }
    return rule->check(item);
  }

  GradeOutcome grade(const GradeItem& item, Clock::time_point deadline) const {
    GradeOutcome out;
    out.id = item.id;
    absl::Status failed;
    try {
      absl::Status valid = check(item);
      if (!valid.ok()) {
        failed = valid;
      } else if (item.rule.empty()) {
        absl::StatusOr<MixResult> mixed = mix.grade(item, deadline);
        if (mixed.ok()) {
          out.reward = mixed->reward;
          out.components = std::move(mixed->components);
          out.detail = std::move(mixed->detail);
        } else {
          failed = mixed.status();
        }
      } else {
        const RewardRule* rule = registry->find(item.rule);
        absl::StatusOr<RuleResult> result = grade_checked(*rule, item, deadline);
        if (result.ok()) {
          out.reward = result->reward;
          out.components[item.rule] = result->reward;
          out.detail = std::move(result->detail);
        } else {
          failed = result.status();
        }
      }
    } catch (const std::exception& e) {
      failed = absl::InternalError(absl::StrCat("internal error while grading: ", e.what()));
    } catch (...) {
      failed = absl::InternalError("internal error while grading: unknown exception");
    }
    if (!failed.ok()) return error_outcome(item, failed);
    out.detail = to_valid_utf8(out.detail);
    return out;
  }
};

namespace {

// One grade_batch call, shared by its tasks and its waiter.
struct Batch {
  enum class State { kQueued, kRunning, kDone };

  explicit Batch(const std::vector<GradeItem>& in) : items(in) {
    results.resize(items.size());
    state.assign(items.size(), State::kQueued);
    overdue_at.resize(items.size());
  }

  // Records `outcome` for item i unless it already has one. The caller holds mu.
  void finish(size_t i, GradeOutcome outcome) {
    if (state[i] == State::kDone) return;
    results[i] = std::move(outcome);
    state[i] = State::kDone;
    --remaining;
    cv.notify_all();
  }

  std::vector<GradeItem> items;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<GradeOutcome> results;
  std::vector<State> state;
  std::vector<Clock::time_point> overdue_at;  // for running items
  size_t remaining = 0;
  bool abandoned = false;  // the waiter gave up: skip items not yet started
  size_t started_too_late = 0;  // items whose turn came after the batch deadline (not graded)
};

}  // namespace

Grader::Grader(std::shared_ptr<const Core> core, std::unique_ptr<GradingPool> pool)
    : core_(std::move(core)), pool_(std::move(pool)) {}

Grader::~Grader() = default;

absl::StatusOr<std::unique_ptr<Grader>> Grader::create(const RewardConfig& config) {
  ASSIGN_OR_RETURN(std::unique_ptr<RuleRegistry> registry, RuleRegistry::create(config));
  return create(std::move(registry), config);
}

absl::StatusOr<std::unique_ptr<Grader>> Grader::create(std::unique_ptr<RuleRegistry> registry,
                                                       const RewardConfig& config) {
  RETURN_IF_ERROR(config.validate());
  ASSIGN_OR_RETURN(RewardMix mix, RewardMix::create(*registry, config.weights));
  auto core = std::make_shared<Core>(Core{config, std::move(registry), std::move(mix)});
  int threads = config.concurrency;
  if (threads == 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto pool = std::make_unique<GradingPool>(threads, config.queue_limit);
  return std::unique_ptr<Grader>(new Grader(std::move(core), std::move(pool)));
}

absl::Status Grader::check(const GradeItem& item) const { return core_->check(item); }

GradeOutcome Grader::grade_one(const GradeItem& item, Clock::time_point deadline) const {
  return core_->grade(item, deadline);
}

absl::StatusOr<std::vector<GradeOutcome>> Grader::grade_batch(const std::vector<GradeItem>& items,
                                                              const BatchOptions& options) const {
  const double item_timeout_s =
      options.item_timeout_s > 0 ? options.item_timeout_s : core_->config.timeout_s;
  auto batch = std::make_shared<Batch>(items);
  std::vector<GradingPool::Task> tasks;
  {
    std::lock_guard<std::mutex> lock(batch->mu);
    batch->remaining = items.size();
    for (size_t i = 0; i < items.size(); ++i) {
      absl::Status valid = core_->check(items[i]);
      if (!valid.ok()) {
        batch->finish(i, error_outcome(items[i], valid));
        continue;
      }
      GradingPool::Task task;
      task.max_seconds = item_timeout_s;
      task.fn = [batch, core = core_, i, item_timeout_s, deadline = options.deadline](bool run) {
        std::unique_lock<std::mutex> lock(batch->mu);
        if (!run || batch->abandoned) {
          batch->finish(i, error_outcome(batch->items[i],
                                         absl::CancelledError(run ? "not graded: the caller gave up"
                                                                  : "not graded: shutting down")));
          return;
        }
        if (Clock::now() >= deadline) {
          ++batch->started_too_late;
          batch->finish(
              i, error_outcome(batch->items[i], absl::DeadlineExceededError(
                                                    "not graded: the batch deadline passed")));
          return;
        }
        const Clock::time_point item_deadline =
            std::min(deadline, Clock::now() + seconds(item_timeout_s));
        batch->state[i] = Batch::State::kRunning;
        batch->overdue_at[i] = item_deadline + kOverrunGrace;
        lock.unlock();
        GradeOutcome outcome = core->grade(batch->items[i], item_deadline);
        lock.lock();
        batch->finish(i, std::move(outcome));
      };
      tasks.push_back(std::move(task));
    }
  }
  if (!tasks.empty()) RETURN_IF_ERROR(pool_->submit(std::move(tasks)));

  std::unique_lock<std::mutex> lock(batch->mu);
  const auto deadline_exceeded = [&](size_t not_graded) {
    batch->abandoned = true;
    return absl::DeadlineExceededError(absl::StrCat("deadline exceeded with ", not_graded, " of ",
                                                    items.size(), " items not graded"));
  };
  while (batch->remaining > 0) {
    batch->cv.wait_until(lock, std::min(options.deadline, Clock::now() + std::chrono::milliseconds(100)));
    if (batch->remaining == 0) break;
    if (options.cancelled && options.cancelled()) {
      batch->abandoned = true;
      return absl::CancelledError("the caller cancelled the batch");
    }
    const Clock::time_point now = Clock::now();
    if (now >= options.deadline) return deadline_exceeded(batch->remaining + batch->started_too_late);
    for (size_t i = 0; i < items.size(); ++i) {
      if (batch->state[i] == Batch::State::kRunning && now > batch->overdue_at[i]) {
        const std::string rule = items[i].rule.empty() ? "the mix" : "rule '" + items[i].rule + "'";
        batch->finish(i, error_outcome(items[i], absl::DeadlineExceededError(absl::StrCat(
                                                     rule, " did not return within its ",
                                                     item_timeout_s, " s deadline"))));
      }
    }
  }
  // The last items may have reached their turn after the deadline and been skipped by the pool
  // thread before this thread woke up: the batch still missed its deadline.
  if (batch->started_too_late > 0) return deadline_exceeded(batch->started_too_late);
  return std::move(batch->results);
}

absl::StatusOr<std::vector<GradeOutcome>> Grader::grade(const std::vector<GradeItem>& items) const {
  const size_t slice = static_cast<size_t>(std::max(1, core_->config.queue_limit));
  std::vector<GradeOutcome> outcomes;
  outcomes.reserve(items.size());
  for (size_t start = 0; start < items.size(); start += slice) {
    std::vector<GradeItem> part(items.begin() + start,
                                items.begin() + std::min(items.size(), start + slice));
    ASSIGN_OR_RETURN(std::vector<GradeOutcome> graded, grade_batch(part, BatchOptions{}));
    for (GradeOutcome& o : graded) outcomes.push_back(std::move(o));
  }
  return outcomes;
}

std::vector<RuleInfo> Grader::rules() const {
  std::vector<RuleInfo> out;
  for (const RewardRule* rule : core_->registry->rules()) {
    RuleInfo info;
    info.name = rule->name();
    info.description = rule->description();
    auto it = core_->config.weights.find(info.name);
    info.weight = it == core_->config.weights.end() ? 0.0 : it->second;
    info.range = rule->range();
    out.push_back(std::move(info));
  }
  return out;
}

const RewardConfig& Grader::config() const { return core_->config; }

}  // namespace forge::reward
