#include "reward/grade_file.h"

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "base/utf8.h"
#include "reward/grade_json.h"

namespace forge::reward {
namespace {

using json = nlohmann::json;

struct Line {
  int64_t number = 0;  // 1-based
  json id;             // as written on the line; null when unknown
  std::string error;   // set when the line could not be parsed
  int item = -1;       // index into the chunk's items when it parsed
};

// Parses one input line into `line` and, when it is well formed, appends its item.
void parse_line(const std::string& text, Line& line, std::vector<GradeItem>& items) {
  if (text.find_first_not_of(" \t\r") == std::string::npos) {
    line.error = "empty line";
    return;
  }
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    line.error = "not valid JSON";
    try {
      json again = json::parse(text);  // throws the parse error with its position
      (void)again;
    } catch (const json::parse_error& e) {
      line.error = absl::StrCat("not valid JSON: ", e.what());
    }
    return;
  }
  if (j.is_object() && j.contains("id") && (j["id"].is_string() || j["id"].is_number_integer())) {
    line.id = j["id"];
  }
  absl::StatusOr<GradeItem> item = grade_item_from_json(j);
  if (!item.ok()) {
    line.error = std::string(item.status().message());
    return;
  }
  line.item = static_cast<int>(items.size());
  items.push_back(std::move(item).value());
}

}  // namespace

absl::Status grade_jsonl(std::istream& in, std::ostream& out, const Grader& grader,
                         GradeFileStats* stats) {
  GradeFileStats local;
  GradeFileStats& s = stats != nullptr ? *stats : local;
  const size_t chunk = static_cast<size_t>(
      std::min(grader.config().queue_limit, std::max(256, 16 * grader.concurrency())));
  int64_t number = 0;
  std::string text;
  bool eof = false;
  while (!eof) {
    std::vector<Line> lines;
    std::vector<GradeItem> items;
    while (items.size() < chunk && lines.size() < 4 * chunk) {
      if (!std::getline(in, text)) {
        eof = true;
        break;
      }
      Line line;
      line.number = ++number;
      parse_line(text, line, items);
      lines.push_back(std::move(line));
    }
    if (lines.empty()) break;
    absl::StatusOr<std::vector<GradeOutcome>> outcomes = grader.grade_batch(items, BatchOptions{});
    for (Line& line : lines) {
      GradeOutcome outcome;
      if (line.item < 0) {
        outcome.error = line.error;
        outcome.error_code = kErrorInvalidItem;
      } else if (!outcomes.ok()) {
        outcome.error = std::string(outcomes.status().message());
        outcome.error_code = error_code_of(outcomes.status());
      } else {
        outcome = std::move((*outcomes)[line.item]);
      }
      if (!outcome.error.empty()) {
        outcome.error = to_valid_utf8(absl::StrCat("line ", line.number, ": ", outcome.error));
        ++s.errors;
      } else {
        s.reward_sum += outcome.reward;
      }
      ++s.lines;
      out << dump_json_line(grade_outcome_to_json(outcome, line.id)) << '\n';
    }
    out.flush();
    if (!out) return absl::DataLossError("writing the output failed");
  }
  if (in.bad()) return absl::DataLossError("reading the input failed");
  return absl::OkStatus();
}

}  // namespace forge::reward
