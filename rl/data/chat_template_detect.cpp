// ChatTemplate::from_tokenizer_config: which of our templates a Hugging Face model folder's
// tokenizer_config.json describes. Its chat_template is a Jinja program; Forge does not run Jinja,
// it recognises the family by the role markers the program writes.
#include <filesystem>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "rl/data/chat_template.h"

namespace forge::rl {

absl::StatusOr<ChatTemplate> ChatTemplate::from_tokenizer_config(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path folder =
      fs::is_directory(path, ec) ? fs::path(path) : fs::path(path).parent_path();
  const std::string file = (folder / "tokenizer_config.json").string();
  absl::StatusOr<std::string> text = read_file(file);
  if (!text.ok()) return absl::NotFoundError(absl::StrCat("cannot read ", file));
  const nlohmann::json config = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": not a JSON object"));
  }
  std::string program;
  if (auto it = config.find("chat_template"); it != config.end()) {
    if (it->is_string()) {
      program = it->get<std::string>();
    } else if (it->is_array()) {  // [{"name": "default", "template": "..."}, ...]
      for (const auto& entry : *it) {
        if (entry.is_object() && entry.value("name", "") == "default" &&
            entry.contains("template") && entry["template"].is_string()) {
          program = entry["template"].get<std::string>();
        }
      }
    }
  }
  if (program.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": no chat_template"));
  }
  if (program.find("<｜Assistant｜>") != std::string::npos) return create("deepseek-r1");
  if (program.find("<|im_start|>") != std::string::npos) return create("qwen3");
  return absl::InvalidArgumentError(absl::StrCat(
      file,
      ": chat_template is neither the DeepSeek-R1 family's (<｜Assistant｜>) nor ChatML "
      "(<|im_start|>); set data.template"));
}

}  // namespace forge::rl
