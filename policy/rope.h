// Rotary position embedding over ModelConfig::rope_head_dim() dimensions per head (DeepSeek's
// `qk_rope_head_dim` part of queries and keys; the whole head in GQA families), with YaRN context
// extension (Peng et al. 2023, "YaRN: Efficient Context Window Extension") or Llama 3's scaling.
//
// Two layouts, fixed by the weights' family:
//  * interleaved pairs (apply_rope, MLA): pair (2i, 2i+1) is rotated by angle pos * inv_freq[i]:
//      out[2i]   = x[2i] cos - x[2i+1] sin
//      out[2i+1] = x[2i] sin + x[2i+1] cos
//    (Hugging Face's DeepSeek-V3 rotates the same pairs and writes the result de-interleaved; q.k
//    dot products, hence attention, are identical.)
//  * halves (apply_rope_halves, GQA: Llama, Qwen): pair (i, i + d/2), HF's rotate_half:
//      out[i]       = x[i] cos - x[i + d/2] sin
//      out[i + d/2] = x[i + d/2] cos + x[i] sin
//
// YaRN (rope_scaling.type == "yarn", factor s, original context L0, beta_fast, beta_slow):
//   base frequency        f_i = theta^(-2i/d)
//   correction dim(n)     = d * ln(L0 / (n * 2 pi)) / (2 ln theta)
//   low = max(floor(dim(beta_fast)), 0), high = min(ceil(dim(beta_slow)), d - 1)
//   ramp_i                = clamp((i - low) / (high - low), 0, 1)  (high += 0.001 when equal)
//   inv_freq_i            = f_i * (1 - ramp_i) + (f_i / s) * ramp_i
// i.e. high-frequency pairs (i <= low) keep f_i, low-frequency pairs (i >= high) are interpolated
// by 1/s. cos and sin are multiplied by mscale(s, mscale) / mscale(s, mscale_all_dim), and the
// attention softmax scale is qk_head_dim^-0.5 * mscale(s, mscale_all_dim)^2, with
//   mscale(s, m) = 1 if s <= 1 else 0.1 * m * ln(s) + 1.
// Llama 3 (rope_scaling.type == "llama3", factor s, low/high_freq_factor l/h, original context
// L0), by wavelength w_i = 2 pi / f_i: w_i < L0/h keeps f_i; w_i > L0/l uses f_i / s; in between
//   smooth = (L0 / w_i - l) / (h - l),  inv_freq_i = (1 - smooth) f_i / s + smooth f_i.
// cos/sin and the softmax scale are unchanged.
// Without rope_scaling: inv_freq_i = f_i, cos/sin unscaled, softmax scale attention_head_dim^-0.5.
// Thread-safety: pure functions.
#pragma once

#include <vector>

#include <ATen/ATen.h>

#include "policy/model_config.h"

namespace forge::policy {

double yarn_mscale(double scale, double mscale);

// The per-pair inverse frequencies, [rope_head_dim / 2], in double.
std::vector<double> rope_inv_freq(const ModelConfig& config);

// Multiplier applied to cos and sin (1 without YaRN).
double rope_cos_sin_scale(const ModelConfig& config);

// The attention logit scale, including YaRN's mscale^2.
double attention_softmax_scale(const ModelConfig& config);

struct RopeCosSin {
  at::Tensor cos;  // [..., d/2] fp32
  at::Tensor sin;  // [..., d/2] fp32
};

// cos/sin of positions (int64, any shape [...]) times inv_freq ([d/2] fp32, on the positions'
// device), multiplied by `scale`.
RopeCosSin rope_cos_sin(const at::Tensor& inv_freq, const at::Tensor& positions, double scale);

// Rotates interleaved pairs of x [..., d]; cos and sin [..., d/2] broadcast against x's leading
// dims. Returns x's dtype.
at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

// Rotates pairs (i, i + d/2) of x [..., d] (HF's rotate_half layout); cos and sin as above.
at::Tensor apply_rope_halves(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

}  // namespace forge::policy
