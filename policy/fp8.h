// DeepSeek-V3/R1's FP8 weights, dequantized on load.
//
// float8 e4m3fn (the "F8_E4M3" safetensors dtype): 1 sign bit, 4 exponent bits (bias 7), 3
// mantissa bits; exponent 0 is subnormal (m/8 * 2^-6), S.1111.111 is NaN, there are no infinities,
// and the largest finite value is 448.
//
// Block scaling (DeepSeek-V3 §3.3.2; `quantization_config.weight_block_size` [br, bc], 128 x 128 in
// the release): a weight W [R, C] is stored as codes q [R, C] with one float32 `weight_scale_inv`
// s [ceil(R/br), ceil(C/bc)] per block, and W[i, j] = e4m3(q[i, j]) * s[i / br, j / bc]. Edge
// blocks are partial.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>

#include <ATen/ATen.h>

#include "absl/status/status.h"

namespace forge::policy {

// The value of one e4m3fn code (NaN for 0x7F and 0xFF).
float fp8_e4m3_value(uint8_t code);

// out [R, C] (any floating dtype and layout) = dequantized codes [R, C] (uint8, e.g. a view of a
// mapped file) with scale_inv [ceil(R/br), ceil(C/bc)] (float32). Works one block row at a time
// (a temporary of br x C floats per thread), so the float weight is never held twice. Errors name
// the mismatching shape.
absl::Status dequantize_fp8_blocks(const at::Tensor& codes, const at::Tensor& scale_inv,
                                   int block_rows, int block_cols, at::Tensor& out);

}  // namespace forge::policy
