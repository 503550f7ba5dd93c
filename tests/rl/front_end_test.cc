// `forge` is a torch-free front end: grade, reward-server and --help run without LibTorch in the
// process; every other subcommand is handed to forge-torch in the same process (exec), with its
// arguments, exit code and output intact.
#include <filesystem>
#include <fstream>

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
