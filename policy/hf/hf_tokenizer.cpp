#include "policy/hf/hf_tokenizer.h"

#include <algorithm>
#include <deque>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/utf8.h"
#include "policy/hf/byte_level.h"
#include "policy/hf/tokenizer_json.h"

namespace forge::policy::hf {
namespace {

enum Kind : uint8_t { kNone = 0, kModel = 1, kAdded = 2, kSpecial = 3 };

// What the ByteLevel decoder makes of a token: its bytes, or its own text when it has a character
// outside the byte-level alphabet.
std::string decoded_bytes(const std::string& token) {
  std::string bytes;
  if (!byte_level_to_bytes(token, &bytes)) return token;
  return bytes;
}

absl::Status prefixed(const absl::Status& st, const std::string& prefix) {
  return absl::Status(st.code(), absl::StrCat(prefix, ": ", st.message()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<HfTokenizer>> HfTokenizer::load(const std::string& path) {
  ASSIGN_OR_RETURN(const TokenizerFiles files, read_tokenizer_files(path));
  auto tokenizer = from_json(files.tokenizer, files.config);
  if (!tokenizer.ok()) {
    // Errors from the config name tokenizer_config.json; the rest are tokenizer.json's.
    const bool config_error = absl::StartsWith(tokenizer.status().message(), kTokenizerConfigFile);
    if (config_error && !files.config_path.empty()) {
      return absl::Status(
          tokenizer.status().code(),
          absl::StrCat(files.config_path, tokenizer.status().message().substr(
                                              std::string_view(kTokenizerConfigFile).size())));
    }
    return prefixed(tokenizer.status(), files.tokenizer_path);
  }
  return tokenizer;
}

absl::StatusOr<std::unique_ptr<HfTokenizer>> HfTokenizer::from_json(const Json& json,
                                                                    const Json& config) {
  if (!json.is_object()) return json_error("", "expected an object");
  auto t = std::unique_ptr<HfTokenizer>(new HfTokenizer());
  for (const char* key : {"truncation", "padding"}) {
    if (json_member(json, key) != nullptr) {
      return json_error(key, "not supported (Forge truncates and pads itself); expected null");
    }
  }
  static const Json kNull;
  const auto member = [&](const char* key) -> const Json& {
    const Json* v = json_member(json, key);
    return v == nullptr ? kNull : *v;
  };
  ASSIGN_OR_RETURN(t->normalizer_, Normalizer::from_json(member("normalizer"), "normalizer"));
  bool byte_level = false;
  ASSIGN_OR_RETURN(t->pre_tokenizer_,
                   PreTokenizer::from_json(member("pre_tokenizer"), "pre_tokenizer", &byte_level));

  // The decoder must undo what the pre-tokenizer did: ByteLevel for a byte-level vocabulary.
  const Json& decoder = member("decoder");
  if (decoder.is_null()) return json_error("decoder", "missing (Forge decodes with ByteLevel)");
  ASSIGN_OR_RETURN(const std::string decoder_type, json_type(decoder, "decoder"));
  if (decoder_type != "ByteLevel") return json_unsupported("decoder", "decoder", decoder_type);
  if (!byte_level) {
    return json_error("pre_tokenizer",
                      "a ByteLevel decoder needs a ByteLevel pre-tokenizer (none found)");
  }

  if (json_member(json, "model") == nullptr) return json_error("model", "missing");
  ASSIGN_OR_RETURN(t->model_, BpeModel::from_json(member("model"), "model", byte_level));
  ASSIGN_OR_RETURN(t->post_processor_,
                   PostProcessor::from_json(member("post_processor"), "post_processor"));
  ASSIGN_OR_RETURN(t->added_,
                   AddedTokens::from_json(
                       member("added_tokens"), "added_tokens", t->normalizer_.get(),
                       [&](const std::string& content) { return t->model_->id_of(content); },
                       t->model_->entries()));

  // Ids: the model's, then the added tokens' (which win where both have one).
  t->vocab_size_ = t->model_->size();
  for (const AddedToken& a : t->added_.tokens()) {
    t->vocab_size_ = std::max(t->vocab_size_, a.id + 1);
    t->has_normalized_added_ = t->has_normalized_added_ || a.normalized;
  }
  t->bytes_.resize(t->vocab_size_);
  t->kind_.assign(t->vocab_size_, kNone);
  for (int32_t id = 0; id < t->model_->size(); ++id) {
    if (const std::string* token = t->model_->token(id)) {
      t->bytes_[id] = decoded_bytes(*token);
      t->kind_[id] = kModel;
    }
  }
  for (const AddedToken& a : t->added_.tokens()) {
    t->bytes_[a.id] = decoded_bytes(a.content);
    t->kind_[a.id] = a.special ? kSpecial : kAdded;
  }
  RETURN_IF_ERROR(t->read_config(config));
  return t;
}

absl::Status HfTokenizer::read_config(const Json& config) {
  const std::string file = kTokenizerConfigFile;
  if (config.is_null()) {
    return absl::NotFoundError(absl::StrCat(
        file, ": not found beside tokenizer.json (it names eos_token, which ends a completion)"));
  }
  if (!config.is_object()) return absl::InvalidArgumentError(file + ": expected an object");
  // A token entry is "TEXT" or {"content": "TEXT", ...}; -1 when absent.
  const auto token_id = [&](const char* key, int32_t* id) -> absl::Status {
    *id = -1;
    const Json* v = json_member(config, key);
    if (v == nullptr) return absl::OkStatus();
    const Json* content = v->is_object() ? json_member(*v, "content") : v;
    if (content == nullptr || !content->is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ": ", key, ": expected a string or {\"content\": string}"));
    }
    const std::string& text = content->get_ref<const std::string&>();
    *id = added_.id_of(text);
    if (*id < 0) *id = model_->id_of(bytes_to_byte_level(text));
    if (*id < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ": ", key, ": '", text, "' is not a token of tokenizer.json"));
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(token_id("eos_token", &eos_id_));
  if (eos_id_ < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(file, ": eos_token: missing (it ends a completion)"));
  }
  RETURN_IF_ERROR(token_id("bos_token", &bos_id_));
  RETURN_IF_ERROR(token_id("pad_token", &pad_id_));
  if (pad_id_ < 0) pad_id_ = eos_id_;
  const bool has_bos = bos_id_ >= 0;
  if (!has_bos) bos_id_ = pad_id_;

  if (const Json* add = json_member(config, "add_bos_token")) {
    if (!add->is_boolean()) {
      return absl::InvalidArgumentError(file + ": add_bos_token: expected true or false");
    }
    add_bos_ = add->get<bool>() && has_bos;
  } else if (post_processor_ != nullptr && has_bos) {
    std::vector<int32_t> probe;
    post_processor_->add_special_tokens(&probe);
    add_bos_ = !probe.empty() && probe[0] == bos_id_;
  }

  if (const Json* tmpl = json_member(config, "chat_template")) {
    if (tmpl->is_string()) {
      chat_template_ = tmpl->get<std::string>();
    } else if (tmpl->is_array()) {  // [{"name": "default", "template": "..."}, ...]
      for (const Json& entry : *tmpl) {
        const Json* name = json_member(entry, "name");
        const Json* text = json_member(entry, "template");
        if (name != nullptr && text != nullptr && text->is_string() && *name == "default") {
          chat_template_ = text->get<std::string>();
        }
      }
    }
  }
  return absl::OkStatus();
}

absl::Status HfTokenizer::encode_chunk(std::string_view text, std::vector<int32_t>* ids,
                                       bool strict) const {
  std::deque<std::string> arena;
  std::vector<std::string_view> pieces;
  if (pre_tokenizer_ == nullptr) {
    pieces.push_back(text);
  } else if (absl::Status st = pre_tokenizer_->split(text, &pieces, &arena); !st.ok()) {
    if (strict) return st;
    pieces.assign(1, text);
  }
  for (std::string_view piece : pieces) model_->tokenize(piece, ids);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<int32_t>> HfTokenizer::encode_impl(std::string_view input,
                                                              bool add_special_tokens,
                                                              bool strict) const {
  std::string repaired;
  if (!is_valid_utf8(input)) {
    repaired = to_valid_utf8(input);
    input = repaired;
  }
  std::vector<int32_t> ids;
  ids.reserve(input.size() / 3 + 4);
  std::vector<Segment> raw, normalized;
  added_.split(input, /*normalized=*/false, &raw);
  for (const Segment& segment : raw) {
    if (segment.id >= 0) {
      ids.push_back(segment.id);
      continue;
    }
    std::string normalized_text;
    std::string_view text = segment.text;
    if (normalizer_ != nullptr) {
      normalized_text.assign(segment.text);
      normalizer_->normalize(&normalized_text);
      text = normalized_text;
    }
    normalized.clear();
    if (has_normalized_added_) {
      added_.split(text, /*normalized=*/true, &normalized);
    } else {
      normalized.push_back({text, -1});
    }
    for (const Segment& part : normalized) {
      if (part.id >= 0) {
        ids.push_back(part.id);
      } else if (absl::Status st = encode_chunk(part.text, &ids, strict); !st.ok()) {
        return st;
      }
    }
  }
  if (add_special_tokens && post_processor_ != nullptr) post_processor_->add_special_tokens(&ids);
  return ids;
}

absl::StatusOr<std::vector<int32_t>> HfTokenizer::encode(std::string_view text,
                                                         bool add_special_tokens) const {
  return encode_impl(text, add_special_tokens, /*strict=*/true);
}

std::vector<int32_t> HfTokenizer::encode(std::string_view text) const {
  // Not strict: cannot fail (see the header).
  return encode_impl(text, /*add_special_tokens=*/false, /*strict=*/false).value();
}

absl::StatusOr<std::string> HfTokenizer::token_bytes(int32_t id) const {
  if (id < 0) return absl::InvalidArgumentError(absl::StrCat("token id ", id, " is negative"));
  if (id == bos_id_ || id == eos_id_ || id == pad_id_) return std::string();
  if (id >= vocab_size_ || kind_[id] == kNone) return absl::StrCat("<|unused_", id, "|>");
  return bytes_[id];
}

absl::StatusOr<std::string> HfTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string bytes;
  for (int32_t id : ids) {
    ASSIGN_OR_RETURN(const std::string piece, token_bytes(id));
    bytes += piece;
  }
  return to_valid_utf8(bytes);
}

absl::StatusOr<std::string> HfTokenizer::decode_all(const std::vector<int32_t>& ids,
                                                    bool skip_special_tokens) const {
  std::string bytes;
  for (int32_t id : ids) {
    if (id < 0 || id >= vocab_size_ || kind_[id] == kNone) {
      return absl::InvalidArgumentError(
          absl::StrCat("token id ", id, " has no token (vocab_size ", vocab_size_, ")"));
    }
    if (skip_special_tokens && kind_[id] == kSpecial) continue;
    bytes += bytes_[id];
  }
  return to_valid_utf8(bytes);
}

std::optional<int32_t> HfTokenizer::special_id(std::string_view text) const {
  const int32_t id = added_.id_of(text);
  if (id < 0) return std::nullopt;
  return id;
}

}  // namespace forge::policy::hf
