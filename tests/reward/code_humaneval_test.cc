// Acceptance on HumanEval (tests/data/datasets/humaneval.jsonl): every canonical solution passes,
// and with each body replaced by `pass` at least 160 of the 164 fail. All 328 programs run
// concurrently through one pool of pre-started sandboxes.
#include <atomic>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/reward/sandbox_test_util.h"

namespace forge::reward::code {
namespace {

struct Task {
  std::string id, prompt, solution;
  nlohmann::json tests;
};

std::vector<Task> load_humaneval() {
  std::ifstream in(std::string(FORGE_TEST_DATA_DIR) + "/datasets/humaneval.jsonl");
  std::vector<Task> tasks;
  std::string line;
  while (std::getline(in, line)) {
    nlohmann::json j = nlohmann::json::parse(line);
    tasks.push_back({j["task_id"], j["prompt"], j["canonical_solution"],
                     testing::humaneval_tests(j["test"], j["entry_point"])});
  }
  return tasks;
}

TEST(CodeHumanEval, CanonicalSolutionsPassAndStubsFail) {
  std::vector<Task> tasks = load_humaneval();
  ASSERT_EQ(tasks.size(), 164u);
  WorkerPool::Options o;
  o.sandbox = testing::fast_config();
  o.sandbox.wall_seconds = 10;  // shared with the other programs on 2 loaded cores
  o.sandbox.cpu_seconds = 5;
  o.workers = 4;
  auto pool = WorkerPool::create(o);
  ASSERT_TRUE(pool.ok()) << pool.status();

  // Jobs 0..163: canonical; 164..327: the same prompts with `pass` as the body.
  std::vector<absl::StatusOr<RuleResult>> results(2 * tasks.size(), absl::UnknownError("not run"));
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < results.size(); i = next++) {
        const Task& task = tasks[i % tasks.size()];
        std::string completion = task.prompt + (i < tasks.size() ? task.solution : "    pass\n");
        results[i] = testing::grade_with(**pool, completion, task.tests, std::chrono::seconds(120));
      }
    });
  }
  for (auto& t : threads) t.join();

  int canonical_passed = 0, stubs_failed = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    const Task& task = tasks[i % tasks.size()];
    ASSERT_TRUE(results[i].ok()) << task.id << ": " << results[i].status();
    if (i < tasks.size()) {
      EXPECT_EQ(results[i]->reward, 1.0) << task.id << ": " << results[i]->detail;
      canonical_passed += results[i]->reward == 1.0;
    } else {
      stubs_failed += results[i]->reward == 0.0;
    }
  }
  std::cout << "HumanEval: " << canonical_passed << "/164 canonical solutions pass, "
            << stubs_failed << "/164 `pass` stubs fail\n";
  EXPECT_EQ(canonical_passed, 164);
  EXPECT_GE(stubs_failed, 160);
}

}  // namespace
}  // namespace forge::reward::code
