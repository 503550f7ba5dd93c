#include "rl/service/trainer_service.h"

#include "forge/v1/rollout.grpc.pb.h"
#include "proto/grpc_util.h"

namespace forge::rl {
namespace {

void to_proto(const StepRecord& record, forge::v1::StepMetrics* out) {
  out->set_step(record.step);
  out->set_wall_time(record.wall_time);
  for (const auto& [k, v] : record.values) (*out->mutable_values())[k] = v;
}

}  // namespace

TrainerServiceImpl::TrainerServiceImpl(const TrainerStatusBoard& board, const MetricsLog& metrics,
                                       std::vector<WorkerAddress> workers)
    : board_(board), metrics_(metrics), workers_(std::move(workers)) {}

grpc::Status TrainerServiceImpl::GetStatus(grpc::ServerContext*,
                                           const forge::v1::GetStatusRequest*,
                                           forge::v1::TrainerStatus* response) {
  const TrainerStatusBoard::Snapshot s = board_.snapshot();
  response->set_state(s.state);
  response->set_step(s.step);
  response->set_total_steps(s.total_steps);
  response->set_policy_version(s.policy_version);
  response->set_run_dir(s.run_dir);
  response->set_elapsed_s(board_.elapsed_seconds());
  if (auto last = metrics_.last()) to_proto(*last, response->mutable_last());
  return grpc::Status::OK;
}

grpc::Status TrainerServiceImpl::StreamMetrics(grpc::ServerContext* context,
                                               const forge::v1::StreamMetricsRequest* request,
                                               grpc::ServerWriter<forge::v1::StepMetrics>* writer) {
  if (request->from_step() < 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "from_step: must be >= 0");
  }
  int64_t sent = 0;
  auto send = [&](const std::vector<StepRecord>& records) {
    for (const auto& r : records) {
      forge::v1::StepMetrics message;
      to_proto(r, &message);
      if (!writer->Write(message)) return false;
      sent = r.step;
    }
    return true;
  };
  if (request->from_step() > 0) {
    if (!send(metrics_.history(request->from_step()))) return grpc::Status::OK;
  } else if (auto last = metrics_.last()) {
    sent = last->step;  // live steps only
  }
  while (!context->IsCancelled()) {
    const std::vector<StepRecord> fresh = metrics_.wait_after(sent, std::chrono::milliseconds(250));
    if (!send(fresh)) break;
    if (fresh.empty() && metrics_.closed()) break;
  }
  return grpc::Status::OK;
}

grpc::Status TrainerServiceImpl::ListWorkers(grpc::ServerContext*,
                                             const forge::v1::ListWorkersRequest*,
                                             forge::v1::ListWorkersResponse* response) {
  for (const WorkerAddress& w : workers_) {
    forge::v1::WorkerStatus* out = response->add_workers();
    out->set_address(w.address);
    out->set_role(w.role);
    out->set_healthy(net::check_health(w.address, std::chrono::milliseconds(500)).ok());
    if (w.role == "rollout" && out->healthy()) {
      auto stub = forge::v1::RolloutService::NewStub(net::make_channel(w.address));
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
      forge::v1::WorkerInfo info;
      if (stub->GetInfo(&context, forge::v1::GetInfoRequest(), &info).ok()) {
        out->set_policy_version(info.policy_version());
        out->set_active_sequences(info.active_sequences());
      }
    }
  }
  return grpc::Status::OK;
}

}  // namespace forge::rl
