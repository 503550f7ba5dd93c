#include "policy/family_config.h"

namespace forge::policy {
namespace {

using nlohmann::json;

// The fields every GQA family's class shares (Qwen2Config, LlamaConfig, Qwen3Config, ...).
void gqa_defaults(ModelConfig& c, int vocab, int hidden, int intermediate, int layers, int heads,
                  int kv_heads, int max_positions) {
  c.vocab_size = vocab;
  c.hidden_size = hidden;
  c.intermediate_size = intermediate;
  c.num_hidden_layers = layers;
  c.num_attention_heads = heads;
  c.num_key_value_heads = kv_heads;
  c.max_position_embeddings = max_positions;
  c.rms_norm_eps = 1e-6;
  c.rope_theta = 10000.0;
  c.hidden_act = "silu";
  c.initializer_range = 0.02;
  c.tie_word_embeddings = false;
}

json rope_scaling_json(const RopeScaling& rs) {
  if (rs.type == "llama3") {
    return {{"rope_type", "llama3"},
            {"factor", rs.factor},
            {"low_freq_factor", rs.low_freq_factor},
            {"high_freq_factor", rs.high_freq_factor},
            {"original_max_position_embeddings", rs.original_max_position_embeddings}};
  }
  return {{"type", rs.type},
          {"factor", rs.factor},
          {"original_max_position_embeddings", rs.original_max_position_embeddings},
          {"beta_fast", rs.beta_fast},
          {"beta_slow", rs.beta_slow},
          {"mscale", rs.mscale},
          {"mscale_all_dim", rs.mscale_all_dim}};
}

// Keys of every family's config.json.
json common_json(const ModelConfig& c) {
  const FamilyTraits& t = c.traits();
  return {{"architectures", {t.architecture}},
          {"model_type", t.model_type},
          {"vocab_size", c.vocab_size},
          {"hidden_size", c.hidden_size},
          {"intermediate_size", c.intermediate_size},
          {"num_hidden_layers", c.num_hidden_layers},
          {"num_attention_heads", c.num_attention_heads},
          {"hidden_act", c.hidden_act},
          {"max_position_embeddings", c.max_position_embeddings},
          {"initializer_range", c.initializer_range},
          {"rms_norm_eps", c.rms_norm_eps},
          {"rope_theta", c.rope_theta},
          {"rope_scaling", c.rope_scaling ? rope_scaling_json(*c.rope_scaling) : json(nullptr)},
          {"tie_word_embeddings", c.tie_word_embeddings},
          {"bos_token_id", c.bos_token_id},
          {"eos_token_id", c.eos_token_id},
          {"torch_dtype", c.torch_dtype}};
}

// DeepseekV2Config / DeepseekV3Config: MLA and DeepSeekMoE keys.
json deepseek_json(const ModelConfig& c) {
  json j = common_json(c);
  for (auto [key, value] : {std::pair<const char*, int>{"moe_intermediate_size", c.moe_intermediate_size},
                            {"kv_lora_rank", c.kv_lora_rank},
                            {"qk_nope_head_dim", c.qk_nope_head_dim},
                            {"qk_rope_head_dim", c.qk_rope_head_dim},
                            {"v_head_dim", c.v_head_dim},
                            {"first_k_dense_replace", c.first_k_dense_replace},
                            {"moe_layer_freq", c.moe_layer_freq},
                            {"n_routed_experts", c.n_routed_experts},
                            {"num_experts_per_tok", c.num_experts_per_tok},
                            {"n_shared_experts", c.n_shared_experts},
                            {"n_group", c.n_group},
                            {"topk_group", c.topk_group}}) {
    j[key] = value;
  }
  j["num_key_value_heads"] = c.num_attention_heads;  // MLA: every head has its own K and V
  j["q_lora_rank"] = c.q_lora_rank ? json(*c.q_lora_rank) : json(nullptr);
  j["scoring_func"] = c.scoring_func;
  j["topk_method"] = c.topk_method;
  j["norm_topk_prob"] = c.norm_topk_prob;
  j["routed_scaling_factor"] = c.routed_scaling_factor;
  j["aux_loss_alpha"] = c.aux_loss_alpha;
  j["seq_aux"] = c.seq_aux;
  j["attention_bias"] = c.attention_bias;
  // Saved weights never include multi-token-prediction layers (the loader skips them).
  if (c.family == Family::kDeepseekV3) j["num_nextn_predict_layers"] = 0;
  return j;
}

// Qwen2Config, LlamaConfig, Qwen3Config, Qwen3MoeConfig.
json gqa_json(const ModelConfig& c) {
  json j = common_json(c);
  j["num_key_value_heads"] = c.num_key_value_heads;
  j["head_dim"] = c.gqa_head_dim();
  if (c.family != Family::kLlama) j["use_sliding_window"] = false;
  if (c.traits().attention_bias_key) j["attention_bias"] = c.attention_bias;
  if (c.family == Family::kLlama) j["mlp_bias"] = c.mlp_bias;
  if (c.family == Family::kQwen3Moe) {
    j["num_experts"] = c.n_routed_experts;
    j["num_experts_per_tok"] = c.num_experts_per_tok;
    j["moe_intermediate_size"] = c.moe_intermediate_size;
    j["norm_topk_prob"] = c.norm_topk_prob;
    j["decoder_sparse_step"] = c.decoder_sparse_step;
    j["mlp_only_layers"] = c.mlp_only_layers;
  }
  return j;
}

}  // namespace

ModelConfig family_defaults(Family family) {
  ModelConfig c;
  c.family = family;
  switch (family) {
    case Family::kDeepseekV3:
      break;
    case Family::kDeepseekV2:
      c.vocab_size = 102400;
      c.hidden_size = 4096;
      c.intermediate_size = 11008;
      c.moe_intermediate_size = 1407;
      c.num_hidden_layers = 30;
      c.num_attention_heads = 32;
      c.num_key_value_heads = 32;
      c.q_lora_rank = 1536;
      c.kv_lora_rank = 512;
      c.qk_nope_head_dim = 128;
      c.qk_rope_head_dim = 64;
      c.v_head_dim = 128;
      c.scoring_func = "softmax";
      c.topk_method = "greedy";
      c.aux_loss_alpha = 0.001;
      c.bos_token_id = 100000;
      c.eos_token_id = 100001;
      break;
    case Family::kQwen2:
      gqa_defaults(c, 151936, 4096, 22016, 32, 32, 32, 32768);
      break;
    case Family::kLlama:
      gqa_defaults(c, 32000, 4096, 11008, 32, 32, 0, 2048);
      c.bos_token_id = 1;
      c.eos_token_id = 2;
      break;
    case Family::kQwen3:
      gqa_defaults(c, 151936, 4096, 22016, 32, 32, 32, 32768);
      c.head_dim = 128;
      break;
    case Family::kQwen3Moe:
      gqa_defaults(c, 151936, 2048, 6144, 24, 32, 4, 32768);
      c.moe_intermediate_size = 768;
      c.n_routed_experts = 128;
      c.num_experts_per_tok = 8;
      c.scoring_func = "softmax";
      c.topk_method = "greedy";
      break;
  }
  return c;
}

json family_config_json(const ModelConfig& c) {
  return c.mla() ? deepseek_json(c) : gqa_json(c);
}

}  // namespace forge::policy
