#include "reward/reward_client.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "forge/v1/reward.grpc.pb.h"
#include "proto/grpc_util.h"
#include "reward/proto_convert.h"

namespace forge::reward {

struct RewardClient::Stub {
  std::unique_ptr<forge::v1::RewardService::Stub> stub;
};

RewardClient::RewardClient(const std::string& address)
    : address_(address),
      stub_(new Stub{forge::v1::RewardService::NewStub(net::make_channel(address))}) {}

RewardClient::~RewardClient() = default;

absl::StatusOr<std::vector<GradeOutcome>> RewardClient::grade(
    const std::vector<GradeItem>& items, const GradeCallOptions& options) const {
  forge::v1::GradeRequest request;
  request.set_item_timeout_s(static_cast<float>(options.item_timeout_s));
  for (const GradeItem& item : items) *request.add_items() = to_proto(item);
  const auto deadline = std::chrono::system_clock::now() + options.timeout;
  std::chrono::milliseconds backoff(20);
  while (true) {
    grpc::ClientContext context;
    context.set_deadline(deadline);
    forge::v1::GradeResponse response;
    grpc::Status status = stub_->stub->Grade(&context, request, &response);
    if (status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED && options.retry_when_busy &&
        std::chrono::system_clock::now() + backoff < deadline) {
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
      continue;
    }
    if (!status.ok()) {
      absl::Status s = net::from_grpc(status);
      return absl::Status(s.code(), absl::StrCat("reward server ", address_, ": ", s.message()));
    }
    if (response.results_size() != static_cast<int>(items.size())) {
      return absl::InternalError(absl::StrCat("reward server ", address_, ": ",
                                              response.results_size(), " results for ",
                                              items.size(), " items"));
    }
    std::vector<GradeOutcome> out;
    out.reserve(items.size());
    for (const auto& result : response.results()) out.push_back(from_proto(result));
    return out;
  }
}

absl::StatusOr<std::vector<GradeOutcome>> RewardClient::grade(
    const std::vector<GradeItem>& items) const {
  return grade(items, GradeCallOptions{});
}

absl::Status RewardClient::check(const GradeItem& item) const {
  if (item.rule.empty()) return absl::OkStatus();  // the server's mix
  std::lock_guard<std::mutex> lock(rules_mu_);
  if (!rules_) {
    absl::StatusOr<std::vector<RuleInfo>> rules = list_rules();
    if (!rules.ok()) return rules.status();
    rules_ = *std::move(rules);
  }
  std::string known;
  for (const RuleInfo& rule : *rules_) {
    if (rule.name == item.rule) return absl::OkStatus();
    absl::StrAppend(&known, known.empty() ? "" : ", ", rule.name);
  }
  return absl::InvalidArgumentError(absl::StrCat("rule: unknown rule '", item.rule,
                                                 "' (reward server ", address_, " has: ", known,
                                                 ")"));
}

absl::StatusOr<std::vector<RuleInfo>> RewardClient::list_rules(
    std::chrono::milliseconds timeout) const {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout);
  forge::v1::ListRulesResponse response;
  grpc::Status status = stub_->stub->ListRules(&context, forge::v1::ListRulesRequest(), &response);
  if (!status.ok()) {
    absl::Status s = net::from_grpc(status);
    return absl::Status(s.code(), absl::StrCat("reward server ", address_, ": ", s.message()));
  }
  std::vector<RuleInfo> out;
  for (const auto& rule : response.rules()) out.push_back(from_proto(rule));
  return out;
}

}  // namespace forge::reward
