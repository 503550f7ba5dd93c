#include "policy/generate.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "policy/kv_cache.h"

namespace forge::policy {
namespace {

// Right-padded [B, T] ids and mask of `rows` (pad id 0 under mask 0).
std::pair<at::Tensor, at::Tensor> pad_batch(const std::vector<std::vector<int32_t>>& rows) {
  size_t t = 0;
  for (const auto& r : rows) t = std::max(t, r.size());
  const int64_t b = static_cast<int64_t>(rows.size());
  at::Tensor ids = at::zeros({b, static_cast<int64_t>(t)}, at::kLong);
  at::Tensor mask = at::zeros({b, static_cast<int64_t>(t)}, at::kLong);
  auto id = ids.accessor<int64_t, 2>();
  auto m = mask.accessor<int64_t, 2>();
  for (int64_t i = 0; i < b; ++i) {
    for (size_t j = 0; j < rows[i].size(); ++j) {
      id[i][j] = rows[i][j];
      m[i][j] = 1;
    }
  }
  return {ids, mask};
}

}  // namespace

absl::StatusOr<std::vector<Generation>> generate(ModelImpl& model,
                                                 const std::vector<std::vector<int32_t>>& prompts,
                                                 const GenerateOptions& options) {
  if (absl::Status st = options.sampling.validate(); !st.ok()) return st;
  if (options.max_new_tokens < 0) return absl::InvalidArgumentError("max_new_tokens must be >= 0");
  const ModelConfig& config = model.config();
  const int64_t b = static_cast<int64_t>(prompts.size());
  for (int64_t i = 0; i < b; ++i) {
    if (prompts[i].empty()) return absl::InvalidArgumentError(absl::StrCat("prompt ", i, " is empty"));
    for (int32_t id : prompts[i]) {
      if (id < 0 || id >= config.vocab_size) {
        return absl::InvalidArgumentError(absl::StrCat("prompt ", i, ": token id ", id,
                                                       " outside [0, ", config.vocab_size, ")"));
      }
    }
    if (static_cast<int64_t>(prompts[i].size()) + options.max_new_tokens >
        config.max_position_embeddings) {
      return absl::InvalidArgumentError(absl::StrCat(
          "prompt ", i, ": ", prompts[i].size(), " tokens + max_new_tokens ", options.max_new_tokens,
          " exceed max_position_embeddings ", config.max_position_embeddings));
    }
  }
  std::vector<Generation> out(b);
  if (b == 0 || options.max_new_tokens == 0) {
    for (auto& g : out) g.finish_reason = "length";
    return out;
  }
  std::vector<Sampler> samplers;
  samplers.reserve(b);
  for (int64_t i = 0; i < b; ++i) samplers.emplace_back(options.sampling, options.seed + i);

  at::NoGradGuard no_grad;
  std::vector<int64_t> active(b);  // prompt indices still generating
  for (int64_t i = 0; i < b; ++i) active[i] = i;
  std::vector<std::vector<int32_t>> sequences = prompts;  // prompt + completion so far

  std::unique_ptr<KvCache> cache;
  std::vector<int> slot_of(b, -1);
  at::Tensor logits;  // [active, V]
  if (options.use_cache) {
    size_t longest = 0;
    for (const auto& p : prompts) longest = std::max(longest, p.size());
    KvCache::Options copts;
    copts.max_seq_len = static_cast<int>(longest) + options.max_new_tokens;
    copts.max_slots = static_cast<int>(b);
    copts.dtype = model.model->embed_tokens->weight.scalar_type();
    copts.device = model.device();
    const int64_t per_slot = static_cast<int64_t>(copts.max_seq_len) * config.num_hidden_layers *
                             config.kv_cache_row_dim() *
                             static_cast<int64_t>(c10::elementSize(copts.dtype));
    copts.budget_bytes = options.cache_budget_bytes > 0 ? options.cache_budget_bytes : per_slot * b;
    auto created = KvCache::create(config, copts);
    if (!created.ok()) return created.status();
    cache = std::make_unique<KvCache>(std::move(*created));
    if (cache->capacity() < b) {
      return absl::ResourceExhaustedError(absl::StrCat("kv cache holds ", cache->capacity(),
                                                       " sequences, batch has ", b));
    }
    std::vector<int> slots(b);
    for (int64_t i = 0; i < b; ++i) slots[i] = slot_of[i] = *cache->alloc();
    auto [ids, mask] = pad_batch(prompts);
    logits = model.prefill(*cache, ids, mask, slots);
  }

  for (int step = 0; !active.empty(); ++step) {
    if (!options.use_cache) {
      std::vector<std::vector<int32_t>> rows;
      for (int64_t i : active) rows.push_back(sequences[i]);
      auto [ids, mask] = pad_batch(rows);
      logits = model.last_logits(ids, mask);
    }
    std::vector<Sampler*> row_samplers;
    for (int64_t i : active) row_samplers.push_back(&samplers[i]);
    const std::vector<SampledToken> picked = sample_batch(logits, row_samplers);

    std::vector<int64_t> still_active;
    std::vector<int64_t> next_tokens;
    std::vector<int> next_slots;
    for (size_t k = 0; k < active.size(); ++k) {
      const int64_t i = active[k];
      const int32_t token = static_cast<int32_t>(picked[k].token);
      out[i].tokens.push_back(token);
      out[i].logprobs.push_back(picked[k].logprob);
      sequences[i].push_back(token);
      const bool stop = std::find(options.stop_ids.begin(), options.stop_ids.end(), token) !=
                        options.stop_ids.end();
      if (stop || static_cast<int>(out[i].tokens.size()) >= options.max_new_tokens) {
        out[i].finish_reason = stop ? "stop" : "length";
        if (cache) cache->free(slot_of[i]);
        continue;
      }
      still_active.push_back(i);
      next_tokens.push_back(token);
      if (cache) next_slots.push_back(slot_of[i]);
    }
    active = std::move(still_active);
    if (cache && !active.empty()) {
      logits = model.decode_step(*cache, at::tensor(next_tokens, at::kLong), next_slots);
    }
  }
  return out;
}

}  // namespace forge::policy
