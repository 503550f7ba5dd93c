#include "rollout/engine.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include <ATen/core/grad_mode.h>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/stopwatch.h"
#include "base/utf8.h"
#include "policy/sampler.h"
#include "policy/streaming_detokenizer.h"

namespace forge::rollout {

struct Engine::Request {
  GenerationRequest request;
  std::shared_ptr<const WeightSet> weights;  // pinned at submit
  std::chrono::steady_clock::time_point submitted = std::chrono::steady_clock::now();
  Callbacks callbacks;
  policy::SamplingParams params;
  int total = 0;        // prompts x n
  int finished = 0;     // engine thread
  bool done = false;    // engine thread (stop() after the thread ended)
  std::atomic<bool> cancelled{false};
};

struct Engine::Queued {
  std::shared_ptr<Request> request;
  int prompt = 0;  // index in request.prompts
  int sample = 0;
};

struct Engine::Sequence {
  Sequence(std::shared_ptr<Request> r, int p, int s, uint64_t seed)
      : request(std::move(r)), prompt(p), sample(s), sampler(request->params, seed) {}
  std::shared_ptr<Request> request;
  int prompt;
  int sample;
  policy::Sampler sampler;
  int slot = -1;
  std::vector<int32_t> tokens;
  std::vector<float> logprobs;
  std::vector<int64_t> versions;  // per token
  std::vector<int32_t> routing;   // [positions][MoE layers][top_k], when the request asked
  // The text as tokens arrive, when the request has stop strings (found across token boundaries
  // and inside multi-byte characters); without them the tokens are decoded once at the end.
  std::optional<policy::StreamingDetokenizer> detokenizer;
  int64_t next = -1;  // the last sampled token, which the next decode step feeds
  bool finished = false;
};

class Engine::Handle final : public RequestHandle {
 public:
  explicit Handle(std::shared_ptr<Request> request) : request_(std::move(request)) {}
  // The engine polls the flag before every step (it is never idle while a request has work).
  void cancel() override { request_->cancelled.store(true); }

 private:
  std::shared_ptr<Request> request_;
};

absl::StatusOr<std::unique_ptr<Engine>> Engine::create(
    policy::Model model, std::shared_ptr<const policy::Tokenizer> tokenizer,
    const EngineOptions& options, int64_t initial_version) {
  if (!model) return absl::InvalidArgumentError("rollout engine: no model");
  if (!tokenizer) return absl::InvalidArgumentError("rollout engine: no tokenizer");
  const policy::ModelConfig& config = model->config();
  if (options.max_batch_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_batch_size must be >= 1 (got ", options.max_batch_size, ")"));
  }
  if (options.default_max_new_tokens < 1) {
    return absl::InvalidArgumentError(absl::StrCat("max_new_tokens must be >= 1 (got ",
                                                   options.default_max_new_tokens, ")"));
  }
  if (options.max_queued < 1 || options.max_n < 1 || options.max_prefill_tokens < 1) {
    return absl::InvalidArgumentError("max_queued, max_n and max_prefill_tokens must be >= 1");
  }
  if (tokenizer->vocab_size() > config.vocab_size) {
    return absl::InvalidArgumentError(absl::StrCat("the tokenizer's vocabulary (",
                                                   tokenizer->vocab_size(),
                                                   ") exceeds the model's vocab_size ",
                                                   config.vocab_size));
  }
  policy::KvCache::Options cache_options;
  cache_options.budget_bytes = options.cache_bytes;
  cache_options.max_seq_len = options.max_seq_len;
  cache_options.max_slots = options.max_batch_size;
  cache_options.dtype = model->model->embed_tokens->weight.scalar_type();
  cache_options.device = model->device();
  absl::StatusOr<policy::KvCache> cache = policy::KvCache::create(config, cache_options);
  if (!cache.ok()) return cache.status();
  return std::unique_ptr<Engine>(new Engine(std::move(model), std::move(tokenizer), options,
                                            initial_version, std::move(cache).value()));
}

Engine::Engine(policy::Model model, std::shared_ptr<const policy::Tokenizer> tokenizer,
               const EngineOptions& options, int64_t initial_version, policy::KvCache cache)
    : config_(model->config()),
      tokenizer_(std::move(tokenizer)),
      options_(options),
      device_(model->device().str()),
      cache_(std::move(cache)) {
  limits_.vocab_size = config_.vocab_size;
  limits_.max_seq_len = cache_.max_seq_len();
  limits_.max_n = options_.max_n;
  limits_.default_max_new_tokens = options_.default_max_new_tokens;
  weights_ = std::make_unique<WeightStore>(std::move(model), initial_version);
  stats_.cache_slots = cache_.capacity();
  stats_.max_seq_len = cache_.max_seq_len();
  stats_.max_batch_size = options_.max_batch_size;
  stats_.cache_bytes_capacity = cache_.bytes_per_slot() * cache_.capacity();
  stats_.device = device_;
  registry_.on_scrape([this] {
    const EngineStats s = stats();
    metrics_.running.set(s.active_sequences);
    metrics_.waiting.set(s.queued_sequences);
    metrics_.policy_version.set(static_cast<double>(s.policy_version));
    metrics_.kv_cache_usage.set(s.cache_bytes_capacity > 0
                                    ? static_cast<double>(s.cache_bytes_used) /
                                          s.cache_bytes_capacity
                                    : 0.0);
  });
  thread_ = std::thread([this] { run(); });
}

Engine::~Engine() { stop(); }

void Engine::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
  std::vector<std::shared_ptr<Request>> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    live.swap(live_);
    queue_.clear();
  }
  for (auto& r : live) {
    if (r->done) continue;
    r->done = true;
    r->callbacks.on_done(absl::UnavailableError("the rollout engine is shutting down"));
  }
}

absl::StatusOr<std::shared_ptr<RequestHandle>> Engine::submit(GenerationRequest request,
                                                              Callbacks callbacks) {
  RETURN_IF_ERROR(resolve_and_validate(request, limits_));
  const int64_t total = static_cast<int64_t>(request.prompts.size()) * request.sampling.n;
  if (total > options_.max_queued) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sampling.n: ", request.prompts.size(), " prompts x n ", request.sampling.n, " = ", total,
        " sequences exceed the worker's limit of ", options_.max_queued, " per request"));
  }
  auto r = std::make_shared<Request>();
  r->params.temperature = request.sampling.temperature;
  r->params.top_p = request.sampling.top_p;
  r->params.top_k = request.sampling.top_k;
  r->total = static_cast<int>(total);
  r->request = std::move(request);
  r->callbacks = std::move(callbacks);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return absl::UnavailableError("the rollout engine is shutting down");
    if (static_cast<int64_t>(queue_.size()) + total > options_.max_queued) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "rollout worker overloaded: ", queue_.size(), " sequences queued, this request adds ",
          total, " (limit ", options_.max_queued, "); retry later or on another worker"));
    }
    r->weights = weights_->current();
    for (int p = 0; p < static_cast<int>(r->request.prompts.size()); ++p) {
      for (int i = 0; i < r->request.sampling.n; ++i) queue_.push_back({r, p, i});
    }
    live_.push_back(r);
    stats_.queued_sequences = static_cast<int>(queue_.size());
  }
  cv_.notify_one();
  return std::shared_ptr<RequestHandle>(std::make_shared<Handle>(r));
}

absl::StatusOr<std::vector<Completion>> Engine::generate(GenerationRequest request) {
  struct Collected {
    std::mutex mu;
    std::vector<Completion> completions;
    std::promise<absl::Status> done;
  };
  auto collected = std::make_shared<Collected>();
  std::future<absl::Status> done = collected->done.get_future();
  Callbacks callbacks;
  callbacks.on_completion = [collected](Completion&& c) {
    std::lock_guard<std::mutex> lock(collected->mu);
    collected->completions.push_back(std::move(c));
  };
  callbacks.on_done = [collected](const absl::Status& s) { collected->done.set_value(s); };
  ASSIGN_OR_RETURN(std::shared_ptr<RequestHandle> handle,
                   submit(std::move(request), std::move(callbacks)));
  RETURN_IF_ERROR(done.get());
  std::vector<Completion> out = std::move(collected->completions);
  std::sort(out.begin(), out.end(), [](const Completion& a, const Completion& b) {
    return std::make_pair(a.prompt_index, a.sample_index) <
           std::make_pair(b.prompt_index, b.sample_index);
  });
  return out;
}

EngineStats Engine::stats() const {
  EngineStats out;
  {
    std::lock_guard<std::mutex> lock(mu_);
    out = stats_;
  }
  out.policy_version = weights_->current_version();
  out.tokens_generated = tokens_generated_.load();
  out.requests_completed = requests_completed_.load();
  return out;
}

void Engine::run() {
  at::NoGradGuard no_grad;
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      // Never idle while a request has work: the queue is only non-empty without room when some
      // sequence is active, and then this loop keeps stepping.
      cv_.wait_for(lock, std::chrono::milliseconds(100), [&] {
        return stopping_ || !active_.empty() || !queue_.empty();
      });
      if (stopping_) return;
    }
    cancel_requests();
    std::vector<Queued> joining;
    admit(joining);
    try {
      follow_new_weights();
      if (!joining.empty()) prefill(joining);
      if (!active_.empty()) decode();
    } catch (const std::exception& e) {
      // A torch error (out of memory, a bad kernel): fail what was running, keep serving.
      std::vector<std::shared_ptr<Request>> running;
      for (auto& seq : active_) {
        if (!seq->finished) running.push_back(seq->request);
      }
      for (auto& r : running) {
        fail_request(r, absl::InternalError(absl::StrCat("generation step failed: ", e.what())));
      }
    }
    remove_finished();
    publish_stats();
  }
}

void Engine::cancel_requests() {
  std::vector<std::shared_ptr<Request>> cancelled;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& r : live_) {
      if (!r->done && r->cancelled.load()) cancelled.push_back(r);
    }
  }
  for (auto& r : cancelled) fail_request(r, absl::CancelledError("the request was cancelled"));
}

void Engine::admit(std::vector<Queued>& joining) {
  int running = 0;
  for (auto& seq : active_) running += seq->finished ? 0 : 1;
  int room = std::min(cache_.num_free(), options_.max_batch_size - running);
  std::lock_guard<std::mutex> lock(mu_);
  while (room > 0 && !queue_.empty()) {
    Queued q = std::move(queue_.front());
    queue_.pop_front();
    if (q.request->done) continue;
    joining.push_back(std::move(q));
    --room;
  }
}

void Engine::prefill(std::vector<Queued>& joining) {
  // Every joiner gets a slot and a sampler; the first joiner of each (request, prompt) is its
  // prompt's leader, whose prefill the others copy.
  std::vector<Sequence*> seqs;
  std::vector<int> leader_of;  // per joiner: index in `leaders`
  std::vector<Sequence*> leaders;
  std::map<std::pair<const Request*, int>, int> leader_index;
  for (Queued& q : joining) {
    const int64_t prompt_index = q.request->request.first_prompt_index + q.prompt;
    const uint64_t seed = sample_seed(q.request->request.sampling.seed, prompt_index, q.sample);
    auto seq = std::make_unique<Sequence>(q.request, q.prompt, q.sample, seed);
    if (!q.request->request.sampling.stop.empty()) {
      seq->detokenizer.emplace(*tokenizer_, q.request->request.sampling.stop);
    }
    metrics_.prompt_tokens.inc(static_cast<double>(q.request->request.prompts[q.prompt].size()));
    seq->slot = *cache_.alloc();  // admit() left room
    auto [it, inserted] = leader_index.emplace(std::make_pair(q.request.get(), q.prompt),
                                               static_cast<int>(leaders.size()));
    if (inserted) leaders.push_back(seq.get());
    leader_of.push_back(it->second);
    seqs.push_back(seq.get());
    active_.push_back(std::move(seq));
  }

  // Prefill the leaders, grouped by weights.
  std::map<const WeightSet*, std::vector<int>> groups;
  for (int u = 0; u < static_cast<int>(leaders.size()); ++u) {
    groups[leaders[u]->request->weights.get()].push_back(u);
  }
  std::vector<at::Tensor> leader_logits(leaders.size());  // [V] each
  for (auto& [set, members] : groups) {
    std::vector<PrefillRow> rows;
    for (int u : members) {
      Sequence* leader = leaders[u];
      rows.push_back({&leader->request->request.prompts[leader->prompt], leader->slot,
                      leader->request->request.return_routing ? &leader->routing : nullptr});
    }
    std::vector<at::Tensor> logits = prefill_rows(*set->model.ptr(), rows);
    for (size_t i = 0; i < members.size(); ++i) leader_logits[members[i]] = logits[i];
  }

  // Followers copy their leader's cache rows; then every joiner samples its first token.
  const int64_t max_len = cache_.max_seq_len();
  std::vector<at::Tensor> rows;
  std::vector<policy::Sampler*> samplers;
  for (size_t j = 0; j < seqs.size(); ++j) {
    Sequence* seq = seqs[j];
    const Sequence* leader = leaders[leader_of[j]];
    if (seq != leader) {
      const int len = cache_.length(leader->slot);
      for (int l = 0; l < cache_.num_layers(); ++l) {
        at::Tensor& layer = cache_.layer(l);  // [slots * max_len, C]
        layer.narrow(0, seq->slot * max_len, len).copy_(layer.narrow(0, leader->slot * max_len, len));
      }
      cache_.set_length(seq->slot, len);
      seq->routing = leader->routing;
    }
    rows.push_back(leader_logits[leader_of[j]]);
    samplers.push_back(&seq->sampler);
  }
  const std::vector<policy::SampledToken> picked =
      policy::sample_batch(at::stack(rows), samplers);  // logits [J, V]
  for (size_t j = 0; j < seqs.size(); ++j) append(*seqs[j], picked[j].token, picked[j].logprob);
}

namespace {

// Each MoE layer's routing of the last model call ([M, K] int64 each), on the CPU.
std::vector<at::Tensor> routing_on_cpu(const policy::ModelImpl& model) {
  std::vector<at::Tensor> out;
  for (const at::Tensor& r : model.last_routing()) out.push_back(r.to(at::kCPU).contiguous());
  return out;
}

// Appends rows [first, first + count) of `layers` to `out` as [position][layer][k].
void append_routing(const std::vector<at::Tensor>& layers, int64_t first, int64_t count,
                    std::vector<int32_t>& out) {
  for (int64_t row = first; row < first + count; ++row) {
    for (const at::Tensor& layer : layers) {
      const int64_t* ids = layer.data_ptr<int64_t>() + row * layer.size(1);
      out.insert(out.end(), ids, ids + layer.size(1));
    }
  }
}

}  // namespace

std::vector<at::Tensor> Engine::prefill_rows(policy::ModelImpl& model,
                                             const std::vector<PrefillRow>& rows) {
  // Longest first, in calls of <= max_prefill_tokens.
  std::vector<int> order(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) order[i] = static_cast<int>(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return rows[a].tokens->size() > rows[b].tokens->size(); });
  std::vector<at::Tensor> out(rows.size());  // [V] each
  size_t begin = 0;
  while (begin < order.size()) {
    const int64_t width = static_cast<int64_t>(rows[order[begin]].tokens->size());
    size_t end = begin + 1;
    while (end < order.size() &&
           static_cast<int64_t>(end - begin + 1) * width <= options_.max_prefill_tokens) {
      ++end;
    }
    const int64_t n = static_cast<int64_t>(end - begin);
    at::Tensor ids = at::zeros({n, width}, at::kLong);   // [U, T]
    at::Tensor mask = at::zeros({n, width}, at::kLong);  // [U, T]
    auto id = ids.accessor<int64_t, 2>();
    auto m = mask.accessor<int64_t, 2>();
    std::vector<int> slots;
    bool routing = false;
    for (int64_t r = 0; r < n; ++r) {
      const PrefillRow& row = rows[order[begin + r]];
      for (size_t j = 0; j < row.tokens->size(); ++j) {
        id[r][j] = (*row.tokens)[j];
        m[r][j] = 1;
      }
      slots.push_back(row.slot);
      routing |= row.routing != nullptr;
    }
    at::Tensor logits = model.prefill(cache_, ids, mask, slots);  // [U, V]
    // Routing rows: each row's real tokens, row after row.
    std::vector<at::Tensor> layers;  // [M, K] per MoE layer
    if (routing) layers = routing_on_cpu(model);
    int64_t first = 0;
    for (int64_t r = 0; r < n; ++r) {
      const PrefillRow& row = rows[order[begin + r]];
      const int64_t len = static_cast<int64_t>(row.tokens->size());
      if (row.routing != nullptr) append_routing(layers, first, len, *row.routing);
      first += len;
      out[order[begin + r]] = logits[r];
    }
    begin = end;
  }
  return out;
}

void Engine::decode() {
  std::map<const WeightSet*, std::vector<Sequence*>> groups;
  for (auto& seq : active_) {
    if (!seq->finished) groups[seq->request->weights.get()].push_back(seq.get());
  }
  for (auto& [set, seqs] : groups) {
    std::vector<int64_t> tokens;
    std::vector<int> slots;
    std::vector<policy::Sampler*> samplers;
    for (Sequence* seq : seqs) {
      tokens.push_back(seq->next);
      slots.push_back(seq->slot);
      samplers.push_back(&seq->sampler);
    }
    at::Tensor logits =
        set->model.ptr()->decode_step(cache_, at::tensor(tokens, at::kLong), slots);  // [B, V]
    std::vector<at::Tensor> layers;
    for (size_t k = 0; k < seqs.size(); ++k) {
      if (!seqs[k]->request->request.return_routing) continue;
      if (layers.empty()) layers = routing_on_cpu(*set->model.ptr());
      append_routing(layers, static_cast<int64_t>(k), 1, seqs[k]->routing);
    }
    const std::vector<policy::SampledToken> picked = policy::sample_batch(logits, samplers);
    for (size_t k = 0; k < seqs.size(); ++k) append(*seqs[k], picked[k].token, picked[k].logprob);
  }
}

void Engine::append(Sequence& seq, int64_t token, float logprob) {
  seq.tokens.push_back(static_cast<int32_t>(token));
  seq.logprobs.push_back(logprob);
  seq.versions.push_back(seq.request->weights->version);
  tokens_generated_.fetch_add(1);
  metrics_.generation_tokens.inc();
  if (seq.tokens.size() == 1) {
    metrics_.time_to_first_token.observe(seconds_since(seq.request->submitted));
  }
  const SamplingOptions& s = seq.request->request.sampling;
  if (token == config_.eos_token_id) return finish_sequence(seq, "stop");
  if (seq.detokenizer) {
    // A token id the tokenizer cannot decode was sampled from the model's own vocabulary: it adds
    // no text, as in a whole decode.
    (void)seq.detokenizer->push(static_cast<int32_t>(token));
    if (seq.detokenizer->stopped()) return finish_sequence(seq, "stop");
  }
  if (static_cast<int>(seq.tokens.size()) >= s.max_new_tokens) return finish_sequence(seq, "length");
  seq.next = token;
}

void Engine::finish_sequence(Sequence& seq, const std::string& reason) {
  seq.finished = true;
  cache_.free(seq.slot);
  Request& r = *seq.request;
  Completion c;
  c.prompt_index = static_cast<int32_t>(r.request.first_prompt_index + seq.prompt);
  c.sample_index = seq.sample;
  c.prompt_token_ids = r.request.prompts[seq.prompt];
  if (seq.detokenizer) {
    seq.detokenizer->finish();
    c.text = seq.detokenizer->text();  // cut before a stop string; valid UTF-8
  } else {
    absl::StatusOr<std::string> text = tokenizer_->decode(seq.tokens);
    c.text = to_valid_utf8(text.ok() ? *text : std::string());
  }
  c.token_ids = std::move(seq.tokens);
  c.logprobs = std::move(seq.logprobs);
  c.finish_reason = reason;
  c.policy_version = seq.versions.front();  // a finished sequence has a token
  c.token_versions = std::move(seq.versions);
  if (r.request.return_routing) {
    c.routed_experts = std::move(seq.routing);
    for (int l = 0; l < config_.num_hidden_layers; ++l) c.routing_layers += config_.is_moe_layer(l);
    c.routing_top_k = config_.num_experts_per_tok;
  }
  if (r.done) return;
  metrics_.e2e_latency.observe(seconds_since(r.submitted));
  (reason == "length" ? metrics_.finished_length : metrics_.finished_stop).inc();
  r.callbacks.on_completion(std::move(c));
  if (++r.finished == r.total) {
    r.done = true;
    {
      std::lock_guard<std::mutex> lock(mu_);
      live_.erase(std::remove(live_.begin(), live_.end(), seq.request), live_.end());
    }
    requests_completed_.fetch_add(1);
    publish_stats();  // a client that reads stats after its call sees this request's slots freed
    r.callbacks.on_done(absl::OkStatus());
  }
}

void Engine::fail_request(const std::shared_ptr<Request>& request, const absl::Status& status) {
  if (request->done) return;
  request->done = true;
  for (auto& seq : active_) {
    if (seq->request == request && !seq->finished) {
      seq->finished = true;
      if (cache_.allocated(seq->slot)) cache_.free(seq->slot);
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.erase(std::remove_if(queue_.begin(), queue_.end(),
                                [&](const Queued& q) { return q.request == request; }),
                 queue_.end());
    live_.erase(std::remove(live_.begin(), live_.end(), request), live_.end());
  }
  publish_stats();
  request->callbacks.on_done(status);
}

void Engine::remove_finished() {
  active_.erase(std::remove_if(active_.begin(), active_.end(),
                               [](const std::unique_ptr<Sequence>& s) { return s->finished; }),
                active_.end());
}

void Engine::publish_stats() {
  int64_t tokens = 0;
  int active = 0;
  for (auto& seq : active_) {
    if (seq->finished) continue;  // finished sequences wait in active_ until remove_finished()
    tokens += cache_.length(seq->slot);
    ++active;
  }
  std::lock_guard<std::mutex> lock(mu_);
  stats_.active_sequences = active;
  stats_.queued_sequences = static_cast<int>(queue_.size());
  stats_.cache_bytes_used = tokens * cache_.bytes_per_token();
}

// Partial rollouts (request.h's PartialRollout): between two decode steps, the requests that asked
// for them move from the weights they run on to the newest published set, so an asynchronous
// trainer's weight update reaches sequences that are already running instead of waiting for them
// to finish (or restarting them). kKeep decodes on over the cache the old weights wrote: nothing to
// do but re-pin. kRecompute first rewrites each running sequence's cache with the new weights: its
// slot is replaced by a fresh one filled by one prefill of prompt + every token but the last
// (which the next decode step reads), so from then on it decodes exactly as if the new weights had
// read the whole sequence; its routing record is replaced by that prefill's.
void Engine::follow_new_weights() {
  const std::shared_ptr<const WeightSet> current = weights_->current();
  std::set<const Request*> moved;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const std::shared_ptr<Request>& r : live_) {
      if (r->request.partial == PartialRollout::kOff || r->done || r->weights == current) continue;
      r->weights = current;  // read by this thread only (prefill, decode, append)
      moved.insert(r.get());
    }
  }
  if (moved.empty()) return;

  std::vector<Sequence*> rewrite;
  for (auto& seq : active_) {
    if (!seq->finished && moved.count(seq->request.get()) > 0 &&
        seq->request->request.partial == PartialRollout::kRecompute) {
      rewrite.push_back(seq.get());
    }
  }
  if (rewrite.empty()) return;
  std::vector<std::vector<int32_t>> texts(rewrite.size());  // prompt ++ tokens[0 .. n-2]
  std::vector<PrefillRow> rows;
  for (size_t i = 0; i < rewrite.size(); ++i) {
    Sequence& seq = *rewrite[i];
    texts[i] = seq.request->request.prompts[seq.prompt];
    texts[i].insert(texts[i].end(), seq.tokens.begin(), seq.tokens.end() - 1);
    cache_.free(seq.slot);
    seq.slot = *cache_.alloc();  // the slot just freed, or a lower one
    seq.routing.clear();
    rows.push_back(
        {&texts[i], seq.slot, seq.request->request.return_routing ? &seq.routing : nullptr});
  }
  prefill_rows(*current->model.ptr(), rows);  // the logits that follow are those of a token sampled
}

}  // namespace forge::rollout
