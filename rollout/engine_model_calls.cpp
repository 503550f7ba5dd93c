// The engine's model calls (rollout/engine.h): prefill of joining sequences in length-sorted
// batches, one decode step per weight set, and partial rollouts' move to new weights.
#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include <ATen/core/grad_mode.h>

#include "rollout/engine.h"
#include "rollout/engine_sequences.h"

namespace forge::rollout {

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
