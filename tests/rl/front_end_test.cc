// `forge` is a front end without gRPC or LibTorch: grade and --help run in it; reward-server (and
// top) are handed to forge-serve, which loads no LibTorch, and every other subcommand to
// forge-torch, in the same process (exec), with their arguments, exit code and output intact.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "base/file_util.h"
#include "tests/common/forge_command.h"
#include "tests/common/forge_process.h"
#include "tests/common/temp_dir.h"

namespace forge {
namespace {

using test_support::ForgeProcess;
using test_support::run_forge;

std::string maps_of(pid_t pid) {
  return read_file("/proc/" + std::to_string(pid) + "/maps").value_or("");
}

TEST(FrontEnd, TheRewardServerRunsWithoutLibTorch) {
  ForgeProcess server({"reward-server", "--listen", "127.0.0.1:0"});
  ASSERT_GT(server.pid(), 0);
  const std::string banner = server.read_until("grading threads", std::chrono::seconds(20));
  ASSERT_NE(banner.find("listening on"), std::string::npos) << banner;
  const std::string maps = maps_of(server.pid());
  ASSERT_FALSE(maps.empty());
  EXPECT_EQ(maps.find("libtorch"), std::string::npos);
  EXPECT_EQ(maps.find("libc10"), std::string::npos);
  EXPECT_EQ(maps.find("forge-torch"), std::string::npos);
  EXPECT_NE(maps.find("forge-serve"), std::string::npos);  // the front end handed it over
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(), 0) << server.output();
}

TEST(FrontEnd, TorchSubcommandsAreHandedToForgeTorchInTheSameProcess) {
  // A worker is long-lived: its process is the one `forge` started, now running forge-torch.
  ForgeProcess worker({"rollout-worker", "--listen", "127.0.0.1:0", "--config",
                       std::string(FORGE_SOURCE_DIR) + "/configs/tiny.yaml"});
  ASSERT_GT(worker.pid(), 0);
  const std::string banner = worker.read_until("listening on", std::chrono::seconds(60));
  ASSERT_NE(banner.find("listening on"), std::string::npos) << banner;
  const std::string maps = maps_of(worker.pid());
  EXPECT_NE(maps.find("forge-torch"), std::string::npos);
  EXPECT_NE(maps.find("libtorch"), std::string::npos);
  worker.signal(SIGINT);
  EXPECT_EQ(worker.wait(), 0) << worker.output();

  // Exit codes and messages come through: a usage error of a forwarded subcommand.
  test_support::ForgeResult bad = run_forge("model-info --config /no/such/file.yaml");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("/no/such/file.yaml"), std::string::npos) << bad.output;
}

// `forge grade` starts in milliseconds because its process loads neither gRPC nor LibTorch.
TEST(FrontEnd, GradeLoadsNeitherGrpcNorLibTorch) {
  test_support::TempDir dir("forge_front_end_grade_maps");
  const std::string fifo = (dir.path() / "in.fifo").string();
  const std::string out = (dir.path() / "out.jsonl").string();
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  ForgeProcess grade({"grade", "--input", fifo, "--output", out});
  ASSERT_GT(grade.pid(), 0);
  // A writer can open the FIFO only once grade has opened it to read: its main() is running and
  // every library it loads at start is mapped.
  int writer = -1;
  for (auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
       writer < 0 && std::chrono::steady_clock::now() < end;
       std::this_thread::sleep_for(std::chrono::milliseconds(5))) {
    writer = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
  }
  ASSERT_GE(writer, 0) << grade.read_until("never", std::chrono::milliseconds(100));
  const std::string maps = maps_of(grade.pid());
  EXPECT_NE(maps.find("libyaml-cpp"), std::string::npos) << maps;  // the run config's parser
  EXPECT_EQ(maps.find("libgrpc"), std::string::npos);
  EXPECT_EQ(maps.find("libprotobuf"), std::string::npos);
  EXPECT_EQ(maps.find("libtorch"), std::string::npos);
  const std::string line =
      R"({"id": "a", "rule": "math", "completion": "\\boxed{7}", "answer": "7"})" "\n";
  ASSERT_EQ(::write(writer, line.data(), line.size()), static_cast<ssize_t>(line.size()));
  ::close(writer);
  EXPECT_EQ(grade.wait(), 0) << grade.output();
  EXPECT_NE(read_file(out).value_or("").find("\"reward\":1.0"), std::string::npos);
}

TEST(FrontEnd, GradeWorksOnItsOwn) {
  test_support::TempDir dir("forge_front_end_grade");
  const std::string in = dir.write(
      "in.jsonl", R"({"id": "a", "rule": "math", "completion": "\\boxed{7}", "answer": "7"})"
                  "\n");
  const std::string out = (dir.path() / "out.jsonl").string();
  test_support::ForgeResult r = run_forge("grade --input " + in + " --output " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string graded = read_file(out).value_or("");
  EXPECT_NE(graded.find("\"reward\":1.0"), std::string::npos) << graded;
}

}  // namespace
}  // namespace forge
