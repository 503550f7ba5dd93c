#include "policy/rope.h"

#include <algorithm>
#include <cmath>

namespace forge::policy {
namespace {

constexpr double kPi = 3.14159265358979323846;

// The dimension index at which a frequency completes `num_rotations` turns over the original
// context (YaRN's "correction dim").
double correction_dim(double num_rotations, int dim, double base, int original_max_pos) {
  return dim * std::log(original_max_pos / (num_rotations * 2 * kPi)) / (2 * std::log(base));
}

// Llama 3.1's frequency-dependent interpolation (see rope.h).
void llama3_scale(const RopeScaling& rs, std::vector<double>& inv_freq) {
  const double low_wavelen = rs.original_max_position_embeddings / rs.low_freq_factor;
  const double high_wavelen = rs.original_max_position_embeddings / rs.high_freq_factor;
  for (double& f : inv_freq) {
    const double wavelen = 2 * kPi / f;
    if (wavelen < high_wavelen) continue;
    if (wavelen > low_wavelen) {
      f = f / rs.factor;
      continue;
    }
    const double smooth = (rs.original_max_position_embeddings / wavelen - rs.low_freq_factor) /
                          (rs.high_freq_factor - rs.low_freq_factor);
    f = (1 - smooth) * f / rs.factor + smooth * f;
  }
}

}  // namespace

double yarn_mscale(double scale, double mscale) {
  if (scale <= 1.0) return 1.0;
  return 0.1 * mscale * std::log(scale) + 1.0;
}

std::vector<double> rope_inv_freq(const ModelConfig& c) {
  const int dim = c.rope_head_dim();
  const int half = dim / 2;
  std::vector<double> inv_freq(half);
  for (int i = 0; i < half; ++i) inv_freq[i] = 1.0 / std::pow(c.rope_theta, 2.0 * i / dim);
  if (!c.rope_scaling) return inv_freq;

  const RopeScaling& rs = *c.rope_scaling;
  if (rs.type == "llama3") {
    llama3_scale(rs, inv_freq);
    return inv_freq;
  }
  const int max_pos = rs.original_max_position_embeddings;
  double low = std::floor(correction_dim(rs.beta_fast, dim, c.rope_theta, max_pos));
  double high = std::ceil(correction_dim(rs.beta_slow, dim, c.rope_theta, max_pos));
  low = std::max(low, 0.0);
  high = std::min(high, static_cast<double>(dim - 1));
  if (low == high) high += 0.001;
  for (int i = 0; i < half; ++i) {
    const double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0);
    inv_freq[i] = inv_freq[i] * (1.0 - ramp) + (inv_freq[i] / rs.factor) * ramp;
  }
  return inv_freq;
}

double rope_cos_sin_scale(const ModelConfig& c) {
  if (!c.rope_scaling || c.rope_scaling->type != "yarn") return 1.0;
  const RopeScaling& rs = *c.rope_scaling;
  return yarn_mscale(rs.factor, rs.mscale) / yarn_mscale(rs.factor, rs.mscale_all_dim);
}

double attention_softmax_scale(const ModelConfig& c) {
  double scale = 1.0 / std::sqrt(static_cast<double>(c.attention_head_dim()));
  if (c.rope_scaling && c.rope_scaling->type == "yarn" && c.rope_scaling->mscale_all_dim != 0.0) {
    const double m = yarn_mscale(c.rope_scaling->factor, c.rope_scaling->mscale_all_dim);
    scale *= m * m;
  }
  return scale;
}

RopeCosSin rope_cos_sin(const at::Tensor& inv_freq, const at::Tensor& positions, double scale) {
  TORCH_CHECK(inv_freq.dim() == 1, "rope_cos_sin: inv_freq must be 1-D");
  at::Tensor angles = positions.to(at::kFloat).unsqueeze(-1) * inv_freq;  // [..., d/2]
  RopeCosSin cs{angles.cos(), angles.sin()};
  if (scale != 1.0) {
    cs.cos = cs.cos * scale;
    cs.sin = cs.sin * scale;
  }
  return cs;
}

at::Tensor apply_rope(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t d = x.size(-1);
  TORCH_CHECK(d % 2 == 0 && cos.size(-1) == d / 2, "apply_rope: x's last dim must be 2 * cos's");
  std::vector<int64_t> pair_shape(x.sizes().begin(), x.sizes().end() - 1);
  pair_shape.push_back(d / 2);
  pair_shape.push_back(2);
  at::Tensor pairs = x.to(at::kFloat).reshape(pair_shape);  // [..., d/2, 2]
  at::Tensor x0 = pairs.select(-1, 0);                       // [..., d/2]
  at::Tensor x1 = pairs.select(-1, 1);                       // [..., d/2]
  at::Tensor out = at::stack({x0 * cos - x1 * sin, x0 * sin + x1 * cos}, -1);  // [..., d/2, 2]
  return out.flatten(-2).to(x.scalar_type());                                  // [..., d]
}

at::Tensor apply_rope_halves(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t d = x.size(-1);
  TORCH_CHECK(d % 2 == 0 && cos.size(-1) == d / 2, "apply_rope_halves: x's last dim must be 2 * cos's");
  at::Tensor h = x.to(at::kFloat);
  at::Tensor x0 = h.narrow(-1, 0, d / 2);                                  // [..., d/2]
  at::Tensor x1 = h.narrow(-1, d / 2, d / 2);                              // [..., d/2]
  at::Tensor out = at::cat({x0 * cos - x1 * sin, x1 * cos + x0 * sin}, -1);  // [..., d]
  return out.to(x.scalar_type());
}

}  // namespace forge::policy
