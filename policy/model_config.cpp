#include "policy/model_config.h"

#include <algorithm>
#include <fstream>

#include "absl/strings/str_cat.h"

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
  if (!type.empty()) rs.type = type;
  for (auto [key, field] : {std::pair<const char*, double*>{"factor", &rs.factor},
                            {"beta_fast", &rs.beta_fast},
                            {"beta_slow", &rs.beta_slow},
                            {"mscale", &rs.mscale},
                            {"mscale_all_dim", &rs.mscale_all_dim}}) {
    if (auto st = read_key(r, key, *field); !st.ok()) return st;
  }
  if (auto st = read_key(r, "original_max_position_embeddings",
                         rs.original_max_position_embeddings); !st.ok()) {
    return st;
  }
  out = rs;
  return absl::OkStatus();
}

// The Hugging Face keys Forge reads, bound to their fields.
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
       {"kv_lora_rank", &c.kv_lora_rank},
       {"qk_nope_head_dim", &c.qk_nope_head_dim},
       {"qk_rope_head_dim", &c.qk_rope_head_dim},
       {"v_head_dim", &c.v_head_dim},
       {"first_k_dense_replace", &c.first_k_dense_replace},
       {"moe_layer_freq", &c.moe_layer_freq},
       {"n_routed_experts", &c.n_routed_experts},
       {"num_experts_per_tok", &c.num_experts_per_tok},
       {"n_shared_experts", &c.n_shared_experts},
       {"n_group", &c.n_group},
       {"topk_group", &c.topk_group},
       {"max_position_embeddings", &c.max_position_embeddings},
       {"bos_token_id", &c.bos_token_id},
       {"eos_token_id", &c.eos_token_id}},
      {{"routed_scaling_factor", &c.routed_scaling_factor},
       {"aux_loss_alpha", &c.aux_loss_alpha},
       {"rope_theta", &c.rope_theta},
       {"rms_norm_eps", &c.rms_norm_eps},
       {"initializer_range", &c.initializer_range}},
      {{"norm_topk_prob", &c.norm_topk_prob},
       {"seq_aux", &c.seq_aux},
       {"tie_word_embeddings", &c.tie_word_embeddings},
       {"attention_bias", &c.attention_bias}},
      {{"scoring_func", &c.scoring_func},
       {"topk_method", &c.topk_method},
       {"hidden_act", &c.hidden_act}},
  };
}

absl::Status read_all(const json& j, ModelConfig& c) {
  if (!j.is_object()) return absl::InvalidArgumentError("model config must be a JSON object");
  Fields f = fields_of(c);
  for (auto& [k, p] : f.ints) if (auto st = read_key(j, k, *p); !st.ok()) return st;
  for (auto& [k, p] : f.doubles) if (auto st = read_key(j, k, *p); !st.ok()) return st;
  for (auto& [k, p] : f.bools) if (auto st = read_key(j, k, *p); !st.ok()) return st;
  for (auto& [k, p] : f.strings) if (auto st = read_key(j, k, *p); !st.ok()) return st;
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
  return absl::OkStatus();
}

absl::Status positive(const char* key, double value) {
  if (value > 0) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("model config key '", key, "' must be > 0 (got ", value, ")"));
}

}  // namespace

const std::vector<std::string>& ModelConfig::known_keys() {
  static const std::vector<std::string> keys = [] {
    ModelConfig c;
    Fields f = fields_of(c);
    std::vector<std::string> k;
    for (auto& p : f.ints) k.push_back(p.first);
    for (auto& p : f.doubles) k.push_back(p.first);
    for (auto& p : f.bools) k.push_back(p.first);
    for (auto& p : f.strings) k.push_back(p.first);
    k.push_back("q_lora_rank");
    k.push_back("rope_scaling");
    return k;
  }();
  return keys;
}

absl::StatusOr<ModelConfig> ModelConfig::from_json(const json& j) {
  ModelConfig c;
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
                            {"kv_lora_rank", kv_lora_rank},
                            {"qk_nope_head_dim", qk_nope_head_dim},
                            {"qk_rope_head_dim", qk_rope_head_dim},
                            {"v_head_dim", v_head_dim},
                            {"rope_theta", rope_theta},
                            {"rms_norm_eps", rms_norm_eps},
                            {"max_position_embeddings", max_position_embeddings}}) {
    if (auto st = positive(key, value); !st.ok()) return st;
  }
  auto bad = [](const char* key, const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("model config key '", key, "' ", why));
  };
  if (qk_rope_head_dim % 2 != 0) return bad("qk_rope_head_dim", "must be even (RoPE rotates pairs)");
  if (q_lora_rank && *q_lora_rank <= 0) return bad("q_lora_rank", "must be > 0 or null");
  if (first_k_dense_replace < 0 || first_k_dense_replace > num_hidden_layers) {
    return bad("first_k_dense_replace", "must be in [0, num_hidden_layers]");
  }
  if (moe_layer_freq <= 0) return bad("moe_layer_freq", "must be > 0");
  const bool any_dense = n_routed_experts == 0 || first_k_dense_replace > 0;
  if (any_dense && intermediate_size <= 0) return bad("intermediate_size", "must be > 0 for dense layers");
  if (n_routed_experts < 0) return bad("n_routed_experts", "must be >= 0");
  if (n_routed_experts > 0) {
    if (moe_intermediate_size <= 0) return bad("moe_intermediate_size", "must be > 0");
    if (num_experts_per_tok <= 0 || num_experts_per_tok > n_routed_experts) {
      return bad("num_experts_per_tok", "must be in [1, n_routed_experts]");
    }
    if (n_shared_experts < 0) return bad("n_shared_experts", "must be >= 0");
    if (n_group <= 0 || n_routed_experts % n_group != 0) {
      return bad("n_group", "must be > 0 and divide n_routed_experts");
    }
    if (topk_group <= 0 || topk_group > n_group) return bad("topk_group", "must be in [1, n_group]");
    if (topk_method != "greedy" && num_experts_per_tok > topk_group * (n_routed_experts / n_group)) {
      return bad("num_experts_per_tok", "exceeds the experts in the topk_group kept groups");
    }
    if (scoring_func != "softmax" && scoring_func != "sigmoid") {
      return bad("scoring_func", "must be \"softmax\" or \"sigmoid\"");
    }
    if (topk_method != "greedy" && topk_method != "group_limited_greedy" &&
        topk_method != "noaux_tc") {
      return bad("topk_method", "must be \"greedy\", \"group_limited_greedy\" or \"noaux_tc\"");
    }
    if (routed_scaling_factor <= 0) return bad("routed_scaling_factor", "must be > 0");
  }
  if (hidden_act != "silu") return bad("hidden_act", "must be \"silu\" (SwiGLU)");
  if (attention_bias) return bad("attention_bias", "must be false (MLA projections have no bias)");
  if (bos_token_id < 0 || bos_token_id >= vocab_size) return bad("bos_token_id", "must be a token id");
  if (eos_token_id < 0 || eos_token_id >= vocab_size) return bad("eos_token_id", "must be a token id");
  if (rope_scaling) {
    if (rope_scaling->type != "yarn") return bad("rope_scaling", "type must be \"yarn\"");
    if (rope_scaling->factor < 1.0) return bad("rope_scaling", "factor must be >= 1");
    if (rope_scaling->original_max_position_embeddings <= 0) {
      return bad("rope_scaling", "original_max_position_embeddings must be > 0");
    }
  }
  return absl::OkStatus();
}

json ModelConfig::to_json() const {
  json j;
  ModelConfig copy = *this;
  Fields f = fields_of(copy);
  for (auto& [k, p] : f.ints) j[k] = *p;
  for (auto& [k, p] : f.doubles) j[k] = *p;
  for (auto& [k, p] : f.bools) j[k] = *p;
  for (auto& [k, p] : f.strings) j[k] = *p;
  j["num_key_value_heads"] = num_attention_heads;  // MLA: every head has its own K and V
  j["q_lora_rank"] = q_lora_rank ? json(*q_lora_rank) : json(nullptr);
  if (rope_scaling) {
    j["rope_scaling"] = {{"type", rope_scaling->type},
                         {"factor", rope_scaling->factor},
                         {"original_max_position_embeddings",
                          rope_scaling->original_max_position_embeddings},
                         {"beta_fast", rope_scaling->beta_fast},
                         {"beta_slow", rope_scaling->beta_slow},
                         {"mscale", rope_scaling->mscale},
                         {"mscale_all_dim", rope_scaling->mscale_all_dim}};
  } else {
    j["rope_scaling"] = nullptr;
  }
  j["architectures"] = {"DeepseekV3ForCausalLM"};
  j["model_type"] = "deepseek_v3";
  j["torch_dtype"] = "float32";
  return j;
}

}  // namespace forge::policy
