#include "policy/model.h"

#include <algorithm>
#include <set>

#include <ATen/CPUGeneratorImpl.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "policy/rope.h"

namespace forge::policy {

TransformerImpl::TransformerImpl(const ModelConfig& c) {
  embed_tokens = register_module("embed_tokens", Embedding(c.vocab_size, c.hidden_size));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int i = 0; i < c.num_hidden_layers; ++i) {
    layer_list.push_back(DecoderLayer(c, i));
    layers->push_back(layer_list.back());
  }
  norm = register_module("norm", RMSNorm(c.hidden_size, c.rms_norm_eps));
}

ModelImpl::ModelImpl(const ModelConfig& config, uint64_t seed, bool initialise) : config_(config) {
  const absl::Status valid = config.validate();
  TORCH_CHECK(valid.ok(), std::string(valid.message()));
  model = register_module("model", Transformer(config));
  if (!config.tie_word_embeddings) {
    lm_head = register_module("lm_head", Linear(config.hidden_size, config.vocab_size));
  }
  const std::vector<double> inv_freq = rope_inv_freq(config);
  inv_freq_ = at::tensor(inv_freq, at::kDouble).to(at::kFloat);
  cos_sin_scale_ = rope_cos_sin_scale(config);
  if (initialise) init_weights(seed);
}

void ModelImpl::init_weights(uint64_t seed) {
  at::NoGradGuard no_grad;
  at::Generator gen = at::detail::createCPUGenerator(seed);
  for (auto& [name, tensor] : named_tensors()) {
    if (absl::EndsWith(name, "norm.weight")) {
      tensor.fill_(1.0);
    } else if (absl::EndsWith(name, "e_score_correction_bias") || absl::EndsWith(name, ".bias")) {
      tensor.zero_();
    } else {
      at::Tensor values = at::empty(tensor.sizes(), at::kFloat);
      values.normal_(0.0, config_.initializer_range, gen);
      tensor.copy_(values);
    }
  }
}

at::Device ModelImpl::device() const { return model->embed_tokens->weight.device(); }

std::vector<std::pair<std::string, at::Tensor>> ModelImpl::named_tensors() const {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& item : named_parameters(/*recurse=*/true)) out.emplace_back(item.key(), item.value());
  for (const auto& item : named_buffers(/*recurse=*/true)) out.emplace_back(item.key(), item.value());
  return out;
}

at::Tensor ModelImpl::valid_mask(const at::Tensor& input_ids,
                                 const at::Tensor& attention_mask) const {
  if (!attention_mask.defined()) return at::Tensor();
  TORCH_CHECK(attention_mask.sizes() == input_ids.sizes(),
              "attention_mask must have input_ids' shape [B, T]");
  at::Tensor valid = attention_mask.ne(0);  // [B, T] bool
  const int64_t t = valid.size(1);
  if (t > 1) {
    const bool left_gap =
        valid.narrow(1, 1, t - 1).logical_and(valid.narrow(1, 0, t - 1).logical_not()).any()
            .item<bool>();
    TORCH_CHECK(!left_gap, "attention_mask must be right padding (each row 1...1 0...0)");
  }
  return valid.to(input_ids.device());
}

ModelImpl::Hidden ModelImpl::run_padded(const at::Tensor& input_ids, const at::Tensor& valid,
                                        std::vector<at::Tensor>* cache_rows) {
  TORCH_CHECK(input_ids.dim() == 2 && input_ids.scalar_type() == at::kLong,
              "input_ids must be int64 [B, T]");
  const int64_t t = input_ids.size(1);
  TORCH_CHECK(t <= config_.max_position_embeddings, "sequence length ", t,
              " exceeds max_position_embeddings ", config_.max_position_embeddings);
  at::Tensor positions = at::arange(t, at::TensorOptions().dtype(at::kLong).device(device()));  // [T]
  return run_layers(input_ids, positions, valid, cache_rows);
}

ModelImpl::Hidden ModelImpl::run_layers(const at::Tensor& input_ids, const at::Tensor& positions,
                                        const at::Tensor& segments,
                                        std::vector<at::Tensor>* cache_rows) {
  const at::Device dev = device();
  RopeCosSin cs = rope_cos_sin(inv_freq_.to(dev), positions, cos_sin_scale_);  // [(B,) T, dr/2]
  at::Tensor h = model->embed_tokens(input_ids.to(dev));                       // [B, T, D]
  at::Tensor aux = at::zeros({}, at::TensorOptions().dtype(at::kFloat).device(dev));
  for (DecoderLayer& layer : model->layer_list) {
    DecoderLayerOutput out = layer(h, cs.cos, cs.sin, segments);
    h = out.hidden;
    if (out.aux_loss.defined()) aux = aux + out.aux_loss;
    if (cache_rows != nullptr) cache_rows->push_back(out.cache);
  }
  return {h, aux};
}

at::Tensor ModelImpl::head(const at::Tensor& hidden) {
  at::Tensor normed = model->norm(hidden);
  at::Tensor logits = lm_head ? lm_head(normed) : at::linear(normed, model->embed_tokens->weight);
  return logits.to(at::kFloat);
}

ForwardOutput ModelImpl::forward(const at::Tensor& input_ids, const at::Tensor& attention_mask) {
  Hidden h = run_padded(input_ids, valid_mask(input_ids, attention_mask), nullptr);
  return {head(h.hidden), h.aux_loss};  // logits [B, T, V]
}

ForwardOutput ModelImpl::forward_packed(const at::Tensor& input_ids, const at::Tensor& segments) {
  TORCH_CHECK(input_ids.dim() == 2 && input_ids.scalar_type() == at::kLong,
              "input_ids must be int64 [B, T]");
  TORCH_CHECK(segments.sizes() == input_ids.sizes() && segments.scalar_type() == at::kLong,
              "segments must be int64 with input_ids' shape [B, T]");
  const int64_t t = input_ids.size(1);
  const at::Device dev = device();
  const at::Tensor seg = segments.to(dev);                                     // [B, T]
  at::Tensor starts = at::ones_like(seg, seg.options().dtype(at::kBool));      // [B, T]: a document begins
  if (t > 1) {
    const at::Tensor prev = seg.narrow(1, 0, t - 1), next = seg.narrow(1, 1, t - 1);
    const bool bad = seg.lt(0).any().item<bool>() ||
                     prev.eq(0).logical_and(next.ne(0)).any().item<bool>() ||
                     next.ne(0).logical_and(next.lt(prev)).any().item<bool>();
    TORCH_CHECK(!bad, "segments must number each row's documents 1, 2, ... in order, then 0s");
    starts.narrow(1, 1, t - 1).copy_(next.ne(prev));
  }
  // positions[b, i] = i - (index where i's document starts); cummax of the start indices.
  const at::Tensor index = at::arange(t, seg.options()).unsqueeze(0).expand_as(seg);  // [B, T]
  const at::Tensor start_of = std::get<0>(at::cummax(index * starts.to(at::kLong), 1));  // [B, T]
  const at::Tensor positions = (index - start_of).masked_fill(seg.eq(0), 0);   // [B, T]
  TORCH_CHECK(positions.max().item<int64_t>() < config_.max_position_embeddings,
              "a packed document exceeds max_position_embeddings ",
              config_.max_position_embeddings);
  Hidden h = run_layers(input_ids, positions, seg, nullptr);
  return {head(h.hidden), h.aux_loss};  // logits [B, T, V]
}

namespace {

// Flat row b * T + (len_b - 1) of each row's last real token, and the lengths, on the CPU.
std::vector<int64_t> row_lengths(const at::Tensor& input_ids, const at::Tensor& valid) {
  const int64_t b = input_ids.size(0), t = input_ids.size(1);
  if (!valid.defined()) return std::vector<int64_t>(b, t);
  at::Tensor lens = valid.sum(1).to(at::kLong).cpu();
  return std::vector<int64_t>(lens.data_ptr<int64_t>(), lens.data_ptr<int64_t>() + b);
}

}  // namespace

at::Tensor ModelImpl::last_logits(const at::Tensor& input_ids, const at::Tensor& attention_mask) {
  at::Tensor valid = valid_mask(input_ids, attention_mask);
  const std::vector<int64_t> lens = row_lengths(input_ids, valid);
  const int64_t b = input_ids.size(0), t = input_ids.size(1);
  std::vector<int64_t> last(b);
  for (int64_t i = 0; i < b; ++i) {
    TORCH_CHECK(lens[i] >= 1, "last_logits: row ", i, " has no tokens");
    last[i] = i * t + lens[i] - 1;
  }
  Hidden h = run_padded(input_ids, valid, nullptr);
  at::Tensor rows = at::tensor(last, at::kLong).to(device());
  return head(h.hidden.reshape({b * t, -1}).index_select(0, rows));  // [B, V]
}

at::Tensor ModelImpl::prefill(KvCache& cache, const at::Tensor& input_ids,
                              const at::Tensor& attention_mask, const std::vector<int>& slots) {
  at::NoGradGuard no_grad;
  TORCH_CHECK(input_ids.dim() == 2, "prefill: input_ids must be [B, T]");
  const int64_t b = input_ids.size(0), t = input_ids.size(1);
  TORCH_CHECK(static_cast<int64_t>(slots.size()) == b, "prefill: ", slots.size(),
              " slots for a batch of ", b);
  TORCH_CHECK(cache.num_layers() == config_.num_hidden_layers,
              "prefill: the cache was made for another model");
  TORCH_CHECK(std::set<int>(slots.begin(), slots.end()).size() == slots.size(),
              "prefill: slots must be distinct");
  at::Tensor valid = valid_mask(input_ids, attention_mask);
  const std::vector<int64_t> lens = row_lengths(input_ids, valid);
  const int64_t max_len = cache.max_seq_len();
  std::vector<int64_t> src_rows, dst_rows, last(b);
  for (int64_t i = 0; i < b; ++i) {
    TORCH_CHECK(cache.length(slots[i]) == 0, "prefill: slot ", slots[i], " is not empty");
    TORCH_CHECK(lens[i] >= 1 && lens[i] <= max_len, "prefill: row ", i, " has ", lens[i],
                " tokens; a slot holds 1..", max_len);
    for (int64_t p = 0; p < lens[i]; ++p) {
      src_rows.push_back(i * t + p);
      dst_rows.push_back(slots[i] * max_len + p);
    }
    last[i] = i * t + lens[i] - 1;
  }
  std::vector<at::Tensor> rows_of_layer;
  Hidden h = run_padded(input_ids, valid, &rows_of_layer);
  const at::Device dev = device();
  at::Tensor src = at::tensor(src_rows, at::kLong).to(dev);
  at::Tensor dst = at::tensor(dst_rows, at::kLong).to(cache.layer(0).device());
  for (int l = 0; l < cache.num_layers(); ++l) {
    at::Tensor rows = rows_of_layer[l].reshape({b * t, -1}).index_select(0, src);  // [sum len, C]
    cache.layer(l).index_copy_(0, dst, rows.to(cache.layer(l).options()));
  }
  for (int64_t i = 0; i < b; ++i) cache.set_length(slots[i], static_cast<int>(lens[i]));
  at::Tensor rows = at::tensor(last, at::kLong).to(dev);
  return head(h.hidden.reshape({b * t, -1}).index_select(0, rows));  // [B, V]
}

at::Tensor ModelImpl::decode_step(KvCache& cache, const at::Tensor& tokens,
                                  const std::vector<int>& slots) {
  at::NoGradGuard no_grad;
  const int64_t n = static_cast<int64_t>(slots.size());
  TORCH_CHECK(tokens.dim() == 1 && tokens.size(0) == n, "decode_step: tokens must be [B] for ", n,
              " slots");
  TORCH_CHECK(cache.num_layers() == config_.num_hidden_layers,
              "decode_step: the cache was made for another model");
  TORCH_CHECK(std::set<int>(slots.begin(), slots.end()).size() == slots.size(),
              "decode_step: slots must be distinct");
  const int64_t max_len = cache.max_seq_len();
  std::vector<int64_t> pos(n), write(n), base(n);
  int64_t span = 0;
  for (int64_t i = 0; i < n; ++i) {
    pos[i] = cache.length(slots[i]);
    TORCH_CHECK(pos[i] < max_len, "decode_step: slot ", slots[i], " is full (", max_len,
                " tokens)");
    base[i] = slots[i] * max_len;
    write[i] = base[i] + pos[i];
    span = std::max(span, pos[i] + 1);
  }
  const at::Device dev = device();
  const auto long_opts = at::TensorOptions().dtype(at::kLong).device(dev);
  at::Tensor positions = at::tensor(pos, at::kLong).to(dev);                  // [N]
  at::Tensor steps = at::arange(span, long_opts);                              // [L]
  at::Tensor valid = steps.unsqueeze(0).le(positions.unsqueeze(1));            // [N, L]
  at::Tensor cache_dev_base = at::tensor(base, at::kLong).to(cache.layer(0).device());
  at::Tensor gather_rows =
      (cache_dev_base.unsqueeze(1) + steps.to(cache_dev_base.device()).unsqueeze(0))
          .reshape({-1});                                                      // [N * L]
  at::Tensor write_rows = at::tensor(write, at::kLong).to(cache.layer(0).device());  // [N]

  RopeCosSin cs = rope_cos_sin(inv_freq_.to(dev), positions, cos_sin_scale_);  // [N, dr/2]
  at::Tensor h = model->embed_tokens(tokens.to(dev));                          // [N, D]
  for (size_t l = 0; l < model->layer_list.size(); ++l) {
    h = model->layer_list[l]->decode(h, cs.cos, cs.sin, cache.layer(static_cast<int>(l)),
                                     write_rows, gather_rows, valid);
  }
  for (int64_t i = 0; i < n; ++i) cache.set_length(slots[i], static_cast<int>(pos[i] + 1));
  return head(h);  // [N, V]
}

std::vector<ExpertLoad> ModelImpl::expert_load() const {
  std::vector<ExpertLoad> out;
  for (size_t i = 0; i < model->layer_list.size(); ++i) {
    const DecoderLayer& layer = model->layer_list[i];
    if (layer->is_moe()) out.push_back({static_cast<int>(i), layer->moe->last_load().clone()});
  }
  return out;
}

std::vector<at::Tensor> ModelImpl::last_routing() const {
  std::vector<at::Tensor> out;
  for (const DecoderLayer& layer : model->layer_list) {
    if (layer->is_moe()) out.push_back(layer->moe->last_routing());
  }
  return out;
}

void ModelImpl::replay_routing(const std::vector<at::Tensor>& per_moe_layer) {
  std::vector<Moe> moes;
  for (DecoderLayer& layer : model->layer_list) {
    if (layer->is_moe()) moes.push_back(layer->moe);
  }
  TORCH_CHECK(moes.size() == per_moe_layer.size(), "replay_routing: ", per_moe_layer.size(),
              " tensors for ", moes.size(), " MoE layers");
  for (size_t i = 0; i < moes.size(); ++i) moes[i]->replay_routing(per_moe_layer[i]);
}

std::vector<at::Tensor> ModelImpl::pending_expert_loads() const {
  std::vector<at::Tensor> out;
  for (const DecoderLayer& layer : model->layer_list) {
    if (layer->is_moe()) out.push_back(layer->moe->pending_load());
  }
  return out;
}

void ModelImpl::update_routing_bias(double gamma) {
  for (DecoderLayer& layer : model->layer_list) {
    if (layer->is_moe()) layer->moe->update_bias(gamma);
  }
}

absl::StatusOr<Model> create_model(const ModelConfig& config, uint64_t seed, bool initialise,
                                   at::ScalarType dtype) {
  if (absl::Status st = config.validate(); !st.ok()) return st;
  if (dtype == at::kFloat) return Model(config, seed, initialise);
  if (dtype != at::kBFloat16) {
    return absl::InvalidArgumentError(absl::StrCat("model.dtype: parameters are float32 or "
                                                   "bfloat16, not ", c10::toString(dtype)));
  }
  Model model(config, seed, /*initialise=*/false);
  // Fresh `dtype` storage for every parameter, left unset like the fp32 one it replaces (which was
  // never touched, so it never became resident); init_weights or loading fills it.
  at::NoGradGuard no_grad;
  for (at::Tensor& p : model->parameters()) {
    p.set_data(at::empty(p.sizes(), p.options().dtype(dtype)));
  }
  if (initialise) model->init_weights(seed);
  return model;
}

}  // namespace forge::policy
