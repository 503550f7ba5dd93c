// Helpers for the code sandbox tests: fast limits, a per-process sandbox uid, and a /proc scan for
// anything a program left running.
#pragma once

#include <dirent.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "base/file_util.h"
#include "reward/code/code_job.h"
#include "reward/code/sandbox_config.h"
#include "reward/code/worker_pool.h"
#include "tests/common/forge_command.h"

namespace forge::reward::code::testing {

// Short limits, and a host uid no other process uses (when root), so that every process of that
// uid belongs to this test's sandboxes.
inline SandboxConfig fast_config() {
  SandboxConfig c;
  c.wall_seconds = 4.0;
  c.cpu_seconds = 2.0;
  c.memory_bytes = 192ll << 20;
  c.max_processes = 24;
  c.max_file_bytes = 4ll << 20;
  c.tmp_bytes = 8ll << 20;
  c.max_output_bytes = 64ll << 10;
  c.sandbox_uid = 1500000000 + static_cast<int>(getpid() % 1000000);
  c.sandbox_gid = c.sandbox_uid;
  return c;
}

inline uid_t host_uid_of(const SandboxConfig& c) {
  return geteuid() == 0 ? static_cast<uid_t>(c.sandbox_uid) : getuid();
}

struct ProcInfo {
  pid_t pid = 0;
  pid_t ppid = 0;
  uid_t uid = 0;
  char state = '?';
  unsigned long long start_time = 0;  // clock ticks after boot
  std::string cmdline;
};

inline std::vector<ProcInfo> list_processes() {
  std::vector<ProcInfo> out;
  DIR* dir = opendir("/proc");
  if (!dir) return out;
  while (dirent* e = readdir(dir)) {
    std::string name = e->d_name;
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    ProcInfo p;
    p.pid = std::stoi(name);
    // Any read fails once the process has exited: then it is skipped.
    const absl::StatusOr<std::string> status = read_file("/proc/" + name + "/status");
    const absl::StatusOr<std::string> stat = read_file("/proc/" + name + "/stat");
    if (!status.ok() || !stat.ok()) continue;
    std::istringstream lines(*status);
    std::string line;
    bool seen = false;
    while (std::getline(lines, line)) {
      if (line.rfind("PPid:", 0) == 0) p.ppid = std::stoi(line.substr(5));
      if (line.rfind("State:", 0) == 0 && line.size() > 7)
        p.state = line[line.find_first_not_of(" \t", 6)];
      if (line.rfind("Uid:", 0) == 0) {
        std::istringstream in(line.substr(4));
        in >> p.uid;
        seen = true;
      }
    }
    if (!seen) continue;
    const std::string& st = *stat;
    size_t close = st.rfind(')');
    if (close != std::string::npos) {
      std::istringstream fields(st.substr(close + 2));
      std::string field;
      for (int i = 3; i <= 22 && fields >> field; ++i) {
        if (i == 22) p.start_time = std::stoull(field);
      }
    }
    p.cmdline = test_support::command_line_of(p.pid);
    out.push_back(p);
  }
  closedir(dir);
  return out;
}

// Processes that should not be running once the pool is idle: any whose cmdline holds `marker`,
// and (when root) any of the sandbox uid that is not a worker's bwrap, bwrap's init, the worker
// loop or its zygote. Zombies (dead, waiting for the host's init to reap them) do not count.
inline std::vector<ProcInfo> leftovers(const SandboxConfig& c, const std::vector<pid_t>& workers,
                                       const std::string& marker) {
  std::vector<ProcInfo> procs = list_processes();
  // Per worker: bwrap -> bwrap's init -> the worker loop -> its zygote (the worker's first child).
  std::set<pid_t> expected(workers.begin(), workers.end());
  std::set<pid_t> level(workers.begin(), workers.end());
  for (int depth = 1; depth <= 3; ++depth) {
    std::set<pid_t> next;
    for (pid_t parent : level) {
      const ProcInfo* first = nullptr;
      for (const ProcInfo& p : procs) {
        if (p.ppid != parent) continue;
        if (depth < 3) {
          next.insert(p.pid);
        } else if (!first || p.start_time < first->start_time) {
          first = &p;
        }
      }
      if (first) next.insert(first->pid);
    }
    expected.insert(next.begin(), next.end());
    level = next;
  }
  std::vector<ProcInfo> out;
  for (const ProcInfo& p : procs) {
    if (p.state == 'Z' || p.state == 'X') continue;
    bool marked =
        !marker.empty() && p.cmdline.find(marker) != std::string::npos && p.pid != getpid();
    bool stray =
        geteuid() == 0 && p.uid == static_cast<uid_t>(c.sandbox_uid) && !expected.count(p.pid);
    if (marked || stray) out.push_back(p);
  }
  return out;
}

inline std::string describe(const std::vector<ProcInfo>& procs) {
  std::string s;
  for (const ProcInfo& p : procs) {
    const std::string st = read_file("/proc/" + std::to_string(p.pid) + "/stat").value_or("gone");
    s += std::to_string(p.pid) + " (uid " + std::to_string(p.uid) + ", stat " + st.substr(0, 60) +
         "): " + p.cmdline.substr(0, 120) + "\n";
  }
  return s;
}

// A pool of one worker with `sandbox`, so one zygote makes every program process.
inline absl::StatusOr<std::unique_ptr<WorkerPool>> one_worker_pool(const SandboxConfig& sandbox) {
  WorkerPool::Options o;
  o.sandbox = sandbox;
  o.workers = 1;
  return WorkerPool::create(o);
}

// A pool of `workers` sandboxes with fast_config(), for a suite to share (the suite deletes it);
// nullptr, with a test failure, when it cannot start.
inline WorkerPool* start_shared_pool(int workers) {
  WorkerPool::Options o;
  o.sandbox = fast_config();
  o.workers = workers;
  auto pool = WorkerPool::create(o);
  EXPECT_TRUE(pool.ok()) << pool.status();
  return pool.ok() ? pool->release() : nullptr;
}

// Grades like the code rule does, through a pool the test can inspect.
inline absl::StatusOr<RuleResult> grade_with(
    WorkerPool& pool, const std::string& completion, const nlohmann::json& tests,
    std::chrono::seconds budget = std::chrono::seconds(60)) {
  absl::StatusOr<CodeJob> job = make_code_job(completion, tests);
  if (!job.ok()) return job.status();
  absl::StatusOr<WorkerPool::Outcome> out =
      pool.run(std::move(job->job), job->runs, std::chrono::steady_clock::now() + budget);
  if (!out.ok()) return out.status();
  return code_rule_result(out->result, out->deadline_limited);
}

inline nlohmann::json humaneval_tests(const std::string& test, const std::string& entry) {
  return {{"kind", "humaneval"}, {"test", test}, {"entry_point", entry}};
}

inline nlohmann::json stdio_tests(const std::string& input, const std::string& output) {
  return {{"kind", "stdio"}, {"cases", {{{"input", input}, {"output", output}}}}};
}

}  // namespace forge::reward::code::testing
