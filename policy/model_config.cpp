#include "policy/model_config.h"

#include <algorithm>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "policy/family_config.h"

namespace forge::policy {
namespace {

using nlohmann::json;

// Reads j[key] into `out` when present; a value of the wrong type is an error naming the key.
template <typename T>
absl::Status read_key(const json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return absl::OkStatus();
  try {
    if constexpr (std::is_same_v<T, int>) {
      if (!it->is_number_integer()) throw std::invalid_argument("integer");
    } else if constexpr (std::is_same_v<T, double>) {
      if (!it->is_number()) throw std::invalid_argument("number");
    } else if constexpr (std::is_same_v<T, bool>) {
      if (!it->is_boolean()) throw std::invalid_argument("boolean");
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!it->is_string()) throw std::invalid_argument("string");
    }
    out = it->get<T>();
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("model config key '", key, "': expected ", e.what(), ", got ", it->dump()));
  }
  return absl::OkStatus();
}

// A token id that config.json may also give as a list (Llama 3 Instruct's eos_token_id): the first.
absl::Status read_token_id(const json& j, const char* key, int& out) {
  auto it = j.find(key);
  if (it != j.end() && it->is_array()) {
    if (it->empty() || !(*it)[0].is_number_integer()) {
      return absl::InvalidArgumentError(
          absl::StrCat("model config key '", key, "': expected an id or a list of ids"));
    }
    out = (*it)[0].get<int>();
    return absl::OkStatus();
  }
  return read_key(j, key, out);
}

absl::Status read_rope_scaling(const json& j, std::optional<RopeScaling>& out) {
  auto it = j.find("rope_scaling");
  if (it == j.end() || it->is_null()) {
    out.reset();
    return absl::OkStatus();
  }
  if (!it->is_object()) {
    return absl::InvalidArgumentError("model config key 'rope_scaling': expected an object or null");
  }
  RopeScaling rs;
  const json& r = *it;
  std::string type;
  if (auto st = read_key(r, "type", type); !st.ok()) return st;
  if (auto st = read_key(r, "rope_type", type); !st.ok()) return st;
  if (type == "default") {
    out.reset();
    return absl::OkStatus();
  }
  if (!type.empty()) rs.type = type;
  for (auto [key, field] : {std::pair<const char*, double*>{"factor", &rs.factor},
                            {"beta_fast", &rs.beta_fast},
                            {"beta_slow", &rs.beta_slow},
                            {"mscale", &rs.mscale},
                            {"mscale_all_dim", &rs.mscale_all_dim},
                            {"low_freq_factor", &rs.low_freq_factor},
                            {"high_freq_factor", &rs.high_freq_factor}}) {
    if (auto st = read_key(r, key, *field); !st.ok()) return st;
  }
  if (auto st = read_key(r, "original_max_position_embeddings",
                         rs.original_max_position_embeddings); !st.ok()) {
    return st;
  }
  out = rs;
  return absl::OkStatus();
}

absl::Status read_quantization(const json& j, std::optional<Fp8Quantization>& out) {
  auto it = j.find("quantization_config");
  if (it == j.end() || it->is_null()) {
    out.reset();
    return absl::OkStatus();
  }
  auto bad = [](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("model config key 'quantization_config': ", why));
  };
  if (!it->is_object()) return bad("expected an object or null");
  std::string method, fmt = "e4m3";
  if (auto st = read_key(*it, "quant_method", method); !st.ok()) return st;
  if (auto st = read_key(*it, "fmt", fmt); !st.ok()) return st;
  if (method != "fp8" || fmt != "e4m3") {
    return bad(absl::StrCat("only DeepSeek-V3's block-scaled FP8 (quant_method \"fp8\", fmt \"e4m3\") "
                            "is supported, got quant_method \"", method, "\" fmt \"", fmt, "\""));
  }
  Fp8Quantization q;
  auto block = it->find("weight_block_size");
  if (block != it->end() && !block->is_null()) {
    if (!block->is_array() || block->size() != 2 || !(*block)[0].is_number_integer() ||
        !(*block)[1].is_number_integer() || (*block)[0].get<int>() <= 0 ||
        (*block)[1].get<int>() <= 0) {
      return bad("weight_block_size must be two positive integers");
    }
    q.block_rows = (*block)[0].get<int>();
    q.block_cols = (*block)[1].get<int>();
  }
  out = q;
  return absl::OkStatus();
}

absl::Status read_int_list(const json& j, const char* key, std::vector<int>& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_array()) {
    return absl::InvalidArgumentError(absl::StrCat("model config key '", key, "': expected a list"));
  }
  std::vector<int> values;
  for (const json& v : *it) {
    if (!v.is_number_integer()) {
      return absl::InvalidArgumentError(
          absl::StrCat("model config key '", key, "': expected integers, got ", v.dump()));
    }
    values.push_back(v.get<int>());
  }
  out = std::move(values);
  return absl::OkStatus();
}

// The Hugging Face keys Forge reads, bound to their fields. "num_experts" is qwen3_moe's name for
// n_routed_experts.
struct Fields {
  std::vector<std::pair<const char*, int*>> ints;
  std::vector<std::pair<const char*, double*>> doubles;
  std::vector<std::pair<const char*, bool*>> bools;
  std::vector<std::pair<const char*, std::string*>> strings;
};

Fields fields_of(ModelConfig& c) {
  return Fields{
      {{"vocab_size", &c.vocab_size},
       {"hidden_size", &c.hidden_size},
       {"intermediate_size", &c.intermediate_size},
       {"moe_intermediate_size", &c.moe_intermediate_size},
       {"num_hidden_layers", &c.num_hidden_layers},
       {"num_attention_heads", &c.num_attention_heads},
       {"num_key_value_heads", &c.num_key_value_heads},
       {"head_dim", &c.head_dim},
       {"kv_lora_rank", &c.kv_lora_rank},
       {"qk_nope_head_dim", &c.qk_nope_head_dim},
       {"qk_rope_head_dim", &c.qk_rope_head_dim},
       {"v_head_dim", &c.v_head_dim},
       {"first_k_dense_replace", &c.first_k_dense_replace},
       {"moe_layer_freq", &c.moe_layer_freq},
       {"n_routed_experts", &c.n_routed_experts},
       {"num_experts", &c.n_routed_experts},
       {"num_experts_per_tok", &c.num_experts_per_tok},
       {"n_shared_experts", &c.n_shared_experts},
       {"n_group", &c.n_group},
       {"topk_group", &c.topk_group},
       {"decoder_sparse_step", &c.decoder_sparse_step},
       {"num_nextn_predict_layers", &c.num_nextn_predict_layers},
       {"max_position_embeddings", &c.max_position_embeddings}},
      {{"routed_scaling_factor", &c.routed_scaling_factor},
       {"aux_loss_alpha", &c.aux_loss_alpha},
       {"rope_theta", &c.rope_theta},
       {"rms_norm_eps", &c.rms_norm_eps},
       {"initializer_range", &c.initializer_range}},
      {{"norm_topk_prob", &c.norm_topk_prob},
       {"seq_aux", &c.seq_aux},
       {"tie_word_embeddings", &c.tie_word_embeddings},
       {"attention_bias", &c.attention_bias},
       {"mlp_bias", &c.mlp_bias},
       {"use_sliding_window", &c.use_sliding_window}},
      {{"scoring_func", &c.scoring_func},
       {"topk_method", &c.topk_method},
       {"hidden_act", &c.hidden_act},
       {"torch_dtype", &c.torch_dtype}},
  };
}

// Keys read by dedicated code below rather than through Fields.
constexpr const char* kSpecialKeys[] = {"model_type",   "q_lora_rank",        "rope_scaling",
                                        "bos_token_id", "eos_token_id",       "mlp_only_layers",
                                        "quantization_config"};

absl::Status read_all(const json& j, ModelConfig& c) {
  if (!j.is_object()) return absl::InvalidArgumentError("model config must be a JSON object");
  Fields f = fields_of(c);
  for (auto& [k, p] : f.ints) if (auto st = read_key(j, k, *p); !st.ok()) return st;
  for (auto& [k, p] : f.doubles) if (auto st = read_key(j, k, *p); !st.ok()) return st;
  for (auto& [k, p] : f.bools) if (auto st = read_key(j, k, *p); !st.ok()) return st;
  for (auto& [k, p] : f.strings) if (auto st = read_key(j, k, *p); !st.ok()) return st;
  if (auto st = read_token_id(j, "bos_token_id", c.bos_token_id); !st.ok()) return st;
  if (auto st = read_token_id(j, "eos_token_id", c.eos_token_id); !st.ok()) return st;
  if (auto st = read_int_list(j, "mlp_only_layers", c.mlp_only_layers); !st.ok()) return st;
  if (j.contains("q_lora_rank")) {
    if (j["q_lora_rank"].is_null()) {
      c.q_lora_rank.reset();
    } else {
      int rank = 0;
      if (auto st = read_key(j, "q_lora_rank", rank); !st.ok()) return st;
      c.q_lora_rank = rank;
    }
  }
  if (j.contains("rope_scaling")) {
    if (auto st = read_rope_scaling(j, c.rope_scaling); !st.ok()) return st;
  }
  if (j.contains("quantization_config")) {
    if (auto st = read_quantization(j, c.quantization); !st.ok()) return st;
  }
  return absl::OkStatus();
}

absl::Status positive(const char* key, double value) {
  if (value > 0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("model config key '", key, "' must be > 0 (got ", value, ")"));
}

absl::Status bad_key(const char* key, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("model config key '", key, "' ", why));
}

// Multi-head Latent Attention's dimensions.
absl::Status validate_mla(const ModelConfig& c) {
  for (auto [key, value] : {std::pair<const char*, double>{"kv_lora_rank", c.kv_lora_rank},
                            {"qk_nope_head_dim", c.qk_nope_head_dim},
                            {"qk_rope_head_dim", c.qk_rope_head_dim},
                            {"v_head_dim", c.v_head_dim}}) {
    if (auto st = positive(key, value); !st.ok()) return st;
  }
  if (c.qk_rope_head_dim % 2 != 0) {
    return bad_key("qk_rope_head_dim", "must be even (RoPE rotates pairs)");
  }
  if (c.q_lora_rank && *c.q_lora_rank <= 0) return bad_key("q_lora_rank", "must be > 0 or null");
  if (c.attention_bias) return bad_key("attention_bias", "must be false (MLA projections have no bias)");
  if (c.rope_scaling && c.rope_scaling->type != "yarn") {
    return bad_key("rope_scaling", "type must be \"yarn\" for MLA");
  }
  return absl::OkStatus();
}

// Grouped-query attention's dimensions.
absl::Status validate_gqa(const ModelConfig& c) {
  if (auto st = positive("num_key_value_heads", c.num_key_value_heads); !st.ok()) return st;
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    return bad_key("num_key_value_heads", "must divide num_attention_heads");
  }
  if (c.head_dim < 0) return bad_key("head_dim", "must be > 0 (or absent)");
  if (c.head_dim == 0 && c.hidden_size % c.num_attention_heads != 0) {
    return bad_key("head_dim", "is absent and num_attention_heads does not divide hidden_size");
  }
  if (c.gqa_head_dim() % 2 != 0) return bad_key("head_dim", "must be even (RoPE rotates pairs)");
  if (c.attention_bias && !c.traits().attention_bias_key) {
    return bad_key("attention_bias", "is not a key of this family (Qwen2's q/k/v always have biases)");
  }
  if (c.use_sliding_window) {
    return bad_key("use_sliding_window", "must be false (sliding-window attention is not supported)");
  }
  if (c.rope_scaling && c.rope_scaling->type != "yarn" && c.rope_scaling->type != "llama3") {
    return bad_key("rope_scaling", "type must be \"llama3\" or \"yarn\"");
  }
  if (c.rope_scaling && c.rope_scaling->type == "llama3" &&
      c.rope_scaling->high_freq_factor <= c.rope_scaling->low_freq_factor) {
    return bad_key("rope_scaling", "high_freq_factor must exceed low_freq_factor");
  }
  return absl::OkStatus();
}

absl::Status validate_moe(const ModelConfig& c) {
  if (c.moe_intermediate_size <= 0) return bad_key("moe_intermediate_size", "must be > 0");
  if (c.num_experts_per_tok <= 0 || c.num_experts_per_tok > c.n_routed_experts) {
    return bad_key("num_experts_per_tok", "must be in [1, n_routed_experts]");
  }
  if (c.n_shared_experts < 0) return bad_key("n_shared_experts", "must be >= 0");
  if (c.n_group <= 0 || c.n_routed_experts % c.n_group != 0) {
    return bad_key("n_group", "must be > 0 and divide n_routed_experts");
  }
  if (c.topk_group <= 0 || c.topk_group > c.n_group) return bad_key("topk_group", "must be in [1, n_group]");
  if (c.topk_method != "greedy" &&
      c.num_experts_per_tok > c.topk_group * (c.n_routed_experts / c.n_group)) {
    return bad_key("num_experts_per_tok", "exceeds the experts in the topk_group kept groups");
  }
  if (c.scoring_func != "softmax" && c.scoring_func != "sigmoid") {
    return bad_key("scoring_func", "must be \"softmax\" or \"sigmoid\"");
  }
  if (c.topk_method != "greedy" && c.topk_method != "group_limited_greedy" &&
      c.topk_method != "noaux_tc") {
    return bad_key("topk_method", "must be \"greedy\", \"group_limited_greedy\" or \"noaux_tc\"");
  }
  if (c.routed_scaling_factor <= 0) return bad_key("routed_scaling_factor", "must be > 0");
  if (c.family == Family::kQwen3Moe) {
    if (c.decoder_sparse_step <= 0) return bad_key("decoder_sparse_step", "must be > 0");
    if (c.scoring_func != "softmax" || c.topk_method != "greedy" || c.n_shared_experts != 0) {
      return bad_key("scoring_func",
                     "qwen3_moe routes by softmax top-k (greedy) without shared experts");
    }
  }
  if (c.family == Family::kDeepseekV2 && c.topk_method == "noaux_tc") {
    return bad_key("topk_method", "noaux_tc is DeepSeek-V3's (model_type deepseek_v3)");
  }
  return absl::OkStatus();
}

}  // namespace

bool ModelConfig::is_moe_layer(int layer) const {
  if (n_routed_experts <= 0) return false;
  if (family == Family::kQwen3Moe) {
    return std::find(mlp_only_layers.begin(), mlp_only_layers.end(), layer) ==
               mlp_only_layers.end() &&
           (layer + 1) % decoder_sparse_step == 0;
  }
  return layer >= first_k_dense_replace && layer % moe_layer_freq == 0;
}

const std::vector<std::string>& ModelConfig::known_keys() {
  static const std::vector<std::string> keys = [] {
    ModelConfig c;
    Fields f = fields_of(c);
    std::vector<std::string> k;
    for (auto& p : f.ints) k.push_back(p.first);
    for (auto& p : f.doubles) k.push_back(p.first);
    for (auto& p : f.bools) k.push_back(p.first);
    for (auto& p : f.strings) k.push_back(p.first);
    for (const char* special : kSpecialKeys) k.push_back(special);
    return k;
  }();
  return keys;
}

absl::StatusOr<ModelConfig> ModelConfig::from_json(const json& j) {
  if (!j.is_object()) return absl::InvalidArgumentError("model config must be a JSON object");
  std::string model_type = traits_of(Family::kDeepseekV3).model_type;
  if (auto st = read_key(j, "model_type", model_type); !st.ok()) return st;
  auto family = family_from_model_type(model_type);
  if (!family.ok()) return family.status();
  ModelConfig c = family_defaults(*family);
  if (auto st = read_all(j, c); !st.ok()) return st;
  const auto& known = known_keys();
  for (const auto& item : j.items()) {
    if (std::find(known.begin(), known.end(), item.key()) == known.end()) {
      c.ignored_keys.push_back(item.key());
    }
  }
  if (c.num_key_value_heads == 0) c.num_key_value_heads = c.num_attention_heads;
  return c;
}

absl::StatusOr<ModelConfig> ModelConfig::from_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open model config '", path, "'"));
  json j;
  try {
    in >> j;
  } catch (const json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": invalid JSON: ", e.what()));
  }
  auto config = from_json(j);
  if (!config.ok()) {
    return absl::Status(config.status().code(), absl::StrCat(path, ": ", config.status().message()));
  }
  return config;
}

absl::Status ModelConfig::apply_overrides(const json& overrides) {
  const auto& known = known_keys();
  for (const auto& item : overrides.items()) {
    if (item.key() == "model_type") {
      return absl::InvalidArgumentError(
          "model config key 'model_type' cannot be overridden (the family comes from the file)");
    }
    if (std::find(known.begin(), known.end(), item.key()) == known.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown model config key '", item.key(), "'"));
    }
  }
  return read_all(overrides, *this);
}

absl::Status ModelConfig::validate() const {
  for (auto [key, value] : {std::pair<const char*, double>{"vocab_size", vocab_size},
                            {"hidden_size", hidden_size},
                            {"num_hidden_layers", num_hidden_layers},
                            {"num_attention_heads", num_attention_heads},
                            {"rope_theta", rope_theta},
                            {"rms_norm_eps", rms_norm_eps},
                            {"max_position_embeddings", max_position_embeddings}}) {
    if (auto st = positive(key, value); !st.ok()) return st;
  }
  if (auto st = mla() ? validate_mla(*this) : validate_gqa(*this); !st.ok()) return st;
  if (first_k_dense_replace < 0 || first_k_dense_replace > num_hidden_layers) {
    return bad_key("first_k_dense_replace", "must be in [0, num_hidden_layers]");
  }
  if (moe_layer_freq <= 0) return bad_key("moe_layer_freq", "must be > 0");
  if (n_routed_experts < 0) return bad_key("n_routed_experts", "must be >= 0");
  bool any_dense = false;
  for (int layer = 0; layer < num_hidden_layers; ++layer) any_dense |= !is_moe_layer(layer);
  if (any_dense && intermediate_size <= 0) {
    return bad_key("intermediate_size", "must be > 0 for dense layers");
  }
  if (n_routed_experts > 0) {
    if (auto st = validate_moe(*this); !st.ok()) return st;
  }
  if (num_nextn_predict_layers < 0) return bad_key("num_nextn_predict_layers", "must be >= 0");
  if (hidden_act != "silu") return bad_key("hidden_act", "must be \"silu\" (SwiGLU)");
  if (mlp_bias && family != Family::kLlama) return bad_key("mlp_bias", "is Llama's key");
  if (bos_token_id < 0 || bos_token_id >= vocab_size) return bad_key("bos_token_id", "must be a token id");
  if (eos_token_id < 0 || eos_token_id >= vocab_size) return bad_key("eos_token_id", "must be a token id");
  if (rope_scaling) {
    if (rope_scaling->factor < 1.0) return bad_key("rope_scaling", "factor must be >= 1");
    if (rope_scaling->original_max_position_embeddings <= 0) {
      return bad_key("rope_scaling", "original_max_position_embeddings must be > 0");
    }
  }
  return absl::OkStatus();
}

json ModelConfig::to_json() const { return family_config_json(*this); }

}  // namespace forge::policy
