#include "policy/hf/added_tokens.h"

#include <algorithm>
#include <climits>

#include <utf8proc.h>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/utf8.h"

namespace forge::policy::hf {
namespace {

// Unicode White_Space (Rust's char::is_whitespace).
bool is_whitespace(uint32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

// A word character (regex \w): letters, marks, decimal digits, connector punctuation, joiners.
bool is_word_char(uint32_t cp) {
  if (cp == 0x200C || cp == 0x200D) return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_PC:
      return true;
    default:
      return false;
  }
}

// The code point that ends `text` (valid UTF-8, non-empty).
uint32_t last_char(std::string_view text, size_t* start) {
  size_t i = text.size() - 1;
  while (i > 0 && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) --i;
  size_t length;
  uint32_t cp = 0;
  read_utf8(text, i, &length, &cp);
  if (start != nullptr) *start = i;
  return cp;
}

uint32_t first_char(std::string_view text, size_t* length) {
  uint32_t cp = 0;
  read_utf8(text, 0, length, &cp);
  return cp;
}

}  // namespace

void AddedTokens::Trie::add(std::string_view pattern, int32_t token) {
  if (pattern.empty()) return;
  first[static_cast<unsigned char>(pattern[0])] = true;
  int32_t node = 0;
  for (char c : pattern) {
    const unsigned char b = static_cast<unsigned char>(c);
    auto& children = nodes[node].children;
    auto it = std::lower_bound(children.begin(), children.end(), std::make_pair(b, INT32_MIN));
    if (it != children.end() && it->first == b) {
      node = it->second;
    } else {
      const int32_t child = static_cast<int32_t>(nodes.size());
      children.insert(it, {b, child});
      nodes.emplace_back();
      node = child;
    }
  }
  // Two tokens with the same pattern: the first one added wins, as in the library's automaton.
  if (nodes[node].token < 0) nodes[node].token = token;
}

int32_t AddedTokens::Trie::longest(std::string_view text, size_t pos, size_t* length) const {
  int32_t node = 0, found = -1;
  for (size_t i = pos; i < text.size(); ++i) {
    const unsigned char b = static_cast<unsigned char>(text[i]);
    const auto& children = nodes[node].children;
    auto it = std::lower_bound(children.begin(), children.end(), std::make_pair(b, INT32_MIN));
    if (it == children.end() || it->first != b) break;
    node = it->second;
    if (nodes[node].token >= 0) {
      found = nodes[node].token;
      *length = i + 1 - pos;
    }
  }
  return found;
}

absl::StatusOr<AddedTokens> AddedTokens::from_json(
    const Json& json, const std::string& path, const Normalizer* normalizer,
    const std::function<int32_t(const std::string&)>& model_id, int32_t model_size) {
  AddedTokens out;
  if (json.is_null()) return out;
  if (!json.is_array()) return json_error(path, "expected an array");
  int32_t next_id = 0;  // one past the largest added id so far
  for (size_t i = 0; i < json.size(); ++i) {
    const std::string p = json_index(path, i);
    const Json& entry = json[i];
    if (!entry.is_object()) return json_error(p, "expected an object");
    AddedToken t;
    const Json* id = json_member(entry, "id");
    if (id == nullptr || !id->is_number_integer() || id->get<int64_t>() < 0 ||
        id->get<int64_t>() > INT32_MAX) {
      return json_error(json_child(p, "id"), "expected a non-negative integer");
    }
    t.id = static_cast<int32_t>(id->get<int64_t>());
    ASSIGN_OR_RETURN(t.content, json_required_string(entry, p, "content"));
    if (t.content.empty()) return json_error(json_child(p, "content"), "empty");
    if (!is_valid_utf8(t.content)) return json_error(json_child(p, "content"), "not UTF-8");
    struct Flag {
      const char* key;
      bool* value;
      bool fallback;
    };
    // `normalized` defaults to !special, as the library's AddedToken::from does.
    for (const Flag& f : {Flag{"special", &t.special, false},
                          {"single_word", &t.single_word, false},
                          {"lstrip", &t.lstrip, false},
                          {"rstrip", &t.rstrip, false},
                          {"normalized", &t.normalized, true}}) {
      const bool fallback = f.value == &t.normalized ? !t.special : f.fallback;
      ASSIGN_OR_RETURN(*f.value, json_bool(entry, p, f.key, fallback));
    }
    // The library's id: an earlier added token's or the model's for the same content, else the
    // next one after both.
    if (const int32_t earlier = out.id_of(t.content); earlier >= 0) {
      continue;  // the same content again: the first entry stands
    }
    if (const int32_t in_model = model_id(t.content); in_model >= 0) {
      t.id = in_model;
    } else {
      t.id = next_id < model_size ? model_size : next_id;
    }
    next_id = std::max(next_id, t.id + 1);
    out.by_id_[t.id] = out.tokens_.size();
    out.tokens_.push_back(std::move(t));
  }
  for (size_t k = 0; k < out.tokens_.size(); ++k) {
    const AddedToken& t = out.tokens_[k];
    if (t.normalized) {
      std::string pattern = t.content;
      if (normalizer != nullptr) normalizer->normalize(&pattern);
      out.normalized_.add(pattern, static_cast<int32_t>(k));
    } else {
      out.raw_.add(t.content, static_cast<int32_t>(k));
    }
  }
  return out;
}

const AddedToken* AddedTokens::find(int32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second];
}

int32_t AddedTokens::id_of(std::string_view content) const {
  for (const AddedToken& t : tokens_) {
    if (t.content == content) return t.id;
  }
  return -1;
}

void AddedTokens::split(std::string_view text, bool normalized, std::vector<Segment>* out) const {
  const Trie& trie = normalized ? normalized_ : raw_;
  size_t emitted = 0;  // text before this offset is already in *out
  size_t pos = 0;
  while (pos < text.size()) {
    if (!trie.first[static_cast<unsigned char>(text[pos])]) {
      ++pos;
      continue;
    }
    size_t length = 0;
    const int32_t k = trie.longest(text, pos, &length);
    if (k < 0) {
      ++pos;
      continue;
    }
    const AddedToken& t = tokens_[k];
    size_t start = pos, stop = pos + length;
    pos = stop;  // the next match is searched after this one, whatever it strips
    if (t.single_word) {
      const bool word_before = start > 0 && is_word_char(last_char(text.substr(0, start), nullptr));
      size_t n;
      const bool word_after = stop < text.size() && is_word_char(first_char(text.substr(stop), &n));
      if (word_before || word_after) continue;
    }
    if (t.lstrip) {
      size_t s = start;
      while (s > 0) {
        size_t char_start;
        if (!is_whitespace(last_char(text.substr(0, s), &char_start))) break;
        s = char_start;
      }
      start = std::max(s, emitted);
    }
    if (t.rstrip) {
      while (stop < text.size()) {
        size_t n;
        if (!is_whitespace(first_char(text.substr(stop), &n))) break;
        stop += n;
      }
    }
    if (start < emitted) continue;  // overlaps text an rstrip already took
    if (emitted < start) out->push_back({text.substr(emitted, start - emitted), -1});
    out->push_back({text.substr(start, stop - start), t.id});
    emitted = stop;
    pos = std::max(pos, stop);
  }
  if (emitted < text.size()) out->push_back({text.substr(emitted), -1});
}

}  // namespace forge::policy::hf
