#include "base/utf8.h"

namespace forge {

Utf8Step read_utf8(std::string_view text, size_t pos, size_t* length, uint32_t* cp) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(pos);
  if (lead < 0x80) {
    *length = 1;
    *cp = lead;
    return Utf8Step::kValid;
  }
  // The allowed range of the second byte and the sequence length, by lead byte (Table 3-7).
  size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    n = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    n = 3;
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    n = 4;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
  } else {
    *length = 1;
    return Utf8Step::kInvalid;
  }
  uint32_t value = lead & (0xFF >> (n + 1));
  for (size_t k = 1; k < n; ++k) {
    if (pos + k >= text.size()) {
      *length = k;
      return Utf8Step::kTruncated;
    }
    const unsigned char b = byte(pos + k);
    const unsigned char min = k == 1 ? lo : 0x80, max = k == 1 ? hi : 0xBF;
    if (b < min || b > max) {
      *length = k;
      return Utf8Step::kInvalid;
    }
    value = (value << 6) | (b & 0x3F);
  }
  *length = n;
  *cp = value;
  return Utf8Step::kValid;
}

bool is_valid_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t length;
    uint32_t cp;
    if (read_utf8(text, i, &length, &cp) != Utf8Step::kValid) return false;
    i += length;
  }
  return true;
}

std::string to_valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    size_t length;
    uint32_t cp;
    if (read_utf8(text, i, &length, &cp) == Utf8Step::kValid) {
      out.append(text.substr(i, length));
    } else {
      out.append(kReplacementChar);
    }
    i += length;
  }
  return out;
}

size_t stable_utf8_prefix(std::string_view text) {
  // A truncated sequence is at most 3 bytes long and starts at a lead byte.
  const size_t from = text.size() > 3 ? text.size() - 3 : 0;
  for (size_t i = from; i < text.size(); ++i) {
    const unsigned char b = static_cast<unsigned char>(text[i]);
    if (b < 0xC2 || b > 0xF4) continue;
    size_t length;
    uint32_t cp;
    if (read_utf8(text, i, &length, &cp) == Utf8Step::kTruncated) return i;
  }
  return text.size();
}

void append_utf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace forge
