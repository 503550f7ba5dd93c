// TrainerService (forge.v1): what a dashboard needs from a running `forge run` — status, the metric
// stream (history then live steps), and the workers with their health and load — and the control
// RPCs (SaveCheckpoint, Stop, PauseRollouts, ResumeRollouts). Thin handlers over a
// TrainerStatusBoard (trainer_status_board.h) the trainer updates, the run's MetricsLog and a
// TrainerControl (trainer_control.h) the loop serves; without a control the control RPCs are
// UNIMPLEMENTED. Handlers never throw. Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "forge/v1/trainer.grpc.pb.h"
#include "rl/metrics/metrics_log.h"
#include "rl/service/trainer_control.h"
#include "rl/service/trainer_status_board.h"

namespace forge::rl {

class TrainerServiceImpl final : public forge::v1::TrainerService::Service {
 public:
  TrainerServiceImpl(const TrainerStatusBoard& board, const MetricsLog& metrics,
                     std::vector<WorkerAddress> workers, TrainerControl* control = nullptr);

  grpc::Status GetStatus(grpc::ServerContext* context, const forge::v1::GetStatusRequest* request,
                         forge::v1::TrainerStatus* response) override;
  grpc::Status StreamMetrics(grpc::ServerContext* context,
                             const forge::v1::StreamMetricsRequest* request,
                             grpc::ServerWriter<forge::v1::StepMetrics>* writer) override;
  grpc::Status ListWorkers(grpc::ServerContext* context,
                           const forge::v1::ListWorkersRequest* request,
                           forge::v1::ListWorkersResponse* response) override;
  grpc::Status SaveCheckpoint(grpc::ServerContext* context,
                              const forge::v1::SaveCheckpointRequest* request,
                              forge::v1::SaveCheckpointResponse* response) override;
  grpc::Status Stop(grpc::ServerContext* context, const forge::v1::StopRequest* request,
                    forge::v1::StopResponse* response) override;
  grpc::Status PauseRollouts(grpc::ServerContext* context,
                             const forge::v1::PauseRolloutsRequest* request,
                             forge::v1::PauseRolloutsResponse* response) override;
  grpc::Status ResumeRollouts(grpc::ServerContext* context,
                              const forge::v1::ResumeRolloutsRequest* request,
                              forge::v1::ResumeRolloutsResponse* response) override;

 private:
  // Applies `request` to the control and reports the steps completed; UNIMPLEMENTED without one.
  grpc::Status control(const std::function<void(TrainerControl&)>& request, int64_t* step);

  const TrainerStatusBoard& board_;
  const MetricsLog& metrics_;
  const std::vector<WorkerAddress> workers_;
  TrainerControl* const control_;
};

}  // namespace forge::rl
