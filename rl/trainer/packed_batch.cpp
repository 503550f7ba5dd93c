#include "rl/trainer/packed_batch.h"

#include <algorithm>

namespace forge::rl {

PackedBatch pack_sequences(const std::vector<const TokenSequence*>& sequences, int32_t pad_id) {
  const int64_t n = static_cast<int64_t>(sequences.size());
  int64_t t = 1, c = 1;
  for (const TokenSequence* s : sequences) {
    TORCH_CHECK(!s->prompt.empty(), "pack_sequences: empty prompt");
    t = std::max<int64_t>(t, static_cast<int64_t>(s->prompt.size() + s->response.size()));
    c = std::max<int64_t>(c, static_cast<int64_t>(s->response.size()));
  }
  PackedBatch b;
  b.input_ids = at::full({n, t}, pad_id, at::kLong);        // [n, T]
  b.attention_mask = at::zeros({n, t}, at::kLong);         // [n, T]
  b.logit_index = at::zeros({n, c}, at::kLong);            // [n, C]
  b.response_ids = at::full({n, c}, pad_id, at::kLong);    // [n, C]
  b.response_mask = at::zeros({n, c}, at::kFloat);         // [n, C]
  auto ids = b.input_ids.accessor<int64_t, 2>();
  auto attn = b.attention_mask.accessor<int64_t, 2>();
  auto index = b.logit_index.accessor<int64_t, 2>();
  auto rids = b.response_ids.accessor<int64_t, 2>();
  auto rmask = b.response_mask.accessor<float, 2>();
  for (int64_t i = 0; i < n; ++i) {
    const TokenSequence& s = *sequences[i];
    const int64_t p = static_cast<int64_t>(s.prompt.size());
    const int64_t r = static_cast<int64_t>(s.response.size());
    for (int64_t k = 0; k < p; ++k) ids[i][k] = s.prompt[k];
    for (int64_t k = 0; k < r; ++k) ids[i][p + k] = s.response[k];
    for (int64_t k = 0; k < p + r; ++k) attn[i][k] = 1;
    for (int64_t j = 0; j < c; ++j) {
      index[i][j] = std::min(p - 1 + j, t - 1);
      if (j < r) {
        rids[i][j] = s.response[j];
        rmask[i][j] = 1.0f;
      }
    }
  }
  return b;
}

at::Tensor gather_rows(const at::Tensor& values, const std::vector<int64_t>& rows, int64_t columns,
                       double fill) {
  const at::Tensor picked = values.index_select(0, at::tensor(rows, at::kLong));  // [n, C0]
  const int64_t have = picked.size(1);
  if (have == columns) return picked;
  if (have > columns) return picked.narrow(1, 0, columns);
  at::Tensor out = at::full({picked.size(0), columns}, fill, picked.options());  // [n, C]
  out.narrow(1, 0, have).copy_(picked);
  return out;
}

}  // namespace forge::rl
