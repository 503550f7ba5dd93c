#include "reward/code/code_job.h"

#include <cctype>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace forge::reward::code {
namespace {

constexpr size_t kMaxTestBytes = 32u << 20;

bool is_identifier(const std::string& s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  for (unsigned char c : s) {
    if (!(std::isalnum(c) || c == '_')) return false;
  }
  return true;
}

struct Fence {
  std::string tag;
  std::string body;
};

std::vector<Fence> fenced_blocks(const std::string& text) {
  std::vector<Fence> blocks;
  bool inside = false;
  Fence current;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    size_t first = line.find_first_not_of(" \t");
    bool fence = first != std::string::npos && line.compare(first, 3, "```") == 0;
    if (fence && !inside) {
      inside = true;
      std::string tag = line.substr(first + 3);
      size_t a = tag.find_first_not_of(" \t\r"), b = tag.find_last_not_of(" \t\r");
      current.tag = a == std::string::npos ? "" : tag.substr(a, b - a + 1);
      current.body.clear();
    } else if (fence && inside) {
      inside = false;
      blocks.push_back(current);
    } else if (inside) {
      current.body += line;
      current.body += '\n';
    }
    pos = end + 1;
  }
  if (inside) blocks.push_back(current);  // truncated completion: the block runs to the end
  return blocks;
}

absl::Status field_error(const std::string& field, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

}  // namespace

std::string extract_program(const std::string& completion) {
  std::string text = completion;
  size_t think = text.rfind("</think>");
  if (think != std::string::npos) text = text.substr(think + 8);
  size_t open = text.find("<answer>");
  if (open != std::string::npos) {
    size_t close = text.find("</answer>", open);
    text = text.substr(open + 8, close == std::string::npos ? std::string::npos : close - open - 8);
  }
  std::vector<Fence> blocks = fenced_blocks(text);
  for (auto it = blocks.rbegin(); it != blocks.rend(); ++it) {
    std::string tag;
    for (char c : it->tag) tag += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (tag.empty() || tag == "python" || tag == "py" || tag == "python3") return it->body;
  }
  if (!blocks.empty()) return blocks.back().body;
  return text;
}

absl::StatusOr<CodeJob> make_code_job(const std::string& completion, const nlohmann::json& tests) {
  if (!tests.is_object()) return field_error("tests", "must be a JSON object with a \"kind\"");
  auto kind_it = tests.find("kind");
  if (kind_it == tests.end() || !kind_it->is_string()) {
    return field_error("tests.kind", "must be \"humaneval\", \"asserts\" or \"stdio\"");
  }
  const std::string kind = kind_it->get<std::string>();
  CodeJob out;
  out.job = {{"kind", kind}, {"program", extract_program(completion)}};
  size_t bytes = 0;
  auto string_field = [&](const nlohmann::json& obj, const std::string& key,
                          const std::string& name, bool required) -> absl::Status {
    auto it = obj.find(key);
    if (it == obj.end()) {
      return required ? field_error(name, "is missing") : absl::OkStatus();
    }
    if (!it->is_string()) return field_error(name, "must be a string");
    bytes += it->get_ref<const std::string&>().size();
    return absl::OkStatus();
  };
  if (kind == "humaneval") {
    if (absl::Status s = string_field(tests, "test", "tests.test", true); !s.ok()) return s;
    if (absl::Status s = string_field(tests, "entry_point", "tests.entry_point", true); !s.ok()) {
      return s;
    }
    if (!is_identifier(tests["entry_point"].get<std::string>())) {
      return field_error("tests.entry_point", "must be a Python identifier");
    }
    out.job["test"] = tests["test"];
    out.job["entry_point"] = tests["entry_point"];
  } else if (kind == "asserts") {
    auto it = tests.find("asserts");
    if (it == tests.end() || !it->is_array() || it->empty()) {
      return field_error("tests.asserts", "must be a non-empty array of strings");
    }
    for (size_t i = 0; i < it->size(); ++i) {
      if (!(*it)[i].is_string()) {
        return field_error(absl::StrCat("tests.asserts[", i, "]"), "must be a string");
      }
      bytes += (*it)[i].get_ref<const std::string&>().size();
    }
    if (absl::Status s = string_field(tests, "setup", "tests.setup", false); !s.ok()) return s;
    out.job["asserts"] = *it;
    if (tests.contains("setup")) out.job["setup"] = tests["setup"];
  } else if (kind == "stdio") {
    auto it = tests.find("cases");
    if (it == tests.end() || !it->is_array() || it->empty()) {
      return field_error("tests.cases", "must be a non-empty array of {\"input\",\"output\"}");
    }
    for (size_t i = 0; i < it->size(); ++i) {
      const nlohmann::json& c = (*it)[i];
      std::string name = absl::StrCat("tests.cases[", i, "]");
      if (!c.is_object()) return field_error(name, "must be an object {\"input\",\"output\"}");
      if (absl::Status s = string_field(c, "input", name + ".input", true); !s.ok()) return s;
      if (absl::Status s = string_field(c, "output", name + ".output", true); !s.ok()) return s;
    }
    nlohmann::json cases = nlohmann::json::array();
    for (const nlohmann::json& c : *it)
      cases.push_back({{"input", c["input"]}, {"output", c["output"]}});
    out.job["cases"] = std::move(cases);
    out.runs = static_cast<int>(it->size());
  } else {
    return field_error(
        "tests.kind",
        absl::StrCat("must be \"humaneval\", \"asserts\" or \"stdio\", not \"", kind, "\""));
  }
  if (bytes > kMaxTestBytes) return field_error("tests", "are larger than 32 MiB");
  return out;
}

absl::StatusOr<RuleResult> code_rule_result(const nlohmann::json& r, bool deadline_limited) {
  std::string status = r.value("status", "");
  std::string detail = r.value("detail", "");
  int passed = r.value("passed", 0), total = r.value("total", 0);
  if (status == "bad_test") return absl::InvalidArgumentError(absl::StrCat("tests: ", detail));
  if (status == "sandbox_error")
    return absl::UnavailableError(absl::StrCat("code sandbox: ", detail));
  if (status == "timeout" && deadline_limited) {
    return absl::DeadlineExceededError(absl::StrCat("code rule: the grading deadline passed (",
                                                    passed, "/", total, " tests had passed)"));
  }
  static const char* const kKnown[] = {"passed",  "failed",     "timeout",
                                       "crashed", "load_error", "output_limit"};
  bool known = false;
  for (const char* k : kKnown) known = known || status == k;
  if (!known) return absl::InternalError(absl::StrCat("code harness: ", status, ": ", detail));
  RuleResult out;
  bool all = status == "passed" && total > 0 && passed == total;
  out.reward = all ? 1.0 : 0.0;
  double fraction = total > 0 ? static_cast<double>(passed) / total : 0.0;
  out.detail = absl::StrFormat("%d/%d tests passed (%.2f)", passed, total, fraction);
  if (!all) {
    std::string what = status == "load_error"     ? "load error"
                       : status == "output_limit" ? "output limit"
                                                  : status;
    if (status == "failed") {
      absl::StrAppend(&out.detail, "; ", detail);
    } else {
      absl::StrAppend(&out.detail, "; ", what, ": ", detail);
    }
  }
  return out;
}

}  // namespace forge::reward::code
