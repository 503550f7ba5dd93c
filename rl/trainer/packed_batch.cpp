#include "rl/trainer/packed_batch.h"

#include <algorithm>

namespace forge::rl {

int64_t sequence_length(const TokenSequence& s) {
  return static_cast<int64_t>(s.prompt.size() + s.response.size());
}

namespace {

// rows[i] lists the sequences of row i, laid out one after another.
PackedBatch pack_rows(const std::vector<const TokenSequence*>& sequences,
                      const std::vector<std::vector<size_t>>& rows, int32_t pad_id) {
  const int64_t n = static_cast<int64_t>(rows.size());
  int64_t t = 1, c = 1;
  for (const std::vector<size_t>& row : rows) {
    int64_t tokens = 0, responses = 0;
    for (size_t s : row) {
      TORCH_CHECK(!sequences[s]->prompt.empty(), "pack_sequences: empty prompt");
      tokens += sequence_length(*sequences[s]);
      responses += static_cast<int64_t>(sequences[s]->response.size());
    }
    t = std::max(t, tokens);
    c = std::max(c, responses);
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
    int64_t offset = 0, column = 0;
    int64_t base = 0;  // column j of the row's last document is predicted at position base - 1 + j
    for (size_t d = 0; d < rows[i].size(); ++d) {
      const TokenSequence& s = *sequences[rows[i][d]];
      const int64_t p = static_cast<int64_t>(s.prompt.size());
      const int64_t r = static_cast<int64_t>(s.response.size());
      for (int64_t k = 0; k < p; ++k) ids[i][offset + k] = s.prompt[k];
      for (int64_t k = 0; k < r; ++k) ids[i][offset + p + k] = s.response[k];
      for (int64_t k = 0; k < p + r; ++k) attn[i][offset + k] = static_cast<int64_t>(d + 1);
      base = offset + p - column;
      for (int64_t j = 0; j < r; ++j, ++column) {
        index[i][column] = offset + p - 1 + j;
        rids[i][column] = s.response[j];
        rmask[i][column] = 1.0f;
      }
      offset += p + r;
    }
    // Padding columns continue the last document's indices (never read: their mask is 0).
    for (; column < c; ++column) index[i][column] = std::min(base - 1 + column, t - 1);
  }
  return b;
}

}  // namespace

PackedBatch pack_sequences(const std::vector<const TokenSequence*>& sequences, int32_t pad_id) {
  std::vector<std::vector<size_t>> rows(sequences.size());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = {i};
  return pack_rows(sequences, rows, pad_id);
}

PackedBatch pack_documents(const std::vector<const TokenSequence*>& sequences, int64_t row_tokens,
                           int32_t pad_id) {
  std::vector<size_t> order(sequences.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return sequence_length(*sequences[a]) > sequence_length(*sequences[b]);
  });
  std::vector<std::vector<size_t>> rows;
  std::vector<int64_t> free;  // tokens left in each row
  for (size_t s : order) {
    const int64_t len = sequence_length(*sequences[s]);
    size_t r = 0;
    while (r < rows.size() && free[r] < len) ++r;
    if (r == rows.size()) {
      rows.emplace_back();
      free.push_back(row_tokens);
    }
    rows[r].push_back(s);
    free[r] -= len;
  }
  return pack_rows(sequences, rows, pad_id);
}

at::Tensor gather_rows(const at::Tensor& values, const std::vector<int64_t>& rows, int64_t columns,
                       double fill) {
  const at::Tensor index = at::tensor(rows, at::kLong).to(values.device());
  const at::Tensor picked = values.index_select(0, index);  // [n, C0]
  const int64_t have = picked.size(1);
  if (have == columns) return picked;
  if (have > columns) return picked.narrow(1, 0, columns);
  at::Tensor out = at::full({picked.size(0), columns}, fill, picked.options());  // [n, C]
  out.narrow(1, 0, have).copy_(picked);
  return out;
}

}  // namespace forge::rl
