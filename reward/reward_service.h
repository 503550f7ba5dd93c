// RewardService over gRPC (proto/forge/v1/reward.proto), a thin layer over a Grader:
//
// Grade: items are converted and checked first; the first bad item fails the whole call with
//   INVALID_ARGUMENT naming it ("items[3].rule: unknown rule 'mth' (known: ...)"). A batch that does
//   not fit the grading queue is RESOURCE_EXHAUSTED (nothing graded; retry later or split it). Each
//   item gets its own deadline (item_timeout_s, else reward.timeout_s) counted from when its grading
//   starts; an item that runs out of it comes back with `error` set and reward 0. The call's own
//   deadline is honoured: past it the call ends DEADLINE_EXCEEDED and items not yet started are
//   skipped; a cancelled call stops the same way.
// Metrics: every Grade call is counted in the RewardMetrics given (reward_metrics.h).
// ListRules: every rule, with its weight in the configured mix and its reward range.
//
// Handlers never throw. Thread-safe: gRPC calls the handlers from many threads.
#pragma once

#include <memory>

#include "forge/v1/reward.grpc.pb.h"
#include "reward/grader.h"
#include "reward/reward_metrics.h"

namespace forge::reward {

class RewardServiceImpl final : public forge::v1::RewardService::Service {
 public:
  // `metrics` (optional) records every Grade call.
  explicit RewardServiceImpl(std::shared_ptr<const Grader> grader,
                             RewardMetrics* metrics = nullptr);

  grpc::Status Grade(grpc::ServerContext* context, const forge::v1::GradeRequest* request,
                     forge::v1::GradeResponse* response) override;
  grpc::Status ListRules(grpc::ServerContext* context, const forge::v1::ListRulesRequest* request,
                         forge::v1::ListRulesResponse* response) override;

 private:
  grpc::Status grade(grpc::ServerContext* context, const forge::v1::GradeRequest* request,
                     std::vector<GradeItem>* items, std::vector<GradeOutcome>* outcomes);

  std::shared_ptr<const Grader> grader_;
  RewardMetrics* metrics_;
};

}  // namespace forge::reward
