#include "rl/dist/rank_env.h"

#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace forge::rl {
namespace {

// The integer in variable `name`; `fallback` when unset (nullopt fallback: required).
absl::StatusOr<int> int_variable(const std::function<const char*(const char*)>& getenv,
                                 const char* name, std::optional<int> fallback) {
  const char* value = getenv(name);
  if (value == nullptr || *value == '\0') {
    if (fallback) return *fallback;
    return absl::InvalidArgumentError(absl::StrCat(name, ": required but not set"));
  }
  int out = 0;
  if (!absl::SimpleAtoi(value, &out) || out < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": '", value, "' is not a non-negative integer"));
  }
  return out;
}

absl::Status check_ranks(const RankInfo& r, const char* rank_key, const char* world_key,
                         const char* local_key) {
  if (r.world_size < 1) {
    return absl::InvalidArgumentError(absl::StrCat(world_key, ": must be >= 1"));
  }
  if (r.rank >= r.world_size) {
    return absl::InvalidArgumentError(absl::StrCat(rank_key, ": ", r.rank, " is outside [0, ",
                                                   r.world_size, ")"));
  }
  if (r.local_world_size < 1 || r.local_rank >= r.local_world_size) {
    return absl::InvalidArgumentError(absl::StrCat(local_key, ": ", r.local_rank,
                                                   " is outside [0, ", r.local_world_size, ")"));
  }
  if (r.master_port <= 0 || r.master_port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("MASTER_PORT: ", r.master_port, " is not a TCP port"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> first_slurm_host(const std::string& nodelist) {
  // The first entry ends at a comma outside brackets.
  size_t end = 0;
  int depth = 0;
  while (end < nodelist.size() && (nodelist[end] != ',' || depth > 0)) {
    if (nodelist[end] == '[') ++depth;
    if (nodelist[end] == ']') --depth;
    ++end;
  }
  const std::string entry = nodelist.substr(0, end);
  const size_t open = entry.find('[');
  if (entry.empty() || depth != 0 || (open != std::string::npos && entry.back() != ']')) {
    return absl::InvalidArgumentError(
        absl::StrCat("SLURM_JOB_NODELIST: cannot read a host from '", nodelist, "'"));
  }
  if (open == std::string::npos) return entry;
  // prefix[07-09,12]suffix-less: the first number (or range start), digits kept as written.
  const std::string ranges = entry.substr(open + 1, entry.size() - open - 2);
  const size_t stop = ranges.find_first_of(",-");
  const std::string first = ranges.substr(0, stop);
  if (first.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("SLURM_JOB_NODELIST: cannot read a host from '", nodelist, "'"));
  }
  return entry.substr(0, open) + first;
}

absl::StatusOr<RankInfo> rank_from_environment(
    const std::function<const char*(const char*)>& getenv) {
  auto set = [&](const char* name) {
    const char* v = getenv(name);
    return v != nullptr && *v != '\0';
  };
  RankInfo r;
  if (set("RANK") || set("WORLD_SIZE")) {
    if (!set("RANK")) return absl::InvalidArgumentError("RANK: WORLD_SIZE is set but RANK is not");
    if (!set("WORLD_SIZE")) {
      return absl::InvalidArgumentError("WORLD_SIZE: RANK is set but WORLD_SIZE is not");
    }
    r.launcher = "torchrun";
    absl::StatusOr<int> v = int_variable(getenv, "RANK", std::nullopt);
    if (!v.ok()) return v.status();
    r.rank = *v;
    if (!(v = int_variable(getenv, "WORLD_SIZE", std::nullopt)).ok()) return v.status();
    r.world_size = *v;
    if (!(v = int_variable(getenv, "LOCAL_RANK", r.rank)).ok()) return v.status();
    r.local_rank = *v;
    if (!(v = int_variable(getenv, "LOCAL_WORLD_SIZE", r.world_size)).ok()) return v.status();
    r.local_world_size = *v;
    if (r.world_size > 1 && !set("MASTER_ADDR")) {
      return absl::InvalidArgumentError(
          absl::StrCat("MASTER_ADDR: required with WORLD_SIZE=", r.world_size));
    }
    if (set("MASTER_ADDR")) r.master_addr = getenv("MASTER_ADDR");
    const std::optional<int> port =
        r.world_size > 1 ? std::nullopt : std::optional<int>(r.master_port);
    if (!(v = int_variable(getenv, "MASTER_PORT", port)).ok()) return v.status();
    r.master_port = *v;
    if (absl::Status st = check_ranks(r, "RANK", "WORLD_SIZE", "LOCAL_RANK"); !st.ok()) return st;
    return r;
  }
  // A task of an srun step (a batch script's own shell has SLURM_PROCID too, but no step tasks).
  if (set("SLURM_PROCID") && set("SLURM_STEP_NUM_TASKS")) {
    r.launcher = "slurm";
    absl::StatusOr<int> v = int_variable(getenv, "SLURM_PROCID", std::nullopt);
    if (!v.ok()) return v.status();
    r.rank = *v;
    if (!(v = int_variable(getenv, "SLURM_NTASKS", std::nullopt)).ok()) return v.status();
    r.world_size = *v;
    if (!(v = int_variable(getenv, "SLURM_LOCALID", 0)).ok()) return v.status();
    r.local_rank = *v;
    // SLURM_NTASKS_PER_NODE is set with --ntasks-per-node; else every task may be local.
    if (!(v = int_variable(getenv, "SLURM_NTASKS_PER_NODE", r.world_size)).ok()) return v.status();
    r.local_world_size = *v;
    if (set("MASTER_ADDR")) {
      r.master_addr = getenv("MASTER_ADDR");
    } else {
      const char* list = set("SLURM_JOB_NODELIST") ? getenv("SLURM_JOB_NODELIST")
                                                    : getenv("SLURM_NODELIST");
      if (list == nullptr || *list == '\0') {
        return absl::InvalidArgumentError(
            "SLURM_JOB_NODELIST: not set and MASTER_ADDR not given: no host for the rendezvous");
      }
      absl::StatusOr<std::string> host = first_slurm_host(list);
      if (!host.ok()) return host.status();
      r.master_addr = *host;
    }
    if (!(v = int_variable(getenv, "MASTER_PORT", r.master_port)).ok()) return v.status();
    r.master_port = *v;
    if (absl::Status st = check_ranks(r, "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID");
        !st.ok()) {
      return st;
    }
    return r;
  }
  return r;
}

}  // namespace forge::rl
