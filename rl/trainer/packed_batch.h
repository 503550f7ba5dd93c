// Prompt + response sequences packed into right-padded tensors for scoring and training, with the
// index of the logit that predicts each response token (a row's response starts after its own
// prompt, so the offsets differ per row). pack_sequences puts one sequence in each row (for
// policy::Model::forward); pack_documents puts several in a row (for Model::forward_packed).
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/ATen.h>

namespace forge::rl {

struct TokenSequence {
  std::vector<int32_t> prompt;    // non-empty
  std::vector<int32_t> response;  // may be empty (then it contributes nothing)
};

// Prompt + response tokens.
int64_t sequence_length(const TokenSequence& s);

struct PackedBatch {
  at::Tensor input_ids;       // [n, T] int64: prompt ++ response, right-padded with pad_id
  at::Tensor attention_mask;  // [n, T] int64: the token's document number in its row (1, 2, ...;
                              // always 1 from pack_sequences), 0 for padding
  at::Tensor logit_index;     // [n, C] int64: position whose logits predict response token j
  at::Tensor response_ids;    // [n, C] int64: response tokens (pad_id past each end)
  at::Tensor response_mask;   // [n, C] fp32: 1 for real response tokens
};

// One sequence per row, in order. T = the longest prompt + response, C = the longest response
// (at least 1).
PackedBatch pack_sequences(const std::vector<const TokenSequence*>& sequences, int32_t pad_id);

// Several sequences per row: first fit by decreasing length into rows of at most `row_tokens`
// tokens (a longer sequence gets a row of its own). A row's response columns are its documents'
// responses one after another; T = the fullest row, C = the most response tokens in a row.
PackedBatch pack_documents(const std::vector<const TokenSequence*>& sequences, int64_t row_tokens,
                           int32_t pad_id);

// Rows of a [N, C] tensor for `rows`, padded or cut to `columns` columns with `fill`.
at::Tensor gather_rows(const at::Tensor& values, const std::vector<int64_t>& rows, int64_t columns,
                       double fill = 0.0);

}  // namespace forge::rl
