#include "rl/recipe/sft_batch.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "policy/log_probs.h"

namespace forge::rl {

absl::StatusOr<TokenSequence> make_sft_sequence(const Example& example, const ChatTemplate& chat,
                                                const policy::Tokenizer& tokenizer) {
  if (example.completion.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("example '", example.id, "': no completion to train on"));
  }
  absl::StatusOr<std::string> target = chat.target(example.completion);
  if (!target.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("example '", example.id, "': completion: ", target.status().message()));
  }
  TokenSequence s;
  s.prompt = tokenizer.encode_prompt(chat.render(example.prompt));
  s.response = tokenizer.encode(*target);
  s.response.push_back(tokenizer.eos_id());
  return s;
}

std::vector<std::vector<int64_t>> micro_batches(const std::vector<TokenSequence>& sequences,
                                                const std::vector<int64_t>& rows,
                                                int max_sequences) {
  std::vector<int64_t> sorted = rows;
  std::stable_sort(sorted.begin(), sorted.end(), [&](int64_t a, int64_t b) {
    return sequence_length(sequences[a]) < sequence_length(sequences[b]);
  });
  std::vector<std::vector<int64_t>> out;
  const size_t step = static_cast<size_t>(std::max(1, max_sequences));
  for (size_t start = 0; start < sorted.size(); start += step) {
    out.emplace_back(sorted.begin() + start,
                     sorted.begin() + std::min(sorted.size(), start + step));
  }
  return out;
}

PackedBatch sft_micro_batch(const std::vector<TokenSequence>& sequences,
                            const std::vector<int64_t>& rows, int pack_tokens, int32_t pad_id) {
  std::vector<const TokenSequence*> picked;
  for (int64_t r : rows) picked.push_back(&sequences[r]);
  return pack_tokens > 0 ? pack_documents(picked, pack_tokens, pad_id)
                         : pack_sequences(picked, pad_id);
}

at::Tensor sft_loss_sum(const at::Tensor& logits, const PackedBatch& batch) {
  const at::Device device = logits.device();
  const int64_t vocab = logits.size(2);
  const at::Tensor index =
      batch.logit_index.to(device).unsqueeze(-1).expand({-1, -1, vocab});  // [n, C, V]
  const at::Tensor picked = logits.gather(1, index);                       // [n, C, V]
  const at::Tensor mask = batch.response_mask.to(device);                  // [n, C]
  const at::Tensor log_probs =
      policy::token_log_probs(picked, batch.response_ids.to(device), mask);  // [n, C] fp32
  return -log_probs.sum();
}

int64_t response_tokens(const PackedBatch& batch) {
  return static_cast<int64_t>(batch.response_mask.sum().item<double>());
}

}  // namespace forge::rl
