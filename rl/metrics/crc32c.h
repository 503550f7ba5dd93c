// CRC-32C (Castagnoli), as TFRecord framing needs it, and TFRecord's masked form.
#pragma once

#include <cstddef>
#include <cstdint>

namespace forge::rl {

uint32_t crc32c(const void* data, size_t size);

// TFRecord stores CRCs masked: rotate right by 15 and add a constant.
inline uint32_t masked_crc32c(const void* data, size_t size) {
  const uint32_t crc = crc32c(data, size);
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

}  // namespace forge::rl
