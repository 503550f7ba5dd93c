#include "policy/fp8.h"

#include <array>
#include <cmath>
#include <limits>
#include <vector>

#include <ATen/Parallel.h>

#include "absl/strings/str_cat.h"

namespace forge::policy {
namespace {

const std::array<float, 256>& e4m3_table() {
  static const std::array<float, 256> table = [] {
    std::array<float, 256> t{};
    for (int code = 0; code < 256; ++code) {
      const int sign = code >> 7, exponent = (code >> 3) & 0xF, mantissa = code & 0x7;
      float value;
      if (exponent == 0xF && mantissa == 0x7) {
        value = std::numeric_limits<float>::quiet_NaN();
      } else if (exponent == 0) {
        value = std::ldexp(static_cast<float>(mantissa) / 8.0f, -6);
      } else {
        value = std::ldexp(1.0f + static_cast<float>(mantissa) / 8.0f, exponent - 7);
      }
      t[code] = sign ? -value : value;
    }
    return t;
  }();
  return table;
}

}  // namespace

float fp8_e4m3_value(uint8_t code) { return e4m3_table()[code]; }

absl::Status dequantize_fp8_blocks(const at::Tensor& codes, const at::Tensor& scale_inv,
                                   int block_rows, int block_cols, at::Tensor& out) {
  if (codes.dim() != 2 || codes.scalar_type() != at::kByte || out.sizes() != codes.sizes()) {
    return absl::InvalidArgumentError(absl::StrCat("fp8 weight of shape ", c10::str(codes.sizes()),
                                                   " does not fit its target ",
                                                   c10::str(out.sizes())));
  }
  const int64_t rows = codes.size(0), cols = codes.size(1);
  const int64_t block_r = (rows + block_rows - 1) / block_rows;
  const int64_t block_c = (cols + block_cols - 1) / block_cols;
  if (scale_inv.dim() != 2 || scale_inv.size(0) != block_r || scale_inv.size(1) != block_c) {
    return absl::InvalidArgumentError(absl::StrCat(
        "weight_scale_inv has shape ", c10::str(scale_inv.sizes()), " but a ",
        c10::str(codes.sizes()), " weight in ", block_rows, "x", block_cols, " blocks needs [",
        block_r, ", ", block_c, "]"));
  }
  const at::Tensor q = codes.contiguous();                     // [R, C] uint8 (a view: no copy)
  const at::Tensor s = scale_inv.to(at::kFloat).contiguous();  // [R/br, C/bc]
  const uint8_t* q_data = q.data_ptr<uint8_t>();
  const float* s_data = s.data_ptr<float>();
  const std::array<float, 256>& table = e4m3_table();
  at::parallel_for(0, block_r, 1, [&](int64_t first, int64_t last) {
    std::vector<float> buffer;
    for (int64_t b = first; b < last; ++b) {
      const int64_t r0 = b * block_rows, n = std::min<int64_t>(block_rows, rows - r0);
      buffer.resize(static_cast<size_t>(n * cols));
      for (int64_t i = 0; i < n; ++i) {
        const uint8_t* src = q_data + (r0 + i) * cols;
        float* dst = buffer.data() + i * cols;
        for (int64_t j = 0; j < cols; ++j) dst[j] = table[src[j]] * s_data[b * block_c + j / block_cols];
      }
      at::Tensor block = at::from_blob(buffer.data(), {n, cols}, at::kFloat);  // [n, C]
      out.narrow(0, r0, n).copy_(block);
    }
  });
  return absl::OkStatus();
}

}  // namespace forge::policy
