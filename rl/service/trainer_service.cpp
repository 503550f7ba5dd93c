#include "rl/service/trainer_service.h"

#include "absl/strings/str_cat.h"
#include "forge/v1/rollout.grpc.pb.h"
#include "proto/grpc_util.h"

namespace forge::rl {
namespace {

void to_proto(const StepRecord& record, forge::v1::StepMetrics* out) {
  out->set_step(record.step);
  out->set_wall_time(record.wall_time);
  for (const auto& [k, v] : record.values) (*out->mutable_values())[k] = v;
}

// Longest a SaveCheckpoint waits when its caller set no deadline.
constexpr auto kDefaultSaveWait = std::chrono::minutes(30);

}  // namespace

TrainerServiceImpl::TrainerServiceImpl(const TrainerStatusBoard& board, const MetricsLog& metrics,
                                       std::vector<WorkerAddress> workers, TrainerControl* control)
    : board_(board), metrics_(metrics), workers_(std::move(workers)), control_(control) {}

grpc::Status TrainerServiceImpl::GetStatus(grpc::ServerContext*, const forge::v1::GetStatusRequest*,
                                           forge::v1::TrainerStatus* response) {
  const TrainerStatusBoard::Snapshot s = board_.snapshot();
  response->set_state(s.state);
  response->set_step(s.step);
  response->set_total_steps(s.total_steps);
  response->set_policy_version(s.policy_version);
  response->set_run_dir(s.run_dir);
  response->set_elapsed_s(board_.elapsed_seconds());
  if (auto last = metrics_.last()) to_proto(*last, response->mutable_last());
  if (control_ != nullptr) {
    response->set_paused(control_->paused());
    response->set_stop_requested(control_->stop_requested());
  }
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
    const absl::Status health = net::check_health(w.address, std::chrono::milliseconds(500));
    out->set_healthy(health.ok());
    if (!health.ok()) out->set_error(std::string(health.message()));
    if (w.role == "rollout" && out->healthy()) {
      auto stub = forge::v1::RolloutService::NewStub(net::make_channel(w.address));
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
      forge::v1::WorkerInfo info;
      const grpc::Status got = stub->GetInfo(&context, forge::v1::GetInfoRequest(), &info);
      if (got.ok()) {
        out->set_policy_version(info.policy_version());
        out->set_active_sequences(info.active_sequences());
        out->set_queued_sequences(info.queued_sequences());
        if (info.cache_bytes_capacity() > 0) {
          out->set_kv_cache_usage(static_cast<double>(info.cache_bytes_used()) /
                                  info.cache_bytes_capacity());
        }
      } else {
        out->set_error(got.error_message());
      }
    }
  }
  return grpc::Status::OK;
}

grpc::Status TrainerServiceImpl::SaveCheckpoint(grpc::ServerContext* context,
                                                const forge::v1::SaveCheckpointRequest*,
                                                forge::v1::SaveCheckpointResponse* response) {
  int64_t ignored = 0;
  if (grpc::Status none = control([](TrainerControl&) {}, &ignored); !none.ok()) return none;
  const auto left = context->deadline() - std::chrono::system_clock::now();
  const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::min<std::chrono::system_clock::duration>(left, kDefaultSaveWait));
  absl::StatusOr<int64_t> step = control_->save_checkpoint(wait);
  if (!step.ok()) return net::to_grpc(step.status());
  response->set_step(*step);
  response->set_path(absl::StrCat(board_.snapshot().run_dir, "/checkpoints/step-", *step));
  return grpc::Status::OK;
}

grpc::Status TrainerServiceImpl::control(const std::function<void(TrainerControl&)>& request,
                                         int64_t* step) {
  if (control_ == nullptr) {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "this trainer takes no control requests");
  }
  request(*control_);
  *step = board_.snapshot().step;
  return grpc::Status::OK;
}

grpc::Status TrainerServiceImpl::Stop(grpc::ServerContext*, const forge::v1::StopRequest*,
                                      forge::v1::StopResponse* response) {
  int64_t step = 0;
  grpc::Status status = control([](TrainerControl& c) { c.request_stop(); }, &step);
  response->set_step(step);
  return status;
}

grpc::Status TrainerServiceImpl::PauseRollouts(grpc::ServerContext*,
                                               const forge::v1::PauseRolloutsRequest*,
                                               forge::v1::PauseRolloutsResponse* response) {
  int64_t step = 0;
  grpc::Status status = control([](TrainerControl& c) { c.set_paused(true); }, &step);
  response->set_step(step);
  return status;
}

grpc::Status TrainerServiceImpl::ResumeRollouts(grpc::ServerContext*,
                                                const forge::v1::ResumeRolloutsRequest*,
                                                forge::v1::ResumeRolloutsResponse* response) {
  int64_t step = 0;
  grpc::Status status = control([](TrainerControl& c) { c.set_paused(false); }, &step);
  response->set_step(step);
  return status;
}

}  // namespace forge::rl
