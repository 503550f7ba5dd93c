// What each family's config.json looks like: the defaults of its Hugging Face configuration class
// (what a key the file leaves out means) and the keys it writes, so a saved checkpoint's
// config.json loads in transformers as that family. No torch.
#pragma once

#include <nlohmann/json.hpp>

#include "policy/model_config.h"
#include "policy/model_family.h"

namespace forge::policy {

// A ModelConfig holding `family`'s configuration-class defaults: DeepseekV2Config (DeepSeek's
// modeling code), Qwen2Config, LlamaConfig, Qwen3Config, Qwen3MoeConfig; deepseek_v3 keeps Forge's
// own defaults (ModelConfig's), which the tiny configs rely on. num_key_value_heads is 0 where the
// class defaults it to the number of heads.
ModelConfig family_defaults(Family family);

// config.json for `c` with the family's model_type, architectures and key names (qwen3_moe's
// num_experts, Llama's mlp_bias, ...) and only the keys that family's class reads.
nlohmann::json family_config_json(const ModelConfig& c);

}  // namespace forge::policy
