// The latent KV cache: capacity from the byte budget, slot bookkeeping, and absorbed-MLA decoding
// over it that equals the full naive forward, for slots of different lengths joining and leaving.
#include "policy/kv_cache.h"

#include <gtest/gtest.h>

#include "policy/model.h"
#include "tests/policy/test_util.h"

namespace forge::policy {
namespace {

using testing::max_abs_diff;
using testing::micro_config;
using testing::randint;
using testing::tiny_config;

// fp32 tolerance between cached absorbed decoding and the naive full forward, on logits of
// magnitude ~1-10.
constexpr double kTol = 1e-4;

KvCache make_cache(const ModelConfig& c, int64_t budget, int max_seq_len = 0) {
  KvCache::Options o;
  o.budget_bytes = budget;
  o.max_seq_len = max_seq_len;
  auto cache = KvCache::create(c, o);
  EXPECT_TRUE(cache.ok()) << cache.status();
  return std::move(*cache);
}

TEST(KvCache, CapacityComesFromTheByteBudget) {
  ModelConfig c = tiny_config();
  const int64_t per_token = c.num_hidden_layers * (c.kv_lora_rank + c.qk_rope_head_dim) * 4;
  KvCache cache = make_cache(c, per_token * 100 * 3 + per_token * 50, 100);
  EXPECT_EQ(cache.bytes_per_token(), per_token);
  EXPECT_EQ(cache.bytes_per_slot(), per_token * 100);
  EXPECT_EQ(cache.capacity(), 3);
  EXPECT_EQ(cache.num_free(), 3);
  EXPECT_EQ(*cache.alloc(), 0);
  EXPECT_EQ(*cache.alloc(), 1);
  EXPECT_EQ(*cache.alloc(), 2);
  EXPECT_FALSE(cache.alloc().has_value());
  cache.free(1);
  EXPECT_EQ(cache.num_free(), 1);
  EXPECT_EQ(*cache.alloc(), 1);
  EXPECT_EQ(cache.length(1), 0);
  EXPECT_THROW(cache.free(7), c10::Error);

  KvCache::Options tiny_budget;
  tiny_budget.budget_bytes = per_token;  // less than one slot of max_position_embeddings tokens
  auto bad = KvCache::create(c, tiny_budget);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("budget_bytes"), std::string::npos) << bad.status();
}

// Full-forward logits of one sequence, [T, V].
at::Tensor full_logits(Model& model, const std::vector<int64_t>& ids) {
  return model->forward(at::tensor(ids, at::kLong).unsqueeze(0)).logits[0];
}

TEST(KvCache, CachedDecodingEqualsFullForwardAsSequencesJoinAndLeave) {
  ModelConfig c = tiny_config();
  Model model(c, 21);
  model->eval();
  KvCache cache = make_cache(c, int64_t{4} << 20, 64);
  ASSERT_GE(cache.capacity(), 3);

  // Three sequences: A and B start together, C joins later, B leaves early.
  std::vector<std::vector<int64_t>> seq(3);
  for (int i = 0; i < 3; ++i) {
    at::Tensor r = randint(256, {40}, 30 + i);
    seq[i].assign(r.data_ptr<int64_t>(), r.data_ptr<int64_t>() + 40);
  }
  const std::vector<int64_t> prompt_len = {7, 3, 12};
  std::vector<int> slot(3, -1);
  std::vector<int64_t> pos(3, 0);  // tokens in each slot
  double worst = 0;
  auto check = [&](int i, const at::Tensor& logits) {
    at::Tensor want = full_logits(model, std::vector<int64_t>(seq[i].begin(), seq[i].begin() + pos[i]));
    worst = std::max(worst, max_abs_diff(logits, want[pos[i] - 1]));
  };

  // Prefill A and B together (padded batch).
  slot[0] = *cache.alloc();
  slot[1] = *cache.alloc();
  at::Tensor ids = at::zeros({2, 7}, at::kLong), mask = at::zeros({2, 7}, at::kLong);
  for (int i = 0; i < 2; ++i) {
    for (int64_t p = 0; p < prompt_len[i]; ++p) {
      ids[i][p] = seq[i][p];
      mask[i][p] = 1;
    }
    pos[i] = prompt_len[i];
  }
  at::Tensor first = model->prefill(cache, ids, mask, {slot[0], slot[1]});
  check(0, first[0]);
  check(1, first[1]);
  EXPECT_EQ(cache.length(slot[0]), 7);
  EXPECT_EQ(cache.length(slot[1]), 3);

  auto step = [&](const std::vector<int>& who) {
    std::vector<int64_t> tokens;
    std::vector<int> slots;
    for (int i : who) {
      tokens.push_back(seq[i][pos[i]]);
      slots.push_back(slot[i]);
    }
    at::Tensor logits = model->decode_step(cache, at::tensor(tokens, at::kLong), slots);
    for (size_t k = 0; k < who.size(); ++k) {
      ++pos[who[k]];
      check(who[k], logits[k]);
    }
  };
  for (int s = 0; s < 5; ++s) step({0, 1});
  // C joins.
  slot[2] = *cache.alloc();
  at::Tensor c_ids = at::tensor(std::vector<int64_t>(seq[2].begin(), seq[2].begin() + 12), at::kLong);
  pos[2] = 12;
  check(2, model->prefill(cache, c_ids.unsqueeze(0), at::Tensor(), {slot[2]})[0]);
  for (int s = 0; s < 4; ++s) step({0, 1, 2});
  // B leaves; the others continue in another order.
  cache.free(slot[1]);
  for (int s = 0; s < 6; ++s) step({2, 0});
  EXPECT_EQ(cache.length(slot[0]), 7 + 5 + 4 + 6);
  EXPECT_LT(worst, kTol);

  // B's slot is reused by a new sequence, which must not see B's stale latents.
  const int reused = *cache.alloc();
  EXPECT_EQ(reused, slot[1]);
  slot[1] = reused;
  pos[1] = 2;
  check(1, model->prefill(cache, at::tensor({seq[1][0], seq[1][1]}, at::kLong).unsqueeze(0),
                          at::Tensor(), {reused})[0]);
  for (int s = 0; s < 3; ++s) step({1, 0});
  EXPECT_LT(worst, kTol);
}

TEST(KvCache, ASequenceDecodesTheSameAloneOrInABatch) {
  ModelConfig c = micro_config();
  Model model(c, 4);
  KvCache cache = make_cache(c, int64_t{1} << 20, 32);
  const int a = *cache.alloc(), b = *cache.alloc(), solo = *cache.alloc();
  at::Tensor pa = randint(c.vocab_size, {1, 5}, 1), pb = randint(c.vocab_size, {1, 11}, 2);
  model->prefill(cache, pa, at::Tensor(), {a});
  model->prefill(cache, pb, at::Tensor(), {b});
  model->prefill(cache, pa, at::Tensor(), {solo});
  double worst = 0;
  for (int s = 0; s < 6; ++s) {
    at::Tensor tok = randint(c.vocab_size, {2}, 100 + s);
    at::Tensor together = model->decode_step(cache, tok, {a, b});
    at::Tensor alone = model->decode_step(cache, tok.narrow(0, 0, 1), {solo});
    worst = std::max(worst, max_abs_diff(together[0], alone[0]));
  }
  EXPECT_LT(worst, 1e-5);
}

TEST(KvCache, MisuseIsReported) {
  ModelConfig c = micro_config();
  Model model(c, 4);
  KvCache cache = make_cache(c, int64_t{1} << 20, 8);
  const int s = *cache.alloc();
  model->prefill(cache, randint(c.vocab_size, {1, 8}, 1), at::Tensor(), {s});
  EXPECT_THROW(model->decode_step(cache, at::tensor({1}, at::kLong), {s}), c10::Error);  // full
  EXPECT_THROW(model->prefill(cache, randint(c.vocab_size, {1, 2}, 1), at::Tensor(), {s}),
               c10::Error);  // not empty
  EXPECT_THROW(model->decode_step(cache, at::tensor({1}, at::kLong), {s + 1}), c10::Error);  // free
}

}  // namespace
}  // namespace forge::policy
