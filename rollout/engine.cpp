#include "rollout/engine.h"

#include <algorithm>
#include <chrono>
#include <future>
#include <utility>

#include <ATen/core/grad_mode.h>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/stopwatch.h"
#include "base/utf8.h"
#include "policy/sampler.h"
#include "policy/streaming_detokenizer.h"
#include "rollout/engine_sequences.h"

namespace forge::rollout {

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


}  // namespace forge::rollout
