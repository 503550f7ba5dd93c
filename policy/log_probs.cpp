#include "policy/log_probs.h"

namespace forge::policy {

at::Tensor token_log_probs(const at::Tensor& logits, const at::Tensor& tokens,
                           const at::Tensor& mask) {
  TORCH_CHECK(logits.dim() == tokens.dim() + 1, "token_log_probs: logits must be tokens' shape + [V]");
  TORCH_CHECK(tokens.scalar_type() == at::kLong, "token_log_probs: tokens must be int64");
  at::Tensor keep;
  at::Tensor ids = tokens;
  if (mask.defined()) {
    TORCH_CHECK(mask.sizes() == tokens.sizes(), "token_log_probs: mask must have tokens' shape");
    keep = mask.ne(0);
    ids = tokens.masked_fill(keep.logical_not(), 0);
  }
  at::Tensor x = logits.to(at::kFloat);                                   // [..., V]
  at::Tensor picked = x.gather(-1, ids.unsqueeze(-1)).squeeze(-1);        // [...]
  at::Tensor out = picked - at::logsumexp(x, -1);                         // [...]
  if (keep.defined()) out = out.masked_fill(keep.logical_not(), 0.0);
  return out;
}

at::Tensor temperature_scaled(const at::Tensor& logits, double temperature) {
  TORCH_CHECK(temperature >= 0, "temperature must be >= 0");
  at::Tensor x = logits.to(at::kFloat);
  if (temperature == 0.0 || temperature == 1.0) return x;
  return x / temperature;
}

at::Tensor temperature_scaled(const at::Tensor& logits, const at::Tensor& temperature) {
  at::Tensor t = temperature.to(at::kFloat).to(logits.device());
  t = at::where(t.eq(0), at::ones_like(t), t);  // greedy rows: temperature-1 logprobs
  if (t.dim() == 1) t = t.unsqueeze(1);         // [B, 1]
  return logits.to(at::kFloat) / t;
}

}  // namespace forge::policy
