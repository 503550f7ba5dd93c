// `forge tokenize --tokenizer PATH --input IN.jsonl --output OUT.jsonl [--decode]`: a Hugging Face
// tokenizer (tokenizer.json or a model folder) over a JSONL file. One output line per input line,
// in order: {"text"} -> {"ids"} (no special tokens added), or with --decode {"ids"} -> {"text"}
// (every token rendered, as the library's decode). An "id" field is copied through. A line that
// cannot be read gets {"error": {"code", "message"}} and the others still go through.
#include <chrono>
#include <climits>
#include <iostream>
#include <memory>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "policy/hf/hf_tokenizer.h"
#include "rl/cli/commands.h"
#include "rl/cli/subcommands.h"
#include "rl/cli/jsonl_files.h"

namespace forge::rl::cli {
namespace {

using Json = nlohmann::json;

struct Counts {
  int64_t lines = 0, errors = 0, tokens = 0, bytes = 0;
};

// The output line for one input line, or an error message.
absl::StatusOr<Json> tokenize_line(const policy::hf::HfTokenizer& tokenizer,
                                   const std::string& line, bool decode, Counts* counts) {
  Json in = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (in.is_discarded()) return absl::InvalidArgumentError("not valid JSON");
  if (!in.is_object()) return absl::InvalidArgumentError("expected a JSON object");
  Json out = Json::object();
  if (in.contains("id")) out["id"] = in["id"];
  if (!decode) {
    auto text = in.find("text");
    if (text == in.end() || !text->is_string()) {
      return absl::InvalidArgumentError("expected a string field \"text\"");
    }
    const std::string& s = text->get_ref<const std::string&>();
    absl::StatusOr<std::vector<int32_t>> ids = tokenizer.encode(s, /*add_special_tokens=*/false);
    if (!ids.ok()) return ids.status();
    counts->tokens += static_cast<int64_t>(ids->size());
    counts->bytes += static_cast<int64_t>(s.size());
    out["ids"] = *ids;
    return out;
  }
  auto ids = in.find("ids");
  if (ids == in.end() || !ids->is_array()) {
    return absl::InvalidArgumentError("expected an array field \"ids\"");
  }
  std::vector<int32_t> values;
  for (const Json& id : *ids) {
    if (!id.is_number_integer() || id.get<int64_t>() < INT32_MIN || id.get<int64_t>() > INT32_MAX) {
      return absl::InvalidArgumentError(absl::StrCat("\"ids\" holds a non-integer: ", id.dump()));
    }
    values.push_back(static_cast<int32_t>(id.get<int64_t>()));
  }
  absl::StatusOr<std::string> text = tokenizer.decode_all(values);
  if (!text.ok()) return text.status();
  counts->tokens += static_cast<int64_t>(values.size());
  counts->bytes += static_cast<int64_t>(text->size());
  out["text"] = *text;
  return out;
}

int run_tokenize(const std::string& tokenizer_path, const std::string& input,
                 const std::string& output, bool decode) {
  const char* name = "tokenize";
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::unique_ptr<policy::hf::HfTokenizer>> tokenizer =
      policy::hf::HfTokenizer::load(tokenizer_path);
  if (!tokenizer.ok()) return fail_with_status(name, tokenizer.status());

  absl::StatusOr<std::unique_ptr<JsonlFiles>> files = JsonlFiles::open(input, output);
  if (!files.ok()) return fail_with_status(name, files.status());
  std::istream& in = (*files)->in();
  std::ostream& out = (*files)->out();

  Counts counts;
  std::string line;
  const auto loaded = std::chrono::steady_clock::now();
  while (std::getline(in, line)) {
    ++counts.lines;
    absl::StatusOr<Json> result = tokenize_line(**tokenizer, line, decode, &counts);
    if (!result.ok()) {
      ++counts.errors;
      Json error = {{"error",
                     {{"code", "invalid_argument"},
                      {"message", absl::StrCat("line ", counts.lines, ": ",
                                               std::string(result.status().message()))}}}};
      out << error.dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
    } else {
      out << result->dump(-1, ' ', false, Json::error_handler_t::replace) << '\n';
    }
  }
  if (absl::Status st = (*files)->commit(); !st.ok()) return fail(name, std::string(st.message()));
  const auto end = std::chrono::steady_clock::now();
  const double seconds = std::chrono::duration<double>(end - loaded).count();
  std::cerr << absl::StrFormat(
      "forge tokenize: %d lines, %d errors, %d tokens; loaded in %.2f s, %.2f MB/s\n", counts.lines,
      counts.errors, counts.tokens, std::chrono::duration<double>(loaded - start).count(),
      seconds > 0 ? counts.bytes / seconds / 1e6 : 0.0);
  return kExitOk;
}

}  // namespace

Command add_tokenize_command(CLI::App& parent) {
  CLI::App* app = parent.add_subcommand("tokenize", description_of("tokenize"));
  auto tokenizer = std::make_shared<std::string>();
  auto input = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  auto decode = std::make_shared<bool>(false);
  app->add_option("--tokenizer", *tokenizer,
                  "tokenizer.json, or a model folder holding it and tokenizer_config.json")
      ->required();
  app->add_option("--input", *input,
                  "JSONL: {\"text\"} per line ({\"ids\"} with --decode; '-': stdin)")
      ->required();
  app->add_option("--output", *output,
                  "JSONL: {\"ids\"} per line ({\"text\"} with --decode; "
                  "{\"error\"} for a bad line; '-': stdout)")
      ->required();
  app->add_flag("--decode", *decode, "ids to text instead of text to ids");
  return {app, [=] { return run_tokenize(*tokenizer, *input, *output, *decode); }};
}

}  // namespace forge::rl::cli
