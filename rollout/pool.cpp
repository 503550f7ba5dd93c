#include "rollout/pool.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "proto/grpc_util.h"

namespace forge::rollout {
namespace {

bool transient(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
      return true;
    default:
      return false;
  }
}

bool by_index(const Completion& a, const Completion& b) {
  return std::make_pair(a.prompt_index, a.sample_index) <
         std::make_pair(b.prompt_index, b.sample_index);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Pool>> Pool::create(const std::vector<std::string>& addresses,
                                                   const PoolOptions& options) {
  if (addresses.empty()) return absl::InvalidArgumentError("rollout pool: no worker addresses");
  if (options.max_attempts < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("rollout pool: max_attempts must be >= 1 (got ", options.max_attempts, ")"));
  }
  return std::unique_ptr<Pool>(new Pool(addresses, options));
}

Pool::Pool(const std::vector<std::string>& addresses, const PoolOptions& options)
    : options_(options), state_(addresses.size()) {
  for (const std::string& a : addresses) {
    clients_.push_back(std::make_unique<Client>(a, options.client));
    backends_.push_back(std::max<size_t>(1, net::expand_target(a).size()));
  }
}

std::vector<PoolWorker> Pool::workers() const {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<PoolWorker> out;
  for (size_t i = 0; i < clients_.size(); ++i) {
    out.push_back({clients_[i]->address(), state_[i].down_until > now, state_[i].stale,
                   state_[i].version});
  }
  return out;
}

std::vector<size_t> Pool::usable() const {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<size_t> up, fresh;
  for (size_t i = 0; i < state_.size(); ++i) {
    if (state_[i].stale) continue;
    fresh.push_back(i);
    if (state_[i].down_until <= now) up.push_back(i);
  }
  return up.empty() ? fresh : up;
}

void Pool::mark_down(size_t worker) {
  std::lock_guard<std::mutex> lock(mu_);
  state_[worker].down_until = std::chrono::steady_clock::now() + options_.down_for;
}

absl::StatusOr<std::vector<Completion>> Pool::run_shard(const GenerationRequest& shard,
                                                        size_t first_worker) {
  size_t worker = first_worker;
  absl::Status last;
  std::vector<size_t> tried;
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    if (attempt > 0) {
      // The next usable worker after the one that failed, preferring one not tried yet.
      std::vector<size_t> candidates = usable();
      if (candidates.empty()) break;
      size_t pick = candidates[0];
      bool found = false;
      for (size_t step = 1; step <= clients_.size() && !found; ++step) {
        const size_t w = (worker + step) % clients_.size();
        const bool ok = std::find(candidates.begin(), candidates.end(), w) != candidates.end();
        const bool fresh = std::find(tried.begin(), tried.end(), w) == tried.end();
        if (ok && fresh) {
          pick = w;
          found = true;
        }
      }
      if (!found) {
        for (size_t w : candidates) {
          if (w != worker) {
            pick = w;
            break;
          }
        }
      }
      worker = pick;
      std::this_thread::sleep_for(std::chrono::milliseconds(20 * attempt));
    }
    tried.push_back(worker);
    absl::StatusOr<std::vector<Completion>> out = clients_[worker]->generate(shard);
    if (out.ok()) return out;
    last = out.status();
    if (!transient(last.code())) return last;
    mark_down(worker);
  }
  if (last.ok()) last = absl::UnavailableError("rollout pool: no usable worker (all stale)");
  return absl::Status(last.code(), absl::StrCat("rollout pool: gave up after ", tried.size(),
                                                " attempt(s); last: ", last.message()));
}

absl::StatusOr<std::vector<Completion>> Pool::generate(const GenerationRequest& request) {
  if (request.prompts.empty()) return absl::InvalidArgumentError("prompts: no prompts");
  const std::vector<size_t> workers = usable();
  if (workers.empty()) {
    return absl::UnavailableError("rollout pool: every worker missed the last weight update");
  }
  // One shard per server: an address that resolves to several (round robin over them) takes as
  // many shards, so they all generate at once.
  std::vector<size_t> targets;
  for (size_t round = 0, added = 1; added > 0; ++round) {
    added = 0;
    for (size_t w : workers) {
      if (round < backends_[w]) {
        targets.push_back(w);
        ++added;
      }
    }
  }
  const size_t p = request.prompts.size();
  const size_t shards = std::min(targets.size(), p);
  // Each shard is the request (sampling, partial rollouts, routing, ...) with its own prompts.
  GenerationRequest without_prompts;
  without_prompts.sampling = request.sampling;
  without_prompts.partial = request.partial;
  without_prompts.return_routing = request.return_routing;
  std::vector<GenerationRequest> parts(shards, without_prompts);
  size_t begin = 0;
  for (size_t s = 0; s < shards; ++s) {
    const size_t count = p / shards + (s < p % shards ? 1 : 0);
    parts[s].first_prompt_index = request.first_prompt_index + static_cast<int64_t>(begin);
    parts[s].prompts.assign(request.prompts.begin() + begin, request.prompts.begin() + begin + count);
    begin += count;
  }
  std::vector<absl::StatusOr<std::vector<Completion>>> results(shards);
  if (shards == 1) {
    results[0] = run_shard(parts[0], targets[0]);
  } else {
    std::vector<std::thread> threads;
    for (size_t s = 0; s < shards; ++s) {
      threads.emplace_back([&, s] { results[s] = run_shard(parts[s], targets[s]); });
    }
    for (std::thread& t : threads) t.join();
  }
  std::vector<Completion> out;
  for (auto& r : results) {
    if (!r.ok()) return r.status();
    for (Completion& c : *r) out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(), by_index);
  return out;
}

absl::StatusOr<WeightPublishResult> Pool::push_weights(const NamedTensors& tensors,
                                                      int64_t version) {
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<WeightPayload> payload = WeightPayload::build(tensors, version, options_.chunk_bytes);
  if (!payload.ok()) return payload.status();
  absl::StatusOr<WeightPublishResult> out = push_weights(*payload);
  if (out.ok()) {
    out->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return out;
}

Client& Pool::push_client(size_t worker, const std::string& server) {
  if (server == clients_[worker]->address()) return *clients_[worker];
  std::lock_guard<std::mutex> lock(mu_);
  std::unique_ptr<Client>& c = push_clients_[server];
  if (!c) c = std::make_unique<Client>(server, options_.client);
  return *c;
}

absl::StatusOr<WeightPublishResult> Pool::push_weights(const WeightPayload& payload) {
  const auto start = std::chrono::steady_clock::now();
  // Every server each address stands for gets the update (resolved now: a Service may have
  // grown); an address took it when all of its servers did.
  struct Push {
    size_t worker;
    std::string server;
    absl::StatusOr<WeightPushResult> result = absl::UnknownError("not pushed");
  };
  std::vector<Push> pushes;
  for (size_t w = 0; w < clients_.size(); ++w) {
    for (const std::string& server : net::expand_target(clients_[w]->address())) {
      pushes.push_back({w, server});
    }
  }
  std::vector<std::thread> threads;
  for (Push& push : pushes) {
    Push* p = &push;
    threads.emplace_back(
        [this, p, &payload] { p->result = push_client(p->worker, p->server).push_weights(payload); });
  }
  for (std::thread& t : threads) t.join();
  std::vector<absl::Status> worker_status(clients_.size());
  for (const Push& push : pushes) {
    if (!push.result.ok() && worker_status[push.worker].ok()) {
      worker_status[push.worker] = absl::Status(
          push.result.status().code(),
          push.server == clients_[push.worker]->address()
              ? std::string(push.result.status().message())
              : absl::StrCat(push.server, ": ", push.result.status().message()));
    }
  }
  WeightPublishResult out;
  out.version = payload.version();
  out.bytes = payload.total_bytes();
  for (size_t w = 0; w < clients_.size(); ++w) {
    if (worker_status[w].ok()) {
      out.updated.push_back(clients_[w]->address());
    } else {
      out.failed.push_back(absl::StrCat(clients_[w]->address(), ": ", worker_status[w].message()));
    }
  }
  if (!out.updated.empty()) {
    // Workers that missed a version others took would mix versions in one batch: skip them until a
    // later push reaches them. (When every push failed, all still agree on the old version.)
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t w = 0; w < clients_.size(); ++w) {
      state_[w].stale = !worker_status[w].ok();
      if (worker_status[w].ok()) {
        state_[w].version = payload.version();
        state_[w].down_until = {};
      }
    }
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (out.updated.empty()) {
    return absl::Status(worker_status[0].code(),
                        absl::StrCat("rollout pool: no worker took weight version ",
                                     payload.version(), ": ", out.failed[0]));
  }
  return out;
}

}  // namespace forge::rollout
