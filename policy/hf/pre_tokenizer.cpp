#include "policy/hf/pre_tokenizer.h"

#include <algorithm>
#include <utility>

#include <utf8proc.h>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "base/utf8.h"
#include "policy/hf/regex.h"

namespace forge::policy::hf {
namespace {

// GPT-2's pre-tokenizer regex (ByteLevel with use_regex).
constexpr char kGpt2Pattern[] =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// What happens to the matched delimiters of a Split (the library's SplitDelimiterBehavior).
enum class Behavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

struct Span {
  size_t begin, end;
  bool match;
};

// The spans covering `size` bytes around the sorted, non-overlapping `matches`.
std::vector<Span> spans_of(const std::vector<std::pair<size_t, size_t>>& matches, size_t size,
                           bool invert) {
  std::vector<Span> spans;
  spans.reserve(matches.size() * 2 + 1);
  size_t prev = 0;
  for (const auto& [begin, end] : matches) {
    if (prev != begin) spans.push_back({prev, begin, invert});
    spans.push_back({begin, end, !invert});
    prev = end;
  }
  if (prev != size) spans.push_back({prev, size, invert});
  return spans;
}

// Applies `behavior` to `spans` of `text` and appends the non-empty pieces.
void emit(std::string_view text, const std::vector<Span>& spans, Behavior behavior,
          std::vector<std::string_view>* out) {
  std::vector<std::pair<size_t, size_t>> pieces;
  pieces.reserve(spans.size());
  bool previous_match = false;
  switch (behavior) {
    case Behavior::kRemoved:
      for (const Span& s : spans) {
        if (!s.match) pieces.emplace_back(s.begin, s.end);
      }
      break;
    case Behavior::kIsolated:
      for (const Span& s : spans) pieces.emplace_back(s.begin, s.end);
      break;
    case Behavior::kMergedWithPrevious:
      for (const Span& s : spans) {
        if (s.match && !previous_match && !pieces.empty()) {
          pieces.back().second = s.end;
        } else {
          pieces.emplace_back(s.begin, s.end);
        }
        previous_match = s.match;
      }
      break;
    case Behavior::kMergedWithNext:
      for (size_t k = spans.size(); k-- > 0;) {
        const Span& s = spans[k];
        if (s.match && !previous_match && !pieces.empty()) {
          pieces.back().first = s.begin;
        } else {
          pieces.emplace_back(s.begin, s.end);
        }
        previous_match = s.match;
      }
      std::reverse(pieces.begin(), pieces.end());
      break;
    case Behavior::kContiguous:
      for (const Span& s : spans) {
        if (s.match == previous_match && !pieces.empty()) {
          pieces.back().second = s.end;
        } else {
          pieces.emplace_back(s.begin, s.end);
        }
        previous_match = s.match;
      }
      break;
  }
  for (const auto& [begin, end] : pieces) {
    if (end > begin) out->push_back(text.substr(begin, end - begin));
  }
}

absl::StatusOr<Behavior> behavior_of(const Json& json, const std::string& path) {
  ASSIGN_OR_RETURN(const std::string name, json_required_string(json, path, "behavior"));
  if (name == "Removed") return Behavior::kRemoved;
  if (name == "Isolated") return Behavior::kIsolated;
  if (name == "MergedWithPrevious") return Behavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return Behavior::kMergedWithNext;
  if (name == "Contiguous") return Behavior::kContiguous;
  return json_error(json_child(path, "behavior"), absl::StrCat("unknown behavior '", name, "'"));
}

class SplitRegex final : public PreTokenizer {
 public:
  SplitRegex(std::unique_ptr<Regex> regex, Behavior behavior, bool invert)
      : regex_(std::move(regex)), behavior_(behavior), invert_(invert) {}

  absl::Status split(std::string_view text, std::vector<std::string_view>* out,
                     std::deque<std::string>* arena) const override {
    std::vector<std::pair<size_t, size_t>> matches;
    RETURN_IF_ERROR(regex_->find_all(text, &matches));
    emit(text, spans_of(matches, text.size(), invert_), behavior_, out);
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<Regex> regex_;
  Behavior behavior_;
  bool invert_;
};

class SplitString final : public PreTokenizer {
 public:
  SplitString(std::string delimiter, Behavior behavior, bool invert)
      : delimiter_(std::move(delimiter)), behavior_(behavior), invert_(invert) {}

  absl::Status split(std::string_view text, std::vector<std::string_view>* out,
                     std::deque<std::string>* arena) const override {
    std::vector<std::pair<size_t, size_t>> matches;
    if (delimiter_.empty()) {
      // No delimiter: the whole text is one span (a match when inverted).
      emit(text, {{0, text.size(), invert_}}, behavior_, out);
      return absl::OkStatus();
    }
    for (size_t at = text.find(delimiter_); at != std::string_view::npos;
         at = text.find(delimiter_, at + delimiter_.size())) {
      matches.emplace_back(at, at + delimiter_.size());
    }
    emit(text, spans_of(matches, text.size(), invert_), behavior_, out);
    return absl::OkStatus();
  }

 private:
  std::string delimiter_;
  Behavior behavior_;
  bool invert_;
};

// Unicode numbers (categories Nd, Nl, No: Rust's char::is_numeric), one piece each or in runs.
class Digits final : public PreTokenizer {
 public:
  explicit Digits(bool individual) : individual_(individual) {}

  absl::Status split(std::string_view text, std::vector<std::string_view>* out,
                     std::deque<std::string>* arena) const override {
    std::vector<std::pair<size_t, size_t>> matches;
    size_t i = 0;
    while (i < text.size()) {
      size_t length;
      uint32_t cp = 0;
      read_utf8(text, i, &length, &cp);
      const utf8proc_category_t cat = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
      if (cat == UTF8PROC_CATEGORY_ND || cat == UTF8PROC_CATEGORY_NL ||
          cat == UTF8PROC_CATEGORY_NO) {
        matches.emplace_back(i, i + length);
      }
      i += length;
    }
    emit(text, spans_of(matches, text.size(), false),
         individual_ ? Behavior::kIsolated : Behavior::kContiguous, out);
    return absl::OkStatus();
  }

 private:
  bool individual_;
};

// The byte-to-character mapping is left to the model (see the header); this adds the prefix space
// and GPT-2's regex split when asked.
class ByteLevel final : public PreTokenizer {
 public:
  ByteLevel(bool add_prefix_space, std::unique_ptr<Regex> regex)
      : add_prefix_space_(add_prefix_space), regex_(std::move(regex)) {}

  absl::Status split(std::string_view text, std::vector<std::string_view>* out,
                     std::deque<std::string>* arena) const override {
    if (add_prefix_space_ && (text.empty() || text[0] != ' ')) {
      arena->push_back(" " + std::string(text));
      text = arena->back();
    }
    if (regex_ == nullptr) {
      if (!text.empty()) out->push_back(text);
      return absl::OkStatus();
    }
    std::vector<std::pair<size_t, size_t>> matches;
    RETURN_IF_ERROR(regex_->find_all(text, &matches));
    emit(text, spans_of(matches, text.size(), false), Behavior::kIsolated, out);
    return absl::OkStatus();
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;
};

class SequencePreTokenizer final : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> steps)
      : steps_(std::move(steps)) {}

  absl::Status split(std::string_view text, std::vector<std::string_view>* out,
                     std::deque<std::string>* arena) const override {
    std::vector<std::string_view> current = {text}, next;
    for (const auto& step : steps_) {
      next.clear();
      for (std::string_view piece : current) {
        RETURN_IF_ERROR(step->split(piece, &next, arena));
      }
      current.swap(next);
    }
    for (std::string_view piece : current) {
      if (!piece.empty()) out->push_back(piece);
    }
    return absl::OkStatus();
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<PreTokenizer>> PreTokenizer::from_json(const Json& json,
                                                                      const std::string& path,
                                                                      bool* byte_level) {
  *byte_level = false;
  if (json.is_null()) return nullptr;
  ASSIGN_OR_RETURN(const std::string type, json_type(json, path));
  if (type == "Split") {
    ASSIGN_OR_RETURN(const Behavior behavior, behavior_of(json, path));
    ASSIGN_OR_RETURN(const bool invert, json_bool(json, path, "invert", false));
    const std::string pattern_path = json_child(path, "pattern");
    const Json* pattern = json_member(json, "pattern");
    if (pattern == nullptr || !pattern->is_object()) {
      return json_error(pattern_path, "expected {\"Regex\": ...} or {\"String\": ...}");
    }
    if (const Json* regex = json_member(*pattern, "Regex")) {
      if (!regex->is_string())
        return json_error(json_child(pattern_path, "Regex"), "expected a string");
      absl::StatusOr<std::unique_ptr<Regex>> compiled = Regex::compile(regex->get<std::string>());
      if (!compiled.ok()) {
        return json_error(json_child(pattern_path, "Regex"),
                          std::string(compiled.status().message()));
      }
      return std::unique_ptr<PreTokenizer>(
          std::make_unique<SplitRegex>(std::move(compiled).value(), behavior, invert));
    }
    if (const Json* literal = json_member(*pattern, "String")) {
      if (!literal->is_string()) {
        return json_error(json_child(pattern_path, "String"), "expected a string");
      }
      return std::unique_ptr<PreTokenizer>(
          std::make_unique<SplitString>(literal->get<std::string>(), behavior, invert));
    }
    return json_error(pattern_path, "expected {\"Regex\": ...} or {\"String\": ...}");
  }
  if (type == "Digits") {
    ASSIGN_OR_RETURN(const bool individual, json_bool(json, path, "individual_digits", false));
    return std::unique_ptr<PreTokenizer>(std::make_unique<Digits>(individual));
  }
  if (type == "ByteLevel") {
    ASSIGN_OR_RETURN(const bool prefix, json_bool(json, path, "add_prefix_space", true));
    ASSIGN_OR_RETURN(const bool use_regex, json_bool(json, path, "use_regex", true));
    std::unique_ptr<Regex> regex;
    if (use_regex) {
      ASSIGN_OR_RETURN(regex, Regex::compile(kGpt2Pattern));
    }
    *byte_level = true;
    return std::unique_ptr<PreTokenizer>(std::make_unique<ByteLevel>(prefix, std::move(regex)));
  }
  if (type == "Sequence") {
    // ByteLevel must come last: nothing may split the byte-level characters it stands for.
    ASSIGN_OR_RETURN(
        auto steps,
        json_list<PreTokenizer>(
            json, path, "pretokenizers",
            [&](const Json& step,
                const std::string& step_path) -> absl::StatusOr<std::unique_ptr<PreTokenizer>> {
              if (*byte_level)
                return json_error(step_path, "follows ByteLevel, which must be last");
              return from_json(step, step_path, byte_level);
            }));
    return std::unique_ptr<PreTokenizer>(std::make_unique<SequencePreTokenizer>(std::move(steps)));
  }
  return json_unsupported(path, "pre-tokenizer", type);
}

}  // namespace forge::policy::hf
