#include "reward/code/code_rule.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "reward/code/code_job.h"
#include "reward/code/worker_pool.h"

namespace forge::reward {
namespace {

class CodeRule final : public RewardRule {
 public:
  explicit CodeRule(std::unique_ptr<code::WorkerPool> pool) : pool_(std::move(pool)) {}

  std::string name() const override { return "code"; }
  std::string description() const override {
    return "1 if the Python program in the completion passes every test (humaneval, asserts or "
           "stdio) in a bubblewrap sandbox, else 0";
  }

  absl::Status check(const GradeItem& item) const override {
    return code::make_code_job(item.completion, item.tests).status();
  }

  absl::StatusOr<RuleResult> grade(const GradeItem& item,
                                   std::chrono::steady_clock::time_point deadline) const override {
    absl::StatusOr<code::CodeJob> job = code::make_code_job(item.completion, item.tests);
    if (!job.ok()) return job.status();
    absl::StatusOr<code::WorkerPool::Outcome> out =
        pool_->run(std::move(job->job), job->runs, deadline);
    if (!out.ok()) return out.status();
    return code::code_rule_result(out->result, out->deadline_limited);
  }

 private:
  std::unique_ptr<code::WorkerPool> pool_;
};

}  // namespace

absl::StatusOr<CodeRuleOptions> code_rule_options_from_json(const nlohmann::json& j) {
  CodeRuleOptions o;
  if (j.is_null()) return o;
  if (!j.is_object()) return absl::InvalidArgumentError("code rule options must be an object");
  code::SandboxConfig& s = o.sandbox;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const nlohmann::json& v = it.value();
    auto want = [&](bool ok, const char* type) -> absl::Status {
      if (ok) return absl::OkStatus();
      return absl::InvalidArgumentError(absl::StrCat("code rule option ", key, " must be ", type));
    };
    absl::Status st;
    if (key == "workers") {
      if ((st = want(v.is_number_integer(), "an integer")).ok()) o.workers = v.get<int>();
    } else if (key == "reuse_workers") {
      if ((st = want(v.is_boolean(), "a boolean")).ok()) o.reuse_workers = v.get<bool>();
    } else if (key == "wall_seconds") {
      if ((st = want(v.is_number(), "a number")).ok()) s.wall_seconds = v.get<double>();
    } else if (key == "cpu_seconds") {
      if ((st = want(v.is_number(), "a number")).ok()) s.cpu_seconds = v.get<double>();
    } else if (key == "memory_mb") {
      if ((st = want(v.is_number_integer(), "an integer")).ok())
        s.memory_bytes = v.get<int64_t>() << 20;
    } else if (key == "max_processes") {
      if ((st = want(v.is_number_integer(), "an integer")).ok()) s.max_processes = v.get<int>();
    } else if (key == "max_file_mb") {
      if ((st = want(v.is_number_integer(), "an integer")).ok())
        s.max_file_bytes = v.get<int64_t>() << 20;
    } else if (key == "tmp_mb") {
      if ((st = want(v.is_number_integer(), "an integer")).ok())
        s.tmp_bytes = v.get<int64_t>() << 20;
    } else if (key == "max_open_files") {
      if ((st = want(v.is_number_integer(), "an integer")).ok()) s.max_open_files = v.get<int>();
    } else if (key == "max_output_kb") {
      if ((st = want(v.is_number_integer(), "an integer")).ok()) {
        s.max_output_bytes = v.get<int64_t>() << 10;
      }
    } else if (key == "bwrap") {
      if ((st = want(v.is_string(), "a string")).ok()) s.bwrap_path = v.get<std::string>();
    } else if (key == "python") {
      if ((st = want(v.is_string(), "a string")).ok()) s.python_path = v.get<std::string>();
    } else if (key == "sandbox_uid") {
      if ((st = want(v.is_number_integer(), "an integer")).ok()) s.sandbox_uid = v.get<int>();
    } else if (key == "sandbox_gid") {
      if ((st = want(v.is_number_integer(), "an integer")).ok()) s.sandbox_gid = v.get<int>();
    } else if (key == "extra_ro_binds") {
      bool ok = v.is_array() && std::all_of(v.begin(), v.end(),
                                            [](const nlohmann::json& e) { return e.is_string(); });
      if ((st = want(ok, "an array of strings")).ok()) {
        s.extra_ro_binds = v.get<std::vector<std::string>>();
      }
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown code rule option ", key));
    }
    if (!st.ok()) return st;
  }
  return o;
}

absl::StatusOr<std::unique_ptr<RewardRule>> make_code_rule(const CodeRuleOptions& options) {
  code::WorkerPool::Options p;
  p.sandbox = options.sandbox;
  p.reuse_workers = options.reuse_workers;
  p.workers = options.workers > 0
                  ? options.workers
                  : static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 16u));
  absl::StatusOr<std::unique_ptr<code::WorkerPool>> pool = code::WorkerPool::create(p);
  if (!pool.ok()) return pool.status();
  return std::unique_ptr<RewardRule>(new CodeRule(*std::move(pool)));
}

}  // namespace forge::reward
