#include "policy/attention.h"

#include <limits>

#include "policy/gqa.h"
#include "policy/mla.h"

namespace forge::policy {

std::shared_ptr<AttentionImpl> make_attention(const ModelConfig& config) {
  if (config.mla()) return std::make_shared<MlaAttentionImpl>(config);
  return std::make_shared<GqaAttentionImpl>(config);
}

at::Tensor masked_softmax(const at::Tensor& scores, const at::Tensor& allowed) {
  at::Tensor s = scores.to(at::kFloat).masked_fill(allowed.logical_not(),
                                                   std::numeric_limits<float>::lowest());
  return at::softmax(s, -1);
}

at::Tensor attention_allowed(int64_t t, const at::Tensor& segments, const at::Device& device) {
  at::Tensor allowed = at::ones({t, t}, at::TensorOptions().dtype(at::kBool).device(device))
                           .tril()
                           .view({1, 1, t, t});                                 // [1, 1, T, T]
  if (segments.defined()) {
    at::Tensor same = segments.unsqueeze(2).eq(segments.unsqueeze(1))            // [B, T, T]
                          .logical_and(segments.ne(0).unsqueeze(1));             // real keys
    allowed = allowed.logical_and(same.unsqueeze(1));                           // [B, 1, T, T]
  }
  return allowed;
}

}  // namespace forge::policy
