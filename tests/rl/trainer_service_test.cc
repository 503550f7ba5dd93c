// TrainerService on a real loopback server: status, the metric stream (history, then live steps,
// ending with the run), and worker health.
#include "rl/service/trainer_service.h"

#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "proto/grpc_util.h"

#include "tests/common/temp_dir.h"

namespace forge::rl {
namespace {

namespace fs = std::filesystem;

class TrainerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = MetricsLog::open(dir_.string(), -1);
    ASSERT_TRUE(log.ok()) << log.status();
    metrics_ = std::move(*log);
  }

  std::unique_ptr<forge::v1::TrainerService::Stub> start(std::vector<WorkerAddress> workers = {}) {
    service_ = std::make_unique<TrainerServiceImpl>(board_, *metrics_, std::move(workers));
    auto running = net::start_server(
        "127.0.0.1:0", {{service_.get(), forge::v1::TrainerService::service_full_name()}});
    EXPECT_TRUE(running.ok()) << running.status();
    server_ = std::move(running->server);
    return forge::v1::TrainerService::NewStub(
        net::make_channel("127.0.0.1:" + std::to_string(running->port)));
  }

  test_support::TempDir tmp_{"forge_trainer_service"};
  const fs::path& dir_ = tmp_.path();
  TrainerStatusBoard board_;
  std::unique_ptr<MetricsLog> metrics_;
  std::unique_ptr<TrainerServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(TrainerServiceTest, GetStatusReportsTheBoardAndTheLastStep) {
  auto stub = start();
  board_.update([](TrainerStatusBoard::Snapshot& s) {
    s.state = "training";
    s.step = 3;
    s.total_steps = 10;
    s.policy_version = 3;
    s.run_dir = "runs/x";
  });
  ASSERT_TRUE(metrics_->log(3, {{"reward/mean", 0.5}}).ok());
  grpc::ClientContext context;
  forge::v1::TrainerStatus status;
  ASSERT_TRUE(stub->GetStatus(&context, forge::v1::GetStatusRequest(), &status).ok());
  EXPECT_EQ(status.state(), "training");
  EXPECT_EQ(status.step(), 3);
  EXPECT_EQ(status.total_steps(), 10);
  EXPECT_EQ(status.run_dir(), "runs/x");
  EXPECT_EQ(status.last().step(), 3);
  EXPECT_DOUBLE_EQ(status.last().values().at("reward/mean"), 0.5);
}

TEST_F(TrainerServiceTest, StreamReplaysHistoryThenLiveStepsAndEndsWithTheRun) {
  auto stub = start();
  ASSERT_TRUE(metrics_->log(1, {{"loss", 1.0}}).ok());
  ASSERT_TRUE(metrics_->log(2, {{"loss", 2.0}}).ok());
  std::thread trainer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    ASSERT_TRUE(metrics_->log(3, {{"loss", 3.0}}).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    metrics_->close();
  });
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  forge::v1::StreamMetricsRequest request;
  request.set_from_step(2);
  auto reader = stub->StreamMetrics(&context, request);
  std::vector<int64_t> steps;
  forge::v1::StepMetrics message;
  while (reader->Read(&message)) {
    steps.push_back(message.step());
    EXPECT_DOUBLE_EQ(message.values().at("loss"), double(message.step()));
  }
  EXPECT_TRUE(reader->Finish().ok());
  trainer.join();
  EXPECT_EQ(steps, (std::vector<int64_t>{2, 3}));
}

TEST_F(TrainerServiceTest, NegativeFromStepIsInvalidArgumentNamingTheField) {
  auto stub = start();
  grpc::ClientContext context;
  forge::v1::StreamMetricsRequest request;
  request.set_from_step(-1);
  auto reader = stub->StreamMetrics(&context, request);
  forge::v1::StepMetrics message;
  EXPECT_FALSE(reader->Read(&message));
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("from_step"), std::string::npos);
}

TEST_F(TrainerServiceTest, ListWorkersProbesHealth) {
  // A live server (another TrainerService stands in for a reward server: only health is probed)
  // and an address where nothing listens.
  TrainerServiceImpl other(board_, *metrics_, {});
  auto live = net::start_server("127.0.0.1:0",
                                {{&other, forge::v1::TrainerService::service_full_name()}});
  ASSERT_TRUE(live.ok());
  const std::string live_address = "127.0.0.1:" + std::to_string(live->port);
  auto stub = start({{live_address, "reward"}, {"127.0.0.1:1", "reward"}});
  grpc::ClientContext context;
  forge::v1::ListWorkersResponse response;
  ASSERT_TRUE(stub->ListWorkers(&context, forge::v1::ListWorkersRequest(), &response).ok());
  ASSERT_EQ(response.workers_size(), 2);
  EXPECT_EQ(response.workers(0).address(), live_address);
  EXPECT_TRUE(response.workers(0).healthy());
  EXPECT_FALSE(response.workers(1).healthy());
  live->server->Shutdown();
}

}  // namespace
}  // namespace forge::rl
