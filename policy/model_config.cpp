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

json ModelConfig::to_json() const { return family_config_json(*this); }

}  // namespace forge::policy
