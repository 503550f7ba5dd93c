// reward_bench: how fast the reward stack grades, printed as tables.
//
//   math grades/s on one thread and on all cores, for GSM8K test solutions (completion = the gold
//   solution ending "#### N", gold = N; and the same solution wrapped as
//   <think>…</think><answer>\boxed{N}</answer>) and MATH-500 (completion = the reference solution
//   with its \boxed{}, gold = the answer; and the prediction-only path, gold vs itself);
//   the format rule, and the whole server path (Grade RPCs of 128 wrapped GSM8K items over
//   loopback, graded by the default mix math + format).
//   Most MATH-500 references are the gold string byte for byte, which measures string equality;
//   three rows grade answers written differently from the gold: the peer cases' predictions
//   (tests/data/peer-cases, each as its `input` says; "correct" there counts agreement with the
//   peer's verdict, core and questionable rows alike), and our own rewrites of MATH-500 and
//   GSM8K answers (\dfrac -> a/b, \sqrt{n} -> n^{1/2}, "x = ", thousands separators, "$", ...),
//   which must all grade right.
//
// "per CPU-s" divides the work by the CPU time the process used (getrusage), so it stays meaningful
// on a machine shared with other jobs; the "/s" columns are wall-clock rates.
//
// Code programs/s (pool vs fresh sandbox vs bare python3) are measured by bench/reward_code_bench.
//
// Usage: reward_bench [--data DIR] [--seconds S]   (DIR holds gsm8k_test.jsonl, math500_test.jsonl)
#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <sys/resource.h>

#include <nlohmann/json.hpp>

#include "bench/load_average.h"
#include "reward/format_rule.h"
#include "reward/math/math_grader.h"
#include "reward/reward_client.h"
#include "reward/reward_server.h"

namespace {

using Clock = std::chrono::steady_clock;
using forge::reward::GradeItem;

struct Case {
  std::string completion;
  std::string gold;
  bool prediction = false;  // grade as an extracted answer (else as a completion)
  bool expected = true;     // the verdict that counts as "correct" in the table
};

std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> rows;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  }
  return rows;
}

// `cases` with each solution wrapped the way an R1 completion ends: <answer>\boxed{gold}</answer>.
std::vector<Case> wrapped(const std::vector<Case>& cases) {
  std::vector<Case> out;
  for (const Case& c : cases) {
    out.push_back({"<think>" + c.completion + "</think><answer>\\boxed{" + c.gold + "}</answer>",
                   c.gold});
  }
  return out;
}

std::vector<Case> gsm8k_cases(const std::string& dir) {
  std::vector<Case> cases;
  for (const auto& row : read_jsonl(dir + "/gsm8k_test.jsonl")) {
    const std::string solution = row["answer"].get<std::string>();
    const size_t at = solution.rfind("####");
    if (at == std::string::npos) continue;
    std::string gold = solution.substr(at + 4);
    gold.erase(0, gold.find_first_not_of(" \t"));
    cases.push_back({solution, gold});
  }
  return cases;
}

std::vector<Case> math500_cases(const std::string& dir, bool prediction_only) {
  std::vector<Case> cases;
  for (const auto& row : read_jsonl(dir + "/math500_test.jsonl")) {
    const std::string answer = row["answer"].get<std::string>();
    cases.push_back({prediction_only ? answer : row["solution"].get<std::string>(), answer});
  }
  return cases;
}

// The peer cases whose prediction is not the gold string, graded as their `input` says.
std::vector<Case> peer_cases(const std::string& peer_dir) {
  std::vector<Case> cases;
  for (const auto& row : read_jsonl(peer_dir + "/math_equivalence.jsonl")) {
    Case c;
    c.completion = row["prediction"].get<std::string>();
    c.gold = row["gold"].get<std::string>();
    if (c.completion == c.gold) continue;
    c.prediction = row["input"] == "answer";
    c.expected = row["equivalent"].get<bool>();
    cases.push_back(std::move(c));
  }
  return cases;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) {
    s.replace(at, from.size(), to);
  }
}

// The content of the brace group opening at s[i] ('{'), and the index past it; npos if none.
size_t group_end(const std::string& s, size_t i) {
  if (i >= s.size() || s[i] != '{') return std::string::npos;
  int depth = 0;
  for (size_t k = i; k < s.size(); ++k) {
    if (s[k] == '{') ++depth;
    if (s[k] == '}' && --depth == 0) return k + 1;
  }
  return std::string::npos;
}

// A MATH answer written another way with the same value: \frac{a}{b} -> (a)/(b), \sqrt{n} ->
// (n)^{1/2} (a mixed number 1\frac{4}{5} -> 1+(4)/(5)), \left and \right dropped, a plain number
// gets "x = " in front, a decimal a trailing zero. Empty when no rewrite applies.
std::string rewrite_math_answer(const std::string& gold) {
  std::string s = gold;
  replace_all(s, "\\dfrac", "\\frac");
  replace_all(s, "\\tfrac", "\\frac");
  for (const char* cmd : {"\\frac", "\\sqrt"}) {
    const std::string name = cmd;
    for (size_t at = s.find(name); at != std::string::npos; at = s.find(name, at + 1)) {
      const size_t a = at + name.size(), a_end = group_end(s, a);
      if (a_end == std::string::npos) continue;
      const std::string first = s.substr(a + 1, a_end - a - 2);
      if (name == "\\sqrt") {
        s.replace(at, a_end - at, "(" + first + ")^{1/2}");
        continue;
      }
      const size_t b_end = group_end(s, a_end);
      if (b_end == std::string::npos) continue;
      const std::string second = s.substr(a_end + 1, b_end - a_end - 2);
      // A mixed number "1\\frac{4}{5}" is 1 + 4/5.
      const size_t before = s.find_last_not_of(' ', at == 0 ? std::string::npos : at - 1);
      const bool mixed = at > 0 && before != std::string::npos && std::isdigit(s[before]);
      s.replace(at, b_end - at, (mixed ? "+(" : "(") + first + ")/(" + second + ")");
    }
  }
  replace_all(s, "\\left", "");
  replace_all(s, "\\right", "");
  if (s == gold && !s.empty() && s.find_first_not_of("0123456789.-") == std::string::npos) {
    s = s.find('.') == std::string::npos ? "x = " + s : s + "0";
  }
  return s == gold ? "" : s;
}

std::vector<Case> math500_rewritten(const std::string& dir) {
  std::vector<Case> cases;
  for (const auto& row : read_jsonl(dir + "/math500_test.jsonl")) {
    const std::string answer = row["answer"].get<std::string>();
    const std::string other = rewrite_math_answer(answer);
    if (!other.empty()) cases.push_back({other, answer, true, true});
  }
  return cases;
}

// GSM8K golds N written as "$1,234.00", "1,234 dollars", "N.0", "x = N", cycling.
std::vector<Case> gsm8k_rewritten(const std::vector<Case>& gsm8k) {
  std::vector<Case> cases;
  for (size_t i = 0; i < gsm8k.size(); ++i) {
    const std::string& n = gsm8k[i].gold;
    std::string grouped = n;
    const size_t digits_end = grouped.find_first_not_of("0123456789", grouped[0] == '-' ? 1 : 0);
    for (int k =
             static_cast<int>(digits_end == std::string::npos ? grouped.size() : digits_end) - 3;
         k > (grouped[0] == '-' ? 1 : 0); k -= 3) {
      grouped.insert(static_cast<size_t>(k), ",");
    }
    std::string other;
    switch (i % 4) {
      case 0:
        other = "\\$" + grouped + (n.find('.') == std::string::npos ? ".00" : "");
        break;
      case 1:
        other = grouped + " dollars";
        break;
      case 2:
        other = n + (n.find('.') == std::string::npos ? ".0" : "0");
        break;
      default:
        other = "x = " + grouped;
        break;
    }
    cases.push_back({"The answer is " + other + ".", n, false, true});
  }
  return cases;
}

struct Rate {
  double per_second = 0;      // wall clock
  double per_cpu_second = 0;  // per second of this process's CPU time
  int64_t correct = 0;
  int64_t graded = 0;
};

double cpu_seconds() {
  rusage usage;
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         1e-6 * (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

// Runs `grade(i)` (true when correct) over the cases round-robin on `threads` threads for about
// `seconds`; every thread starts at a different offset.
Rate measure(size_t n, int threads, double seconds, const std::function<bool(size_t)>& grade) {
  std::atomic<int64_t> graded{0}, correct{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> pool;
  const auto start = Clock::now();
  const double cpu_start = cpu_seconds();
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      int64_t local = 0, ok = 0;
      for (size_t i = t * n / threads; !stop.load(std::memory_order_relaxed); i = (i + 1) % n) {
        ok += grade(i);
        ++local;
      }
      graded += local;
      correct += ok;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& th : pool) th.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu = cpu_seconds() - cpu_start;
  return {graded / elapsed, graded / cpu, correct.load(), graded.load()};
}

// Grades one case (as a prediction or a completion); true when the verdict is the expected one.
bool graded_as_expected(const Case& c, bool prediction) {
  const forge::reward::math::MathOptions options;
  auto v = prediction || c.prediction
               ? forge::reward::math::grade_prediction(c.completion, c.gold, options)
               : forge::reward::math::grade_completion(c.completion, c.gold, options);
  return v.ok() && v->correct == c.expected;
}

// One pass over every case: how many get the expected verdict (what a table row stands on).
int64_t count_correct(const std::vector<Case>& cases, bool prediction) {
  int64_t ok = 0;
  for (const Case& c : cases) ok += graded_as_expected(c, prediction);
  return ok;
}

void math_row(const char* name, const std::vector<Case>& cases, bool prediction, int cores,
              double seconds) {
  if (cases.empty()) {
    std::printf("| %-40s | no cases |\n", name);
    return;
  }
  auto grade = [&](size_t i) { return graded_as_expected(cases[i], prediction); };
  const int64_t right = count_correct(cases, prediction);
  const Rate one = measure(cases.size(), 1, seconds, grade);
  const Rate all = measure(cases.size(), cores, seconds, grade);
  std::printf("| %-40s | %5zu | %5lld/%-5zu | %10.0f | %10.0f | %10.0f | %10.0f |\n", name,
              cases.size(), static_cast<long long>(right), cases.size(), one.per_second,
              one.per_cpu_second, all.per_second, all.per_cpu_second);
}

void format_row(const std::vector<Case>& cases, double seconds) {
  auto rule = forge::reward::make_format_rule({});
  if (!rule.ok()) return;
  std::vector<GradeItem> items;
  for (const Case& c : cases) {
    GradeItem item;
    item.completion = c.completion;
    items.push_back(item);
  }
  const Rate one = measure(items.size(), 1, seconds, [&](size_t i) {
    auto r = (*rule)->grade(items[i], Clock::time_point::max());
    return r.ok() && r->reward == 1.0;
  });
  std::printf("| %-40s | %5zu | %5lld/%-5lld | %10.0f | %10.0f | %10s | %10s |\n",
              "format rule (wrapped GSM8K)", items.size(), static_cast<long long>(one.correct),
              static_cast<long long>(one.graded), one.per_second, one.per_cpu_second, "-", "-");
}

void server_rows(const std::vector<Case>& cases, double seconds) {
  forge::reward::RewardConfig config;
  auto server = forge::reward::RewardServer::start("127.0.0.1:0", config);
  if (!server.ok()) {
    std::printf("server: %s\n", std::string(server.status().message()).c_str());
    return;
  }
  forge::reward::RewardClient client("127.0.0.1:" + std::to_string((*server)->port()));
  constexpr size_t kBatch = 128;
  std::vector<std::vector<GradeItem>> batches;
  for (size_t start = 0; start + kBatch <= cases.size(); start += kBatch) {
    std::vector<GradeItem> batch;
    for (size_t i = start; i < start + kBatch; ++i) {
      GradeItem item;
      item.id = std::to_string(i);
      item.completion = cases[i].completion;
      item.answer = cases[i].gold;
      batch.push_back(std::move(item));
    }
    batches.push_back(std::move(batch));
  }
  for (int clients : {1, 4}) {
    std::atomic<int64_t> items{0}, full{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    const auto start = Clock::now();
    const double cpu_start = cpu_seconds();
    for (int t = 0; t < clients; ++t) {
      threads.emplace_back([&, t] {
        for (size_t b = t; !stop; b = (b + 1) % batches.size()) {
          auto results = client.grade(batches[b]);
          if (!results.ok()) continue;
          items += results->size();
          for (const auto& r : *results) full += r.reward > 1.05;  // math 1 + format 0.1
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto& th : threads) th.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const double cpu = cpu_seconds() - cpu_start;
    char name[64];
    std::snprintf(name, sizeof name, "server Grade (mix), batch 128, %d client%s", clients,
                  clients > 1 ? "s" : "");
    std::printf("| %-40s | %5zu | %5lld/%-5lld | %10s | %10s | %10.0f | %10.0f |\n", name,
                batches.size() * kBatch, static_cast<long long>(full.load()),
                static_cast<long long>(items.load()), "-", "-", items / elapsed, items / cpu);
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = FORGE_TEST_DATA_DIR "/datasets";
  const std::string peer_dir = FORGE_TEST_DATA_DIR "/peer-cases";
  double seconds = 2.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--data") {
      dir = argv[i + 1];
    } else if (flag == "--seconds") {
      seconds = std::atof(argv[i + 1]);
    } else {
      std::fprintf(stderr, "usage: reward_bench [--data DIR] [--seconds S]\n");
      return 2;
    }
  }
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const std::vector<Case> gsm8k = gsm8k_cases(dir);
  const std::vector<Case> math500 = math500_cases(dir, false);
  const std::vector<Case> math500_pred = math500_cases(dir, true);
  if (gsm8k.empty() || math500.empty()) {
    std::fprintf(stderr, "reward_bench: no data in %s\n", dir.c_str());
    return 1;
  }
  std::printf("reward_bench: %d cores, %.1f s per measurement, load average %s, data %s\n\n",
              cores, seconds, forge::bench::load_average().c_str(), dir.c_str());
  std::printf("| %-40s | %5s | %11s | %10s | %10s | %10s | %10s |\n", "workload", "cases",
              "correct", "1 thread/s", "per CPU-s", "all cores/s", "per CPU-s");
  std::printf("|%s|%s|%s|%s|%s|%s|%s|\n", std::string(42, '-').c_str(),
              std::string(7, '-').c_str(), std::string(13, '-').c_str(),
              std::string(12, '-').c_str(), std::string(12, '-').c_str(),
              std::string(12, '-').c_str(), std::string(12, '-').c_str());
  const std::vector<Case> gsm8k_wrapped = wrapped(gsm8k);
  math_row("math: GSM8K solution vs #### gold", gsm8k, false, cores, seconds);
  math_row("math: GSM8K <answer>\\boxed{N}</answer>", gsm8k_wrapped, false, cores, seconds);
  math_row("math: MATH-500 solution vs answer", math500, false, cores, seconds);
  math_row("math: MATH-500 prediction only", math500_pred, true, cores, seconds);
  math_row("math: peer cases, pred != gold string", peer_cases(peer_dir), false, cores, seconds);
  math_row("math: MATH-500 answers rewritten (pred)", math500_rewritten(dir), true, cores, seconds);
  math_row("math: GSM8K answers rewritten (text)", gsm8k_rewritten(gsm8k), false, cores, seconds);
  format_row(gsm8k_wrapped, seconds);
  server_rows(gsm8k_wrapped, seconds);
  std::printf("\ncode programs/s (pool vs fresh sandbox vs bare python3): see reward_code_bench\n");
  return 0;
}
