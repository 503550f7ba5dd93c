#include "policy/hf/tokenizer_json.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "base/file_util.h"

namespace forge::policy::hf {

absl::StatusOr<Json> parse_json(const std::string& text, const std::string& name) {
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": not valid JSON: ", e.what()));
  }
}

absl::StatusOr<TokenizerFiles> read_tokenizer_files(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  TokenizerFiles files;
  if (path.empty()) return absl::InvalidArgumentError("no tokenizer path given");
  if (fs::is_directory(path, ec)) {
    files.tokenizer_path = (fs::path(path) / kTokenizerFile).string();
    if (!fs::exists(files.tokenizer_path, ec)) {
      return absl::NotFoundError(absl::StrCat("'", path, "' has no ", kTokenizerFile));
    }
  } else {
    files.tokenizer_path = path;
  }
  absl::StatusOr<std::string> text = read_file(files.tokenizer_path);
  if (!text.ok()) {
    return absl::Status(text.status().code(),
                        absl::StrCat("cannot read '", files.tokenizer_path, "'"));
  }
  absl::StatusOr<Json> tokenizer = parse_json(*text, files.tokenizer_path);
  if (!tokenizer.ok()) return tokenizer.status();
  files.tokenizer = std::move(tokenizer).value();

  const fs::path config = fs::path(files.tokenizer_path).parent_path() / kTokenizerConfigFile;
  if (fs::exists(config, ec)) {
    files.config_path = config.string();
    absl::StatusOr<std::string> config_text = read_file(files.config_path);
    if (!config_text.ok()) return config_text.status();
    absl::StatusOr<Json> parsed = parse_json(*config_text, files.config_path);
    if (!parsed.ok()) return parsed.status();
    files.config = std::move(parsed).value();
  }
  return files;
}

}  // namespace forge::policy::hf
