#include "rl/data/dataset.h"

#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "base/status_macros.h"

namespace forge::rl {
namespace {

absl::Status bad(const std::string& where, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", why));
}

}  // namespace

absl::StatusOr<Example> parse_example(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) return bad(where, "expected a JSON object");
  Example e;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    const nlohmann::json& v = it.value();
    if (key == "prompt") {
      if (!v.is_string()) return bad(where, "'prompt' must be a string");
      e.prompt = v.get<std::string>();
    } else if (key == "answer") {
      if (v.is_string()) {
        e.answer = v.get<std::string>();
      } else if (v.is_number()) {
        e.answer = v.dump();
      } else {
        return bad(where, "'answer' must be a string or a number");
      }
    } else if (key == "tests") {
      if (!v.is_object() && !v.is_array()) return bad(where, "'tests' must be an object or array");
      e.tests = v;
    } else if (key == "rule") {
      if (!v.is_string() || v.get<std::string>().empty()) {
        return bad(where, "'rule' must be a non-empty string");
      }
      e.rule = v.get<std::string>();
    } else if (key == "completion") {
      if (!v.is_string()) return bad(where, "'completion' must be a string");
      e.completion = v.get<std::string>();
    } else if (key == "id") {
      if (v.is_string()) {
        e.id = v.get<std::string>();
      } else if (v.is_number_integer()) {
        e.id = v.dump();
      } else {
        return bad(where, "'id' must be a string or an integer");
      }
    } else {
      e.meta[key] = v;
    }
  }
  if (!j.contains("prompt")) return bad(where, "missing 'prompt'");
  if (e.prompt.empty()) return bad(where, "'prompt' is empty");
  if (!j.contains("answer") && !j.contains("tests")) {
    return bad(where, "needs 'answer' or 'tests'");
  }
  return e;
}

nlohmann::json example_to_json(const Example& e) {
  nlohmann::json j = nlohmann::json::object();
  if (!e.id.empty()) j["id"] = e.id;
  j["prompt"] = e.prompt;
  if (!e.tests.is_null()) {
    j["tests"] = e.tests;
  }
  if (e.tests.is_null() || !e.answer.empty()) j["answer"] = e.answer;
  j["rule"] = e.rule;
  if (!e.completion.empty()) j["completion"] = e.completion;
  for (auto it = e.meta.begin(); it != e.meta.end(); ++it) {
    if (!j.contains(it.key())) j[it.key()] = it.value();
  }
  return j;
}

absl::StatusOr<std::vector<Example>> parse_jsonl(const std::string& text, const std::string& name) {
  std::vector<Example> examples;
  size_t start = 0;
  int64_t line_no = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    ++line_no;
    std::string line = text.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const std::string where = absl::StrCat(name, ":", line_no);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      return bad(where, absl::StrCat("not valid JSON (", e.what(), ")"));
    }
    ASSIGN_OR_RETURN(Example e, parse_example(j, where));
    if (e.id.empty()) e.id = std::to_string(line_no);
    examples.push_back(std::move(e));
  }
  if (examples.empty()) return bad(name, "no examples");
  return examples;
}

absl::StatusOr<std::vector<Example>> load_jsonl(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, read_file(path));
  return parse_jsonl(text, path);
}

absl::Status write_jsonl(const std::string& path, const std::vector<Example>& examples) {
  std::string text;
  for (const Example& e : examples) {
    text += example_to_json(e).dump();
    text += '\n';
  }
  return write_file_atomic(path, text);
}

}  // namespace forge::rl
