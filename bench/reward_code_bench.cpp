// reward_code_bench: code rule throughput on HumanEval canonical solutions (all pass), in
// programs/s:
//   pool   the pool of pre-started bubblewrap workers (what the code rule uses)
//   fresh  a fresh bubblewrap sandbox per program (same harness, no reuse)
//   bare   a bare `/usr/bin/python3 -I -S -c <program + test + check(entry)>` per program: no
//          sandbox, no limits, no protection against forged success (the usual quick harness)
//   grade  what `forge grade` does with the items, start to finish but for the process start: the
//          grader and its pool are created (workers = concurrency), the JSONL lines graded
//          (reward/grade_file.h), and everything shut down and reaped, all counted
//   startup  `forge grade` on an empty input, 10 times: the median seconds and the largest
//          resident set (issue 13's targets: 30 ms, 30 MiB)
//   process  the whole `forge grade --input F --output G reward.code.workers=C` process
//   clone  no program: processes with a program process's namespaces (user, mount, pid, IPC,
//          UTS), cloned and reaped by C single-threaded helpers that this bench forks: the floor
//          of one process per program on this machine, before any of it runs
//   harness  the same items through bench/humaneval_style_harness.py (C threads; per program a
//          multiprocessing Manager and a forked Process, as openai/human-eval runs samples), the
//          whole process
// Each mode runs the same programs with the same concurrency. Every row but startup and fresh
// also says what the processes it started and reaped used per program
// (getrusage(RUSAGE_CHILDREN)): CPU (user + system) and page faults, the part of a forked
// sandbox's cost that does not depend on how fast the machine takes a fault. The pool's own start
// and shutdown are included (fresh sandboxes are killed mid-run and not all reaped here). Usage:
//   reward_code_bench [--programs N] [--concurrency C] [--modes pool,fresh,bare,grade,...]
#include <fcntl.h>
#include <sched.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bench/load_average.h"
#include "reward/code/code_job.h"
#include "reward/code/worker_pool.h"
#include "reward/grade_file.h"
#include "reward/grader.h"

extern char** environ;

namespace {

using forge::reward::code::WorkerPool;
using Clock = std::chrono::steady_clock;

struct Task {
  std::string program;  // prompt + canonical solution
  nlohmann::json tests;
  std::string bare;  // program + test + check(entry_point)
  std::string line;  // a `forge grade` input line: {"id","rule":"code","completion","tests"}
  std::string sample;  // a humaneval_style_harness.py line: {"program","test","entry_point"}
};

std::vector<Task> load_tasks(int n) {
  std::ifstream in(std::string(FORGE_TEST_DATA_DIR) + "/datasets/humaneval.jsonl");
  std::vector<Task> all;
  std::string line;
  while (std::getline(in, line)) {
    nlohmann::json j = nlohmann::json::parse(line);
    Task t;
    t.program = j["prompt"].get<std::string>() + j["canonical_solution"].get<std::string>();
    t.tests = {{"kind", "humaneval"}, {"test", j["test"]}, {"entry_point", j["entry_point"]}};
    t.bare = t.program + "\n" + j["test"].get<std::string>() + "\ncheck(" +
             j["entry_point"].get<std::string>() + ")\n";
    t.line =
        nlohmann::json{
            {"id", j["task_id"]}, {"rule", "code"}, {"completion", t.program}, {"tests", t.tests}}
            .dump();
    t.sample = nlohmann::json{{"program", t.program}, {"test", j["test"]},
                              {"entry_point", j["entry_point"]}}
                   .dump();
    all.push_back(std::move(t));
  }
  std::vector<Task> out;
  for (int i = 0; i < n && !all.empty(); ++i) out.push_back(all[i % all.size()]);
  return out;
}

// Runs fn(i) for every program on `concurrency` threads; returns (seconds, passed).
template <typename Fn>
std::pair<double, int> run_all(size_t n, int concurrency, Fn fn) {
  std::atomic<size_t> next{0};
  std::atomic<int> passed{0};
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < n; i = next++) passed += fn(i) ? 1 : 0;
    });
  }
  for (auto& t : threads) t.join();
  return {std::chrono::duration<double>(Clock::now() - start).count(), passed.load()};
}

// Waits for `pid` (retrying when a signal interrupts); whether it exited with status 0.
bool exits_ok(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool run_bare(const std::string& program) {
  const char* argv[] = {"/usr/bin/python3", "-I", "-S", "-c", program.c_str(), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, const_cast<char**>(argv), environ);
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 && exits_ok(pid);
}

// `clone` mode: `concurrency` helpers, forked (single-threaded, as a user namespace requires),
// each clone and reap their share of n processes that exit at once. (seconds, processes reaped).
std::pair<double, int> clone_floor(size_t n, int concurrency) {
  const long flags =
      CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | SIGCHLD;
  const auto start = Clock::now();
  std::vector<std::pair<pid_t, size_t>> helpers;
  for (int h = 0; h < concurrency; ++h) {
    const size_t share = n / concurrency + (static_cast<size_t>(h) < n % concurrency ? 1 : 0);
    pid_t helper = fork();
    if (helper == 0) {  // only async-signal-safe calls from here on
      for (size_t i = 0; i < share; ++i) {
        long pid = syscall(SYS_clone, flags, nullptr, nullptr, nullptr, nullptr);
        if (pid == 0) _exit(0);
        int status = 0;
        if (pid < 0 || waitpid(static_cast<pid_t>(pid), &status, 0) < 0 || status != 0) _exit(1);
      }
      _exit(0);
    }
    if (helper > 0) helpers.emplace_back(helper, share);
  }
  int reaped = 0;
  for (auto [helper, share] : helpers) {
    if (exits_ok(helper)) reaped += static_cast<int>(share);
  }
  return {std::chrono::duration<double>(Clock::now() - start).count(), reaped};
}

// What this process's reaped descendants have used so far.
struct ChildUsage {
  double cpu_seconds = 0;
  long minor_faults = 0;
};

ChildUsage child_usage() {
  struct rusage u {};
  getrusage(RUSAGE_CHILDREN, &u);
  auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
  return {seconds(u.ru_utime) + seconds(u.ru_stime), u.ru_minflt};
}

// `forge grade` without the process: (seconds, passed) for grader creation + grading + shutdown.
std::pair<double, int> grade_file_run(const std::vector<Task>& tasks, int workers) {
  std::string input;
  for (const Task& t : tasks) input += t.line + "\n";
  const auto start = Clock::now();
  std::ostringstream out;
  {
    forge::reward::RewardConfig config;
    config.code = {{"workers", workers}};
    auto grader = forge::reward::Grader::create(config);
    if (!grader.ok()) {
      std::cerr << grader.status() << "\n";
      return {0.0, 0};
    }
    std::istringstream in(input);
    absl::Status s = forge::reward::grade_jsonl(in, out, **grader);
    if (!s.ok()) std::cerr << s << "\n";
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  int passed = 0;
  std::istringstream lines(out.str());
  std::string line;
  while (std::getline(lines, line))
    passed += nlohmann::json::parse(line).value("reward", 0.0) == 1.0;
  return {seconds, passed};
}

struct ProcessRun {
  double seconds = 0;
  bool ok = false;        // exited with status 0
  double max_rss_mib = 0;
};

// Runs argv to its end with stdout to /dev/null.
ProcessRun run_process(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  const auto start = Clock::now();
  pid_t pid;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return {};
  int status = 0;
  struct rusage usage {};
  while (wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  return {std::chrono::duration<double>(Clock::now() - start).count(),
          WIFEXITED(status) && WEXITSTATUS(status) == 0, usage.ru_maxrss / 1024.0};
}

// `forge grade` on an empty input, `runs` times: (median seconds, largest resident MiB).
std::pair<double, double> forge_grade_startup(int runs) {
  const std::string in = "/tmp/reward_code_bench_" + std::to_string(getpid()) + "_empty.jsonl";
  std::ofstream(in).close();
  std::vector<double> seconds;
  double rss = 0;
  for (int i = 0; i < runs; ++i) {
    ProcessRun r = run_process({FORGE_BINARY, "grade", "--input", in, "--output", "/dev/null"});
    if (!r.ok) return {0.0, 0.0};
    seconds.push_back(r.seconds);
    rss = std::max(rss, r.max_rss_mib);
  }
  std::remove(in.c_str());
  std::sort(seconds.begin(), seconds.end());
  return {seconds[seconds.size() / 2], rss};
}

std::string write_lines(const std::string& name, const std::vector<std::string>& lines) {
  const std::string path = "/tmp/reward_code_bench_" + std::to_string(getpid()) + "_" + name;
  std::ofstream out(path);
  for (const std::string& l : lines) out << l << "\n";
  return path;
}

// The whole `forge grade` process on the tasks: (seconds, passed).
std::pair<double, int> forge_grade_process(const std::vector<Task>& tasks, int workers) {
  std::vector<std::string> lines;
  for (const Task& t : tasks) lines.push_back(t.line);
  const std::string in = write_lines("in.jsonl", lines), out = in + ".out";
  ProcessRun run = run_process({FORGE_BINARY, "grade", "--input", in, "--output", out,
                                "reward.code.workers=" + std::to_string(workers)});
  int passed = 0;
  std::ifstream graded(out);
  std::string line;
  while (run.ok && std::getline(graded, line))
    passed += nlohmann::json::parse(line).value("reward", 0.0) == 1.0;
  std::remove(in.c_str());
  std::remove(out.c_str());
  return {run.seconds, passed};
}

// The whole human-eval style harness process on the tasks: (seconds, passed).
std::pair<double, int> harness_process(const std::vector<Task>& tasks, int workers) {
  std::vector<std::string> lines;
  for (const Task& t : tasks) lines.push_back(t.sample);
  const std::string in = write_lines("samples.jsonl", lines), out = in + ".passed";
  const std::string command = std::string("/usr/bin/python3 -I -S ") + FORGE_HARNESS_SCRIPT + " " +
                              in + " --workers " + std::to_string(workers) + " > " + out;
  ProcessRun run = run_process({"/bin/sh", "-c", command});
  int passed = 0;
  std::ifstream result(out);
  if (!(run.ok && result >> passed)) passed = 0;
  std::remove(in.c_str());
  std::remove(out.c_str());
  return {run.seconds, passed};
}

bool run_sandboxed(WorkerPool& pool, const Task& t) {
  auto job = forge::reward::code::make_code_job(t.program, t.tests);
  if (!job.ok()) return false;
  auto out = pool.run(std::move(job->job), job->runs, Clock::now() + std::chrono::seconds(120));
  if (!out.ok()) {
    std::cerr << "error: " << out.status() << "\n";
    return false;
  }
  auto r = forge::reward::code::code_rule_result(out->result, out->deadline_limited);
  return r.ok() && r->reward == 1.0;
}

}  // namespace

int main(int argc, char** argv) {
  int programs = 164;
  int concurrency = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::string modes = "startup,pool,fresh,bare,clone,grade,process,harness";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--programs") {
      programs = std::atoi(argv[i + 1]);
    } else if (flag == "--concurrency") {
      concurrency = std::atoi(argv[i + 1]);
    } else if (flag == "--modes") {
      modes = argv[i + 1];
    } else {
      std::cerr << "usage: reward_code_bench [--programs N] [--concurrency C] [--modes "
                   "startup,pool,fresh,bare,clone,grade,process,harness]\n";
      return 2;
    }
  }
  std::vector<Task> tasks = load_tasks(programs);
  if (tasks.empty()) {
    std::cerr << "no HumanEval data under " << FORGE_TEST_DATA_DIR << "\n";
    return 1;
  }
  std::printf(
      "HumanEval canonical solutions: %zu programs, concurrency %d, %u hardware threads, load "
      "average %s\n\n",
      tasks.size(), concurrency, std::thread::hardware_concurrency(),
      forge::bench::load_average().c_str());
  std::printf(
      "| mode    | programs | passed | seconds | programs/s | CPU ms/program | faults/program | "
      "note |\n");
  std::printf(
      "|---------|---------:|-------:|--------:|-----------:|---------------:|---------------:|"
      "------|\n");
  for (const std::string& mode : std::vector<std::string>(absl::StrSplit(modes, ','))) {
    std::pair<double, int> r;
    std::string note;
    if (mode == "startup") {
      auto [seconds, rss] = forge_grade_startup(10);
      std::printf("| startup | %8d | %6d | %7.3f | %10s | %14s | %14s | `forge grade` on an empty "
                  "input: median of 10, largest resident set %.1f MiB |\n",
                  0, 0, seconds, "-", "-", "-", rss);
      std::fflush(stdout);
      continue;
    }
    const ChildUsage before = child_usage();
    if (mode == "grade") {
      r = grade_file_run(tasks, concurrency);
      note = "grader + pool start, grading, shutdown";
    } else if (mode == "process") {
      r = forge_grade_process(tasks, concurrency);
      note = "whole `forge grade` process";
    } else if (mode == "harness") {
      r = harness_process(tasks, concurrency);
      note = "whole human-eval style harness process";
    } else if (mode == "clone") {
      r = clone_floor(tasks.size(), concurrency);
      note = "no program: a process with P's namespaces, created and reaped";
    } else if (mode == "bare") {
      r = run_all(tasks.size(), concurrency, [&](size_t i) { return run_bare(tasks[i].bare); });
      note = "no sandbox";
    } else if (mode == "pool" || mode == "fresh") {
      WorkerPool::Options o;
      o.workers = concurrency;
      o.reuse_workers = mode == "pool";
      o.sandbox.wall_seconds = 30;
      o.sandbox.cpu_seconds = 20;
      auto start = Clock::now();
      auto pool = WorkerPool::create(o);
      if (!pool.ok()) {
        std::cerr << pool.status() << "\n";
        return 1;
      }
      if (mode == "pool") {
        (*pool)->wait_until_ready(concurrency, std::chrono::seconds(120));
        note = "pre-started in " +
               std::to_string(std::chrono::duration<double>(Clock::now() - start).count())
                   .substr(0, 4) +
               " s (not counted)";
      } else {
        note = "bwrap + python start per program";
      }
      r = run_all(tasks.size(), concurrency,
                  [&](size_t i) { return run_sandboxed(**pool, tasks[i]); });
    } else {
      std::cerr << "unknown mode " << mode << "\n";
      return 2;
    }
    const ChildUsage after = child_usage();
    const double n = static_cast<double>(tasks.size());
    std::string cpu = absl::StrFormat("%.2f", 1000 * (after.cpu_seconds - before.cpu_seconds) / n);
    std::string faults = absl::StrFormat("%.0f", (after.minor_faults - before.minor_faults) / n);
    if (mode == "fresh") cpu = faults = "-";  // sandboxes killed mid-run: not all of it is reaped
    std::printf("| %-7s | %8zu | %6d | %7.2f | %10.1f | %14s | %14s | %s |\n", mode.c_str(),
                tasks.size(), r.second, r.first, n / r.first, cpu.c_str(), faults.c_str(),
                note.c_str());
    std::fflush(stdout);
  }
  return 0;
}
