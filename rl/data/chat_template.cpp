#include "rl/data/chat_template.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace forge::rl {

absl::StatusOr<ChatTemplate> ChatTemplate::create(const std::string& name) {
  if (name == "r1") {
    return ChatTemplate(name, "Answer in <think></think><answer></answer>.\nUser: ",
                        "\nAssistant: <think>", "<think>");
  }
  if (name == "r1-compact") return ChatTemplate(name, "User: ", "\nAssistant: <think>", "<think>");
  if (name == "plain") return ChatTemplate(name, "", "", "");
  if (name == "deepseek-r1") {
    return ChatTemplate(name, "<｜User｜>", "<｜Assistant｜><think>\n", "<think>\n");
  }
  if (name == "qwen3") {
    return ChatTemplate(name, "<|im_start|>user\n", "<|im_end|>\n<|im_start|>assistant\n<think>\n",
                        "<think>\n");
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown chat template '", name, "' (known: r1, r1-compact, plain, deepseek-r1, qwen3)"));
}

std::string ChatTemplate::render(const std::string& prompt) const {
  return absl::StrCat(before_, prompt, after_);
}

absl::StatusOr<std::string> ChatTemplate::target(const std::string& response) const {
  if (!absl::StartsWith(response, response_prefix_)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the response does not start with '", response_prefix_, "', which the ", name_,
        " template puts at the end of the prompt"));
  }
  return response.substr(response_prefix_.size());
}

}  // namespace forge::rl
