// SFT's data path, from a dataset example to the loss:
//   make_sft_sequence: prompt = encode_prompt(template.render(prompt)) (exactly what rollout
//     workers and the GRPO trainer feed the policy), response = encode(template.target(completion))
//     + [eos], so the model learns to stop;
//   micro_batches: sequences sorted by length and cut into groups of at most `max_sequences`;
//   sft_micro_batch: a group laid out for policy::Model::forward_packed, several examples to a
//     row (sft.pack_tokens > 0, rl::pack_documents) or one per row (rl::pack_sequences);
//   sft_loss_sum: the summed cross-entropy of the response tokens only.
//
// Packing: each packed example gets positions from 0 and attends only to itself (forward_packed's
// document mask), so packing changes the layout, not the loss: the same batch gives the same loss
// and gradients packed or not, up to float rounding.
//
// Masking: the loss reads the logits at PackedBatch::logit_index (the position before each
// response token) against response_ids, weighted by response_mask; prompt and padding positions
// are never read, so they get neither loss nor gradient.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "absl/status/statusor.h"
#include "policy/tokenizer.h"
#include "rl/data/chat_template.h"
#include "rl/data/dataset.h"
#include "rl/trainer/packed_batch.h"

namespace forge::rl {

// InvalidArgument naming the example's id when it has no completion or the completion does not
// start with the template's response prefix ("<think>" for r1).
absl::StatusOr<TokenSequence> make_sft_sequence(const Example& example, const ChatTemplate& chat,
                                                const policy::Tokenizer& tokenizer);

// Indices into `sequences`, sorted by total length (stable), cut into groups of at most
// `max_sequences` (> 0).
std::vector<std::vector<int64_t>> micro_batches(const std::vector<TokenSequence>& sequences,
                                                const std::vector<int64_t>& rows,
                                                int max_sequences);

// sequences[rows] as one micro-batch: pack_documents into rows of `pack_tokens` tokens when
// pack_tokens > 0, else pack_sequences. Feed it to Model::forward_packed(input_ids, attention_mask).
PackedBatch sft_micro_batch(const std::vector<TokenSequence>& sequences,
                            const std::vector<int64_t>& rows, int pack_tokens, int32_t pad_id);

// logits [n, T, V] (any float dtype) of batch.input_ids -> scalar fp32: the sum over real response
// tokens of -log softmax(logits[i, logit_index[i, j]])[response_ids[i, j]]. Differentiable.
at::Tensor sft_loss_sum(const at::Tensor& logits, const PackedBatch& batch);

// Number of real response tokens in `batch` (the denominator of a token-mean loss).
int64_t response_tokens(const PackedBatch& batch);

}  // namespace forge::rl
