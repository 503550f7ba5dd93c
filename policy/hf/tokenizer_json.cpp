#include "policy/hf/tokenizer_json.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "base/status_macros.h"

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
  ASSIGN_OR_RETURN(files.tokenizer, parse_json(*text, files.tokenizer_path));

  const fs::path config = fs::path(files.tokenizer_path).parent_path() / kTokenizerConfigFile;
  if (fs::exists(config, ec)) {
    files.config_path = config.string();
    ASSIGN_OR_RETURN(const std::string config_text, read_file(files.config_path));
    ASSIGN_OR_RETURN(files.config, parse_json(config_text, files.config_path));
  }
  return files;
}

}  // namespace forge::policy::hf
