// `forge grade` and `forge reward-server` as real processes: files in, files out, exit codes, the
// server's port line, health, a Grade call, and a clean exit on SIGTERM / SIGINT.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/common/forge_command.h"
#include "tests/common/forge_process.h"
#include "proto/grpc_util.h"
#include "reward/reward_client.h"

namespace forge::reward {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;

using Result = forge::test_support::ForgeResult;
using forge::test_support::run_forge;

std::vector<json> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  std::vector<json> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(json::parse(line));
  return out;
}

std::string temp_path(const std::string& name) { return ::testing::TempDir() + "/" + name; }

// The state letter of /proc/<pid>/stat ('Z' for a zombie); 0 when there is no such process.
char process_state(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = text.rfind(')');
  return close == std::string::npos || close + 2 >= text.size() ? 0 : text[close + 2];
}

// The children of `pid` (every thread's), from /proc/<pid>/task/<tid>/children.
std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> out;
  std::error_code ec;
  const std::string task = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& t : std::filesystem::directory_iterator(task, ec)) {
    std::ifstream in(t.path() / "children");
    pid_t child;
    while (in >> child) out.push_back(child);
  }
  return out;
}

// In a container forge may be PID 1, and then nobody else reaps what it orphans. `forge grade` on
// code items as PID 1 of a new pid namespace: it reaps its sandboxes itself, so no child of it
// stays a zombie and it exits as soon as its output is written (it used to poll /proc for ~2 s per
// worker for zombies no one would ever reap).
TEST(GradeCommand, AsPid1ItReapsItsSandboxesAndExitsPromptly) {
  if (std::system("unshare --pid --fork --mount-proc true > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "unshare --pid is not permitted here";
  }
  const std::string in = temp_path("pid1_in.jsonl"), out = temp_path("pid1_out.jsonl"),
                    config = temp_path("pid1_reward.yaml");
  std::ofstream(config) << "reward:\n  code: {workers: 2}\n";
  {
    std::ifstream data(std::string(FORGE_TEST_DATA_DIR) + "/datasets/humaneval.jsonl");
    std::ofstream items(in);
    std::string line;
    for (int i = 0; i < 6 && std::getline(data, line); ++i) {
      json task = json::parse(line);
      json item = {
          {"id", task["task_id"]},
          {"rule", "code"},
          {"completion",
           task["prompt"].get<std::string>() + task["canonical_solution"].get<std::string>()},
          {"tests",
           {{"kind", "humaneval"}, {"test", task["test"]}, {"entry_point", task["entry_point"]}}}};
      items << item.dump() << "\n";
    }
  }
  std::remove(out.c_str());
  const pid_t unshare = fork();
  ASSERT_GE(unshare, 0);
  if (unshare == 0) {
    const int devnull = ::open("/dev/null", O_WRONLY);
    ::dup2(devnull, 1);
    ::dup2(devnull, 2);
    ::execlp("unshare", "unshare", "--pid", "--fork", "--mount-proc", FORGE_BINARY, "grade",
             "--config", config.c_str(), "--input", in.c_str(), "--output", out.c_str(), nullptr);
    ::_exit(127);
  }
  using Clock = std::chrono::steady_clock;
  const Clock::time_point start = Clock::now();
  Clock::time_point written = Clock::time_point::max();
  std::map<pid_t, Clock::time_point> zombie_since;
  Clock::duration longest_zombie{0};
  pid_t forge = -1;
  int status = 0;
  while (true) {
    const pid_t done = ::waitpid(unshare, &status, WNOHANG);
    if (done == unshare) break;
    ASSERT_LT(Clock::now() - start, std::chrono::seconds(120)) << "forge grade did not exit";
    const Clock::time_point now = Clock::now();
    if (forge < 0) {
      std::vector<pid_t> c = children_of(unshare);
      if (!c.empty()) forge = c[0];  // pid 1 of the new namespace
    } else {
      for (pid_t child : children_of(forge)) {
        if (process_state(child) != 'Z') continue;
        auto it = zombie_since.emplace(child, now).first;
        longest_zombie = std::max(longest_zombie, now - it->second);
      }
    }
    if (written == Clock::time_point::max()) {
      std::ifstream lines(out);
      int n = 0;
      std::string line;
      while (std::getline(lines, line)) n += line.size() > 2 && line.back() == '}';
      if (n == 6) written = now;
    }
    std::this_thread::sleep_for(milliseconds(5));
  }
  const Clock::time_point exited = Clock::now();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  std::vector<json> lines = read_jsonl(out);
  ASSERT_EQ(lines.size(), 6u);
  for (const json& line : lines) EXPECT_EQ(line["reward"], 1.0) << line.dump();
  ASSERT_NE(written, Clock::time_point::max());
  EXPECT_LT(exited - written, std::chrono::milliseconds(1000))
      << "forge grade took " << std::chrono::duration_cast<milliseconds>(exited - written).count()
      << " ms to exit after writing its output";
  EXPECT_LT(longest_zombie, std::chrono::milliseconds(500))
      << "a child of forge stayed a zombie for "
      << std::chrono::duration_cast<milliseconds>(longest_zombie).count() << " ms";
}

TEST(GradeCommand, GradesAFileLineByLine) {
  const std::string in = temp_path("cli_in.jsonl"), out = temp_path("cli_out.jsonl");
  std::ofstream(in)
      << R"({"id": "a", "rule": "math", "completion": "so \\boxed{12}", "answer": "12"})" "\n"
      << "garbage\n"
      << R"({"id": "c", "completion": "<think>x</think><answer>\\boxed{3}</answer>", "answer": "3"})"
         "\n"
      << R"({"id": "d", "rule": "math", "prediction": "0.5", "answer": "\\frac{1}{2}"})" "\n";
  Result r = run_forge("grade --input " + in + " --output " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("4 lines, 1 errors"), std::string::npos) << r.output;
  std::vector<json> lines = read_jsonl(out);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0]["id"], "a");
  EXPECT_EQ(lines[0]["reward"], 1.0);
  EXPECT_EQ(lines[1]["reward"], 0.0);
  EXPECT_EQ(lines[1]["error"]["code"], "invalid_item");
  EXPECT_EQ(lines[1]["error"]["message"].get<std::string>().rfind("line 2: not valid JSON", 0), 0u);
  EXPECT_DOUBLE_EQ(lines[2]["reward"].get<double>(), 1.1);  // default mix: math 1 + format 0.1
  EXPECT_EQ(lines[3]["reward"], 1.0);
}

// An --output that is not a regular file (here a FIFO; as root, /dev/null) is written in place:
// the atomic write-and-rename of a file would put a regular file where the FIFO or device was.
TEST(GradeCommand, AnOutputThatIsNotAFileIsWrittenInPlace) {
  const std::string dir = temp_path("grade_fifo_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string in = dir + "/in.jsonl", fifo = dir + "/out.fifo";
  std::ofstream(in) << R"({"id": "a", "rule": "math", "completion": "\\boxed{4}", "answer": "4"})"
                    << "\n";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // The reader reads until forge closes the FIFO, or gives up 2 s after forge has exited (as it
  // would wait forever if forge wrote somewhere else).
  std::string got;
  std::atomic<bool> forge_done{false};
  std::thread reader([&] {
    const int fd = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
    if (fd < 0) return;
    auto give_up = std::chrono::steady_clock::time_point::max();
    while (std::chrono::steady_clock::now() < give_up) {
      if (forge_done && give_up == std::chrono::steady_clock::time_point::max())
        give_up = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      struct pollfd p = {fd, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::read(fd, buf, sizeof(buf));
      if (n > 0) got.append(buf, n);
      if (n == 0) break;  // the writer closed it
    }
    ::close(fd);
  });
  Result r = run_forge("grade --input " + in + " --output " + fifo);
  forge_done = true;
  reader.join();
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::is_fifo(fifo));  // still the FIFO, not a file renamed over it
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(json::parse(got)["reward"], 1.0) << got;
  std::vector<std::string> left;  // no temporary file beside it either
  for (const auto& e : std::filesystem::directory_iterator(dir)) left.push_back(e.path().filename());
  EXPECT_EQ(left.size(), 2u);
  std::filesystem::remove_all(dir);
}

TEST(GradeCommand, ConfigSetsWeightsAndPlugins) {
  const std::string config = temp_path("cli_reward.yaml");
  std::ofstream(config) << "reward:\n"
                        << "  weights: {math: 2, repetition: 1}\n"
                        << "  plugins: [" << FORGE_EXAMPLE_PLUGIN << "]\n"
                        << "  plugin_options: {repetition: {n: 1}}\n";
  const std::string in = temp_path("cli_in2.jsonl"), out = temp_path("cli_out2.jsonl");
  std::ofstream(in) << R"({"id": 1, "completion": "x x \\boxed{5}", "answer": "5"})" "\n";
  Result r = run_forge("grade --config " + config + " --input " + in + " --output " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::vector<json> lines = read_jsonl(out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["id"], 1);
  // math 1 (weight 2) + repetition 2/3 distinct unigrams (weight 1).
  EXPECT_NEAR(lines[0]["reward"].get<double>(), 2.0 + 2.0 / 3.0, 1e-9) << lines[0].dump();

  // An override on the command line wins over the file.
  r = run_forge("grade --config " + config + " --input " + in + " --output " + out +
                " 'reward.weights={math: 1}'");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_jsonl(out)[0]["reward"], 1.0);
}

TEST(GradeCommand, ConfigErrorsAreUsageErrorsNamingTheKey) {
  const std::string in = temp_path("cli_in3.jsonl"), out = temp_path("cli_out3.jsonl");
  std::ofstream(in) << "{}\n";
  Result r = run_forge("grade --input " + in + " --output " + out + " 'reward.weights={mth: 1}'");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("reward.weights.mth: unknown rule"), std::string::npos) << r.output;

  r = run_forge("grade --input " + in + " --output " + out + " reward.plugins=[/no/such.so]");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("/no/such.so"), std::string::npos) << r.output;

  r = run_forge("grade --input " + temp_path("missing.jsonl") + " --output " + out);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("missing.jsonl"), std::string::npos) << r.output;

  r = run_forge("grade --output " + out);
  EXPECT_EQ(r.exit_code, 2) << r.output;
}


int port_from(const std::string& text) {
  const std::string marker = "listening on 127.0.0.1:";
  const size_t at = text.find(marker);
  if (at == std::string::npos) return -1;
  return std::atoi(text.c_str() + at + marker.size());
}

void serve_and_stop(int signal_number) {
  // stdout only: the banner and the shutdown lines.
  test_support::ForgeProcess server({"reward-server", "--listen", "127.0.0.1:0",
                                     "reward.concurrency=2"},
                                    /*merge_stderr=*/false);
  ASSERT_GT(server.pid(), 0);
  const std::string banner = server.read_until("grading threads", milliseconds(20000));
  const int port = port_from(banner);
  ASSERT_GT(port, 0) << banner;
  const std::string address = "127.0.0.1:" + std::to_string(port);
  ASSERT_TRUE(net::wait_until_healthy(address, milliseconds(5000)).ok());

  RewardClient client(address);
  GradeItem item;
  item.id = "x";
  item.rule = "math";
  item.completion = "\\boxed{7}";
  item.answer = "7";
  auto results = client.grade({item});
  ASSERT_TRUE(results.ok()) << results.status();
  EXPECT_EQ((*results)[0].reward, 1.0);

  ASSERT_EQ(::kill(server.pid(), signal_number), 0);
  EXPECT_EQ(server.wait(milliseconds(10000)), 0);
  EXPECT_NE(server.output().find("stopped"), std::string::npos) << server.output();
  EXPECT_FALSE(net::check_health(address, milliseconds(300)).ok());
}

TEST(RewardServerCommand, ServesUntilSigterm) { serve_and_stop(SIGTERM); }

TEST(RewardServerCommand, ServesUntilSigint) { serve_and_stop(SIGINT); }

TEST(RewardServerCommand, BadListenAddressFails) {
  // --insecure: past the non-loopback rule (exit 2, docs/operating.md) to the bind itself.
  Result r = run_forge("reward-server --listen 256.0.0.1:1 --insecure");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("256.0.0.1:1"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace forge::reward
