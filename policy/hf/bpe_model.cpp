#include "policy/hf/bpe_model.h"

#include <algorithm>
#include <climits>
#include <functional>
#include <queue>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"
#include "base/utf8.h"
#include "policy/hf/byte_level.h"

namespace forge::policy::hf {
namespace {

absl::Status check_absent_or(const Json& json, const std::string& path, std::string_view key,
                             const std::function<bool(const Json&)>& allowed) {
  const Json* v = json_member(json, key);
  if (v != nullptr && !allowed(*v)) {
    return json_error(json_child(path, key), absl::StrCat("unsupported value ", v->dump(),
                                                          " (Forge builds only the "
                                                          "default)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<BpeModel>> BpeModel::from_json(const Json& json,
                                                              const std::string& path,
                                                              bool byte_level) {
  ASSIGN_OR_RETURN(const std::string type, json_type(json, path));
  if (type != "BPE") return json_unsupported(path, "model", type);
  auto m = std::unique_ptr<BpeModel>(new BpeModel());
  m->byte_level_ = byte_level;

  const auto zero = [](const Json& v) { return v.is_number() && v.get<double>() == 0.0; };
  const auto empty = [](const Json& v) { return v.is_string() && v.get<std::string>().empty(); };
  RETURN_IF_ERROR(check_absent_or(json, path, "dropout", zero));
  RETURN_IF_ERROR(check_absent_or(json, path, "continuing_subword_prefix", empty));
  RETURN_IF_ERROR(check_absent_or(json, path, "end_of_word_suffix", empty));
  ASSIGN_OR_RETURN(m->ignore_merges_, json_bool(json, path, "ignore_merges", false));
  ASSIGN_OR_RETURN(m->byte_fallback_, json_bool(json, path, "byte_fallback", false));
  ASSIGN_OR_RETURN(m->fuse_unk_, json_bool(json, path, "fuse_unk", false));

  // The vocabulary.
  const std::string vocab_path = json_child(path, "vocab");
  const Json* vocab = json_member(json, "vocab");
  if (vocab == nullptr || !vocab->is_object()) return json_error(vocab_path, "expected an object");
  int32_t max_id = -1;
  for (const auto& [token, id] : vocab->items()) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX) {
      return json_error(json_child(vocab_path, token), "expected a non-negative integer id");
    }
    max_id = std::max(max_id, static_cast<int32_t>(id.get<int64_t>()));
  }
  m->tokens_.resize(static_cast<size_t>(max_id + 1));
  m->has_.assign(static_cast<size_t>(max_id + 1), false);
  m->spelled_.reserve(vocab->size());
  m->symbols_.reserve(vocab->size());
  m->byte_ids_.fill(-1);
  m->fallback_ids_.fill(-1);
  for (const auto& [token, value] : vocab->items()) {
    const int32_t id = static_cast<int32_t>(value.get<int64_t>());
    m->tokens_[id] = token;
    m->has_[id] = true;
    m->spelled_[token] = id;
    if (byte_level) {
      std::string bytes;
      if (byte_level_to_bytes(token, &bytes)) {
        if (bytes.size() == 1) m->byte_ids_[static_cast<unsigned char>(bytes[0])] = id;
        m->symbols_[bytes] = id;
      }
    } else {
      m->symbols_[token] = id;
    }
  }
  for (int b = 0; b < 256; ++b) {
    const std::string name = absl::StrFormat("<0x%02X>", b);
    auto it = m->spelled_.find(name);
    if (it != m->spelled_.end()) m->fallback_ids_[b] = it->second;
  }
  ASSIGN_OR_RETURN(const std::string unk, json_string(json, path, "unk_token", ""));
  if (!unk.empty()) {
    auto it = m->spelled_.find(unk);
    if (it == m->spelled_.end()) {
      return json_error(json_child(path, "unk_token"),
                        absl::StrCat("'", unk, "' is not in the vocabulary"));
    }
    m->unk_id_ = it->second;
  }

  // The merges, ranked by their order in the file.
  const std::string merges_path = json_child(path, "merges");
  const Json* merges = json_member(json, "merges");
  if (merges == nullptr) return m;
  if (!merges->is_array()) return json_error(merges_path, "expected an array");
  m->merges_.reserve(merges->size());
  std::string a, b;
  for (size_t i = 0; i < merges->size(); ++i) {
    const Json& entry = (*merges)[i];
    const std::string entry_path = json_index(merges_path, i);
    if (entry.is_string()) {
      const std::string& line = entry.get_ref<const std::string&>();
      const size_t space = line.find(' ');
      if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
        return json_error(entry_path, "expected \"left right\" (two tokens and one space)");
      }
      a = line.substr(0, space);
      b = line.substr(space + 1);
    } else if (entry.is_array() && entry.size() == 2 && entry[0].is_string() &&
               entry[1].is_string()) {
      a = entry[0].get<std::string>();
      b = entry[1].get<std::string>();
    } else {
      return json_error(entry_path, "expected \"left right\" or [\"left\", \"right\"]");
    }
    const int32_t id_a = m->id_of(a), id_b = m->id_of(b), id = m->id_of(a + b);
    if (id_a < 0 || id_b < 0 || id < 0) {
      const std::string& missing = id_a < 0 ? a : id_b < 0 ? b : (a += b);
      return json_error(entry_path, absl::StrCat("'", missing, "' is not in the vocabulary"));
    }
    // A repeated pair keeps its last rank, as the library's map does.
    m->merges_[pair_key(id_a, id_b)] = Merge{static_cast<int32_t>(i), id};
  }
  return m;
}

int32_t BpeModel::id_of(std::string_view token) const {
  auto it = spelled_.find(absl::string_view(token.data(), token.size()));
  return it == spelled_.end() ? -1 : it->second;
}

void BpeModel::add_unknown(std::string_view bytes, std::vector<int32_t>* symbols,
                           bool* last_unk) const {
  if (byte_fallback_) {
    bool all = true;
    for (char c : bytes) all = all && fallback_ids_[static_cast<unsigned char>(c)] >= 0;
    if (all) {
      for (char c : bytes) symbols->push_back(fallback_ids_[static_cast<unsigned char>(c)]);
      *last_unk = false;
      return;
    }
  }
  if (unk_id_ < 0) return;  // dropped, as the library does without an unk_token
  if (fuse_unk_ && *last_unk) return;
  symbols->push_back(unk_id_);
  *last_unk = true;
}

void BpeModel::tokenize(std::string_view piece, std::vector<int32_t>* ids) const {
  if (piece.empty()) return;
  if (ignore_merges_) {
    auto it = symbols_.find(absl::string_view(piece.data(), piece.size()));
    if (it != symbols_.end()) {
      ids->push_back(it->second);
      return;
    }
  }
  std::vector<int32_t> symbols;
  symbols.reserve(piece.size());
  bool last_unk = false;
  if (byte_level_) {
    for (char c : piece) {
      const int32_t id = byte_ids_[static_cast<unsigned char>(c)];
      if (id >= 0) {
        symbols.push_back(id);
        last_unk = false;
      } else {
        // The library looks up "<0xXX>" for the UTF-8 bytes of the byte's alphabet character.
        std::string spelled;
        append_utf8(byte_level_char(static_cast<unsigned char>(c)), &spelled);
        add_unknown(spelled, &symbols, &last_unk);
      }
    }
  } else {
    size_t i = 0;
    while (i < piece.size()) {
      size_t length;
      uint32_t cp;
      read_utf8(piece, i, &length, &cp);
      const std::string_view ch = piece.substr(i, length);
      auto it = symbols_.find(absl::string_view(ch.data(), ch.size()));
      if (it != symbols_.end()) {
        symbols.push_back(it->second);
        last_unk = false;
      } else {
        add_unknown(ch, &symbols, &last_unk);
      }
      i += length;
    }
  }
  merge(&symbols);
  ids->insert(ids->end(), symbols.begin(), symbols.end());
}

void BpeModel::merge(std::vector<int32_t>* symbols) const {
  const int32_t n = static_cast<int32_t>(symbols->size());
  if (n < 2) return;
  std::vector<int32_t>& id = *symbols;
  std::vector<int32_t> next(n), prev(n);
  for (int32_t i = 0; i < n; ++i) {
    next[i] = i + 1 < n ? i + 1 : -1;
    prev[i] = i - 1;
  }
  std::vector<bool> alive(n, true);
  // Candidate merges, lowest rank first, then leftmost. Stale entries are skipped when popped.
  struct Candidate {
    int32_t rank, pos, id;
    bool operator>(const Candidate& o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  std::vector<Candidate> storage;
  storage.reserve(n);
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue(
      std::greater<Candidate>(), std::move(storage));
  const auto offer = [&](int32_t pos) {
    if (pos < 0 || next[pos] < 0) return;
    auto it = merges_.find(pair_key(id[pos], id[next[pos]]));
    if (it != merges_.end()) queue.push({it->second.rank, pos, it->second.id});
  };
  for (int32_t i = 0; i + 1 < n; ++i) offer(i);
  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    if (!alive[top.pos] || next[top.pos] < 0) continue;
    const int32_t right = next[top.pos];
    auto it = merges_.find(pair_key(id[top.pos], id[right]));
    if (it == merges_.end() || it->second.id != top.id) continue;
    id[top.pos] = top.id;
    alive[right] = false;
    next[top.pos] = next[right];
    if (next[right] >= 0) prev[next[right]] = top.pos;
    offer(prev[top.pos]);
    offer(top.pos);
  }
  int32_t out = 0;
  for (int32_t i = 0; i < n; ++i) {
    if (alive[i]) id[out++] = id[i];
  }
  symbols->resize(out);
}

}  // namespace forge::policy::hf
