// Chat templates: how a dataset prompt becomes the text the policy continues.
//
// "r1" -- DeepSeek-R1-Zero's template, cut to a one-line instruction because our tokenizer is
// byte-level (every character is a token) and the tiny model has a 512-token context:
//
//   Answer in <think></think><answer></answer>.\n
//   User: 7+8*3-5\n
//   Assistant: <think>
//
// The final "<think>" IS part of the prompt: the model's completion starts inside the reasoning,
// e.g. "8*3=24, 7+24-5. ...</think><answer>26</answer>". That saves 7 tokens per sample and makes
// the opening tag impossible to miss. The *response* is response_prefix() + completion; graders
// (format rule, answer extraction) must be given the response, so that a well-formed answer reads
// "<think>...</think><answer>...</answer>". Datasets store responses (the `completion` field of a
// teacher example starts with "<think>"); target() turns one into the tokens SFT trains on.
//
// "r1-compact" -- "r1" without the instruction line: "User: 7+8*3-5\nAssistant: <think>". For a
// policy that learned the format in a cold-start SFT (the R1 recipe, not R1-Zero): with a
// byte-level tokenizer the instruction is 45 tokens of every sequence, more than half the compute
// of a short arithmetic problem.
//
// "plain" -- the prompt verbatim, no prefix: for datasets whose prompts are already formatted.
//
// "deepseek-r1" -- the DeepSeek-R1 family's own template (tokenizer.kind: hf, R1's tokenizer):
//   <｜User｜>7+8*3-5<｜Assistant｜><think>\n
// The tokenizer adds <｜begin▁of▁sentence｜> in front (add_bos_token; Tokenizer::encode_prompt).
// The response starts with "<think>\n"; the model ends its reasoning with "</think>", then the
// answer (\boxed{} for math), then <｜end▁of▁sentence｜>.
//
// "qwen3" -- Qwen3's ChatML with thinking:
//   <|im_start|>user\n7+8*3-5<|im_end|>\n<|im_start|>assistant\n<think>\n
// (no bos: Qwen's tokenizer has none). The response starts with "<think>\n" and ends <|im_end|>.
//
// from_tokenizer_config() picks deepseek-r1 or qwen3 from a model folder's tokenizer_config.json.
//
// Thread-safety: immutable after construction; safe to share.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace forge::rl {

class ChatTemplate {
 public:
  // `name`: "r1", "r1-compact", "plain", "deepseek-r1" or "qwen3"; anything else is
  // InvalidArgument naming it.
  static absl::StatusOr<ChatTemplate> create(const std::string& name);
  // The template of a Hugging Face tokenizer (`path`: its folder, or its tokenizer.json), picked
  // from the chat_template in tokenizer_config.json: "<｜Assistant｜>" -> deepseek-r1,
  // "<|im_start|>" -> qwen3. Errors name the file and what it lacks. (chat_template_detect.cpp)
  static absl::StatusOr<ChatTemplate> from_tokenizer_config(const std::string& path);

  const std::string& name() const { return name_; }

  // The text the policy continues for a dataset prompt.
  std::string render(const std::string& prompt) const;

  // What render() ends with that belongs to the response ("<think>" for r1, "" for plain).
  const std::string& response_prefix() const { return response_prefix_; }

  // The whole response for grading: response_prefix() + completion.
  std::string response(const std::string& completion) const { return response_prefix_ + completion; }

  // The completion the model must generate after render(prompt) to produce `response`: `response`
  // without response_prefix(). InvalidArgument when `response` does not start with the prefix.
  absl::StatusOr<std::string> target(const std::string& response) const;

 private:
  ChatTemplate(std::string name, std::string before, std::string after, std::string prefix)
      : name_(std::move(name)),
        before_(std::move(before)),
        after_(std::move(after)),
        response_prefix_(std::move(prefix)) {}

  std::string name_;
  std::string before_;           // text before the prompt
  std::string after_;            // text after the prompt, ending with response_prefix_
  std::string response_prefix_;
};

}  // namespace forge::rl
