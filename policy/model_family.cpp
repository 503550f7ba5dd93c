#include "policy/model_family.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace forge::policy {
namespace {

// One row per family, in Family's order.
const FamilyTraits kTraits[] = {
    {Family::kDeepseekV2, "deepseek_v2", "DeepseekV2ForCausalLM", AttentionKind::kMla,
     RouterKind::kDeepseekV2, false, false, false},
    {Family::kDeepseekV3, "deepseek_v3", "DeepseekV3ForCausalLM", AttentionKind::kMla,
     RouterKind::kDeepseekV3, false, false, false},
    {Family::kQwen2, "qwen2", "Qwen2ForCausalLM", AttentionKind::kGqa, RouterKind::kQwen3Moe,
     true, false, false},
    {Family::kLlama, "llama", "LlamaForCausalLM", AttentionKind::kGqa, RouterKind::kQwen3Moe,
     false, false, true},
    {Family::kQwen3, "qwen3", "Qwen3ForCausalLM", AttentionKind::kGqa, RouterKind::kQwen3Moe,
     false, true, true},
    {Family::kQwen3Moe, "qwen3_moe", "Qwen3MoeForCausalLM", AttentionKind::kGqa,
     RouterKind::kQwen3Moe, false, true, true},
};

}  // namespace

const FamilyTraits& traits_of(Family family) { return kTraits[static_cast<int>(family)]; }

const std::vector<Family>& all_families() {
  static const std::vector<Family> families = {Family::kDeepseekV2, Family::kDeepseekV3,
                                               Family::kQwen2,      Family::kLlama,
                                               Family::kQwen3,      Family::kQwen3Moe};
  return families;
}

absl::StatusOr<Family> family_from_model_type(const std::string& model_type) {
  std::vector<std::string> names;
  for (const FamilyTraits& t : kTraits) {
    if (model_type == t.model_type) return t.family;
    names.push_back(t.model_type);
  }
  return absl::InvalidArgumentError(absl::StrCat("model config key 'model_type': '", model_type,
                                                 "' is not supported (supported: ",
                                                 absl::StrJoin(names, ", "), ")"));
}

}  // namespace forge::policy
