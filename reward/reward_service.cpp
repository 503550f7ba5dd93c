#include "reward/reward_service.h"

#include <chrono>
#include <cmath>
#include <exception>

#include "absl/strings/str_cat.h"
#include "proto/grpc_util.h"
#include "reward/proto_convert.h"

namespace forge::reward {
namespace {

using Clock = std::chrono::steady_clock;

// Longest per-item timeout a request may ask for.
constexpr double kMaxItemTimeoutS = 3600.0;

// The call's deadline on the steady clock (max() when the client set none).
Clock::time_point steady_deadline(const grpc::ServerContext& context) {
  const auto left = context.deadline() - std::chrono::system_clock::now();
  if (left > std::chrono::hours(24 * 365)) return Clock::time_point::max();
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(left);
}

grpc::Status invalid(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

}  // namespace

RewardServiceImpl::RewardServiceImpl(std::shared_ptr<const Grader> grader, RewardMetrics* metrics)
    : grader_(std::move(grader)), metrics_(metrics) {}

grpc::Status RewardServiceImpl::Grade(grpc::ServerContext* context,
                                      const forge::v1::GradeRequest* request,
                                      forge::v1::GradeResponse* response) {
  const Clock::time_point start = Clock::now();
  if (metrics_ != nullptr) metrics_->running().add(1);
  std::vector<GradeItem> items;
  std::vector<GradeOutcome> outcomes;
  const grpc::Status status = grade(context, request, &items, &outcomes);
  for (const GradeOutcome& outcome : outcomes) *response->add_results() = to_proto(outcome);
  if (metrics_ != nullptr) {
    metrics_->running().add(-1);
    if (status.ok()) {
      metrics_->record(items, outcomes);
    } else {
      metrics_->record_failure(net::from_grpc(status));
    }
    metrics_->observe_latency(std::chrono::duration<double>(Clock::now() - start).count());
  }
  return status;
}

grpc::Status RewardServiceImpl::grade(grpc::ServerContext* context,
                                      const forge::v1::GradeRequest* request,
                                      std::vector<GradeItem>* items_out,
                                      std::vector<GradeOutcome>* outcomes_out) {
  try {
    const double timeout = request->item_timeout_s();
    if (!std::isfinite(timeout) || timeout < 0 || timeout > kMaxItemTimeoutS) {
      return invalid(absl::StrCat("item_timeout_s: must be in [0, ", kMaxItemTimeoutS,
                                  "] (0: the server's default)"));
    }
    std::vector<GradeItem>& items = *items_out;
    items.reserve(request->items_size());
    for (int i = 0; i < request->items_size(); ++i) {
      absl::StatusOr<GradeItem> item = from_proto(request->items(i));
      absl::Status valid = item.ok() ? grader_->check(*item) : item.status();
      if (!valid.ok()) return invalid(absl::StrCat("items[", i, "].", valid.message()));
      items.push_back(std::move(item).value());
    }
    BatchOptions options;
    options.item_timeout_s = timeout;
    options.deadline = steady_deadline(*context);
    options.cancelled = [context] { return context->IsCancelled(); };
    absl::StatusOr<std::vector<GradeOutcome>> outcomes = grader_->grade_batch(items, options);
    if (!outcomes.ok()) return net::to_grpc(outcomes.status());
    *outcomes_out = std::move(outcomes).value();
    return grpc::Status::OK;
  } catch (const std::exception& e) {
    return grpc::Status(grpc::StatusCode::INTERNAL, absl::StrCat("Grade: ", e.what()));
  }
}

grpc::Status RewardServiceImpl::ListRules(grpc::ServerContext*, const forge::v1::ListRulesRequest*,
                                          forge::v1::ListRulesResponse* response) {
  try {
    for (const RuleInfo& info : grader_->rules()) *response->add_rules() = to_proto(info);
    return grpc::Status::OK;
  } catch (const std::exception& e) {
    return grpc::Status(grpc::StatusCode::INTERNAL, absl::StrCat("ListRules: ", e.what()));
  }
}

}  // namespace forge::reward
