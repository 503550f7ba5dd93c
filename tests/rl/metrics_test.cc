// metrics.jsonl, TensorBoard events (TFRecord framing, CRC-32C), and the metric history that
// TrainerService streams.
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/file_util.h"
#include "rl/metrics/crc32c.h"
#include "rl/metrics/metrics_log.h"
#include "rl/metrics/tensorboard_writer.h"
#include "rl/trainer/record_stage.h"
#include "tensorboard/event.pb.h"

#include "tests/common/temp_dir.h"

namespace forge::rl {
namespace {

namespace fs = std::filesystem;

class MetricsTest : public ::testing::Test {
 protected:

  std::string events_file() const {
    for (const auto& e : fs::directory_iterator(dir_)) {
      if (e.path().filename().string().rfind("events.out.tfevents.", 0) == 0) return e.path();
    }
    return "";
  }

  test_support::TempDir tmp_{"forge_metrics"};
  const fs::path& dir_ = tmp_.path();
};

TEST(Crc32c, KnownVectors) {
  EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);  // the standard check value
  EXPECT_EQ(crc32c("", 0), 0u);
  const std::string zeros(32, '\0');
  EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);  // RFC 3720 B.4
}

TEST_F(MetricsTest, EventsFileHoldsVersionThenOneEventPerStep) {
  auto writer = TensorBoardWriter::open(dir_.string());
  ASSERT_TRUE(writer.ok()) << writer.status();
  ASSERT_TRUE(writer->add_scalars(1, {{"reward/mean", 0.25}, {"loss", -0.5}}, 100.0).ok());
  ASSERT_TRUE(writer->add_scalars(2, {{"reward/mean", 0.75}}, 101.0).ok());
  auto records = read_tfrecords(writer->path());
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 3u);
  tensorboard::Event version, first, second;
  ASSERT_TRUE(version.ParseFromString((*records)[0]));
  EXPECT_EQ(version.file_version(), "brain.Event:2");
  ASSERT_TRUE(first.ParseFromString((*records)[1]));
  EXPECT_EQ(first.step(), 1);
  EXPECT_DOUBLE_EQ(first.wall_time(), 100.0);
  ASSERT_EQ(first.summary().value_size(), 2);
  std::map<std::string, float> got;
  for (const auto& v : first.summary().value()) got[v.tag()] = v.simple_value();
  EXPECT_FLOAT_EQ(got["reward/mean"], 0.25f);
  EXPECT_FLOAT_EQ(got["loss"], -0.5f);
  ASSERT_TRUE(second.ParseFromString((*records)[2]));
  EXPECT_EQ(second.step(), 2);
}

TEST_F(MetricsTest, CorruptedEventsFileIsDetected) {
  auto writer = TensorBoardWriter::open(dir_.string());
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE(writer->add_scalars(1, {{"x", 1.0}}, 1.0).ok());
  std::string bytes = read_file(writer->path()).value();
  bytes[bytes.size() - 6] ^= 0x40;
  std::ofstream(writer->path(), std::ios::binary | std::ios::trunc) << bytes;
  auto records = read_tfrecords(writer->path());
  ASSERT_FALSE(records.ok());
  EXPECT_EQ(records.status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(MetricsTest, MetricsJsonlHasOneObjectPerStepWithStepFirst) {
  auto log = MetricsLog::open(dir_.string(), -1);
  ASSERT_TRUE(log.ok()) << log.status();
  for (int step = 1; step <= 3; ++step) {
    ASSERT_TRUE((*log)->log(step, {{"reward/mean", step / 10.0}, {"lr", 1e-5}}).ok());
  }
  std::ifstream in(dir_ / "metrics.jsonl");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    EXPECT_EQ(line.rfind("{\"step\":" + std::to_string(n), 0), 0u) << line;
    const auto j = nlohmann::json::parse(line);
    EXPECT_DOUBLE_EQ(j["reward/mean"].get<double>(), n / 10.0);
  }
  EXPECT_EQ(n, 3);
  EXPECT_FALSE(events_file().empty());
}

TEST_F(MetricsTest, ResumeKeepsStepsUpToTheCheckpointAndDropsLaterOnes) {
  {
    auto log = MetricsLog::open(dir_.string(), -1);
    ASSERT_TRUE(log.ok());
    for (int step = 1; step <= 4; ++step) ASSERT_TRUE((*log)->log(step, {{"x", step}}).ok());
  }
  auto resumed = MetricsLog::open(dir_.string(), 2);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  EXPECT_EQ((*resumed)->history(0).size(), 2u);
  ASSERT_TRUE((*resumed)->log(3, {{"x", 30}}).ok());
  std::ifstream in(dir_ / "metrics.jsonl");
  std::vector<int64_t> steps;
  std::string line;
  while (std::getline(in, line)) steps.push_back(nlohmann::json::parse(line)["step"].get<int64_t>());
  EXPECT_EQ(steps, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_DOUBLE_EQ((*resumed)->last()->values.at("x"), 30.0);
}

// A kill while a step's line was being written leaves it cut off: the resume drops it (that step
// is trained again) instead of refusing to start; a whole line that is not a step is an error.
TEST_F(MetricsTest, ResumeDropsAMetricsLineCutOffByAKill) {
  const std::string path = (dir_ / "metrics.jsonl").string();
  std::ofstream(path) << R"({"step":1,"x":1,"wall_time":5})" "\n"
                      << R"({"step":2,"x":2,"wall_time":6})" "\n" R"({"step":3,"x)";
  auto resumed = MetricsLog::open(dir_.string(), 3);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  const std::vector<StepRecord> history = (*resumed)->history(0);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].step, 2);
  EXPECT_DOUBLE_EQ(history[1].values.at("x"), 2.0);
  EXPECT_DOUBLE_EQ(history[1].wall_time, 6.0);
  ASSERT_TRUE((*resumed)->log(3, {{"x", 3}}).ok());
  std::vector<int64_t> steps;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    steps.push_back(nlohmann::json::parse(line)["step"].get<int64_t>());
  }
  EXPECT_EQ(steps, (std::vector<int64_t>{1, 2, 3}));
  resumed->reset();

  std::ofstream(path) << R"({"step":1,"x":1})" "\n" R"({"x":2})" "\n";
  auto bad = MetricsLog::open(dir_.string(), 3);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(bad.status().message().find(path + ":2: not a step line"), std::string::npos)
      << bad.status();
}

// samples.jsonl on a resume: the steps after the checkpoint are trained again, so their lines go
// (and a line a kill cut off); a fresh run starts the file empty.
TEST_F(MetricsTest, ResumeKeepsSamplesUpToTheCheckpointAndDropsLaterOnes) {
  const std::string path = (dir_ / "samples.jsonl").string();
  std::ofstream(path) << R"({"step": 1, "prompt": "a"})" "\n" R"({"step": 1, "prompt": "b"})" "\n"
                      << R"({"step": 2, "prompt": "c"})" "\n" R"({"step": 3, "prompt": "d"})" "\n"
                      << R"({"step": 4, "pro)";
  ASSERT_TRUE(open_samples_file(dir_.string(), 2).ok());
  std::vector<std::string> prompts;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    prompts.push_back(nlohmann::json::parse(line)["prompt"].get<std::string>());
  }
  EXPECT_EQ(prompts, (std::vector<std::string>{"a", "b", "c"}));

  ASSERT_TRUE(open_samples_file(dir_.string(), -1).ok());
  EXPECT_EQ(fs::file_size(path), 0u);

  std::ofstream(path) << R"({"step": 1})" "\n" "not json\n";
  const absl::Status bad = open_samples_file(dir_.string(), 1);
  EXPECT_EQ(bad.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(bad.message().find(path + ":2: not a step line"), std::string::npos) << bad;
}

TEST_F(MetricsTest, WaitersWakeOnNewStepsAndOnClose) {
  auto opened = MetricsLog::open(dir_.string(), -1);
  ASSERT_TRUE(opened.ok());
  MetricsLog& log = **opened;
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_TRUE(log.log(1, {{"x", 1}}).ok());
  });
  auto got = log.wait_after(0, std::chrono::seconds(10));
  writer.join();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].step, 1);

  std::thread closer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    log.close();
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(log.wait_after(1, std::chrono::seconds(10)).empty());
  closer.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(log.closed());
}

}  // namespace
}  // namespace forge::rl
