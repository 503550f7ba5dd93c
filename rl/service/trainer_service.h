// TrainerService (forge.v1): what a dashboard needs from a running `forge run` — status, the metric
// stream (history then live steps), and the workers with their health. Thin handlers over a
// TrainerStatusBoard the trainer updates and the run's MetricsLog. Thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "forge/v1/trainer.grpc.pb.h"
#include "rl/metrics/metrics_log.h"

namespace forge::rl {

// The trainer's live state, written by the training loop, read by the service. Thread-safe.
class TrainerStatusBoard {
 public:
  struct Snapshot {
    std::string state = "starting";  // starting | training | saving | stopping | finished | failed
    int64_t step = 0;
    int64_t total_steps = 0;
    int64_t policy_version = 0;
    std::string run_dir;
  };

  TrainerStatusBoard();
  void update(const std::function<void(Snapshot&)>& change);
  Snapshot snapshot() const;
  double elapsed_seconds() const;

 private:
  mutable std::mutex mu_;
  Snapshot snapshot_;
  const std::chrono::steady_clock::time_point started_;
};

struct WorkerAddress {
  std::string address;
  std::string role;  // "rollout" | "reward"
};

class TrainerServiceImpl final : public forge::v1::TrainerService::Service {
 public:
  TrainerServiceImpl(const TrainerStatusBoard& board, const MetricsLog& metrics,
                     std::vector<WorkerAddress> workers);

  grpc::Status GetStatus(grpc::ServerContext* context, const forge::v1::GetStatusRequest* request,
                         forge::v1::TrainerStatus* response) override;
  grpc::Status StreamMetrics(grpc::ServerContext* context,
                             const forge::v1::StreamMetricsRequest* request,
                             grpc::ServerWriter<forge::v1::StepMetrics>* writer) override;
  grpc::Status ListWorkers(grpc::ServerContext* context,
                           const forge::v1::ListWorkersRequest* request,
                           forge::v1::ListWorkersResponse* response) override;

 private:
  const TrainerStatusBoard& board_;
  const MetricsLog& metrics_;
  const std::vector<WorkerAddress> workers_;
};

}  // namespace forge::rl
