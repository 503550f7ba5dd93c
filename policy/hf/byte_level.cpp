#include "policy/hf/byte_level.h"

#include <array>

#include "base/utf8.h"

namespace forge::policy::hf {
namespace {

struct Tables {
  std::array<uint32_t, 256> to_char{};
  std::array<int16_t, 324> to_byte{};  // by code point; -1 = not in the alphabet

  Tables() {
    to_byte.fill(-1);
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
      to_char[b] = printable ? static_cast<uint32_t>(b) : next++;
      to_byte[to_char[b]] = static_cast<int16_t>(b);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

uint32_t byte_level_char(unsigned char byte) { return tables().to_char[byte]; }

bool byte_level_to_bytes(std::string_view token, std::string* out) {
  const Tables& t = tables();
  const size_t start = out->size();
  size_t i = 0;
  while (i < token.size()) {
    size_t length;
    uint32_t cp = 0;
    if (read_utf8(token, i, &length, &cp) != Utf8Step::kValid || cp >= t.to_byte.size() ||
        t.to_byte[cp] < 0) {
      out->resize(start);
      return false;
    }
    out->push_back(static_cast<char>(t.to_byte[cp]));
    i += length;
  }
  return true;
}

std::string bytes_to_byte_level(std::string_view bytes) {
  std::string out;
  for (char c : bytes) append_utf8(byte_level_char(static_cast<unsigned char>(c)), &out);
  return out;
}

}  // namespace forge::policy::hf
