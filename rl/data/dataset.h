// Datasets: JSONL files with one example per line.
//
//   {"prompt": "7+8*3-5", "answer": "26"}                                  math (the default rule)
//   {"prompt": "...", "tests": {"kind": "asserts", "asserts": [...]}, "rule": "code"}
//   {"prompt": "Use 3,5,7 to make 22.", "answer": "22 from 3,5,7", "rule": "countdown"}
//
// Fields: `prompt` (required, non-empty string: the problem, without the chat template),
// `answer` (string or number) or `tests` (object or array) -- at least one of them, `rule` (string,
// default "math": the reward rule that grades it), `completion` (optional string: a reference
// response, e.g. a teacher's chain of thought, used by SFT; it is the whole response, starting with
// "<think>" for the r1 template -- see chat_template.h), `id` (optional string or integer; default:
// the line number). Every other field is kept in `meta` and written back unchanged. Blank lines are
// skipped. Errors name the file and the line: "data/train.jsonl:12: missing 'prompt'".
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace forge::rl {

struct Example {
  std::string id;
  std::string prompt;
  std::string answer;                          // "" when the example has tests instead
  nlohmann::json tests;                        // null when the example has an answer instead
  std::string rule = "math";
  std::string completion;                      // "" = none
  nlohmann::json meta = nlohmann::json::object();  // every other field of the line
};

// Parses one JSON object. `where` prefixes error messages ("file:line").
absl::StatusOr<Example> parse_example(const nlohmann::json& j, const std::string& where);

// The example as one JSON object: the inverse of parse_example (meta fields come back as they were).
nlohmann::json example_to_json(const Example& e);

// Reads a JSONL file. An empty file is an error (a dataset with nothing in it is always a mistake).
// Examples without an id get their 1-based line number as id.
absl::StatusOr<std::vector<Example>> load_jsonl(const std::string& path);

// Parses JSONL text; `name` is used in error messages in place of a file name.
absl::StatusOr<std::vector<Example>> parse_jsonl(const std::string& text, const std::string& name);

// Writes the examples, one JSON object per line, atomically (temp file + rename).
absl::Status write_jsonl(const std::string& path, const std::vector<Example>& examples);

}  // namespace forge::rl
