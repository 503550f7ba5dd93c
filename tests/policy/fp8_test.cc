// DeepSeek-V3's FP8 weights: e4m3fn codes decode to the values of the OCP FP8 specification, and
// block-scaled dequantization applies each 128x128 (here smaller) block's scale, partial edge
// blocks included. Loading checks the scales' presence and shape. (End to end against an
// independent decoder: hf_families_test.cc's deepseek_v3 case.)
#include "policy/fp8.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "policy/checkpoint.h"
#include "policy/safetensors.h"
#include "tests/common/temp_dir.h"
#include "tests/policy/test_util.h"

namespace forge::policy {
namespace {

TEST(Fp8, E4m3CodesDecodeToTheSpecificationsValues) {
  EXPECT_EQ(fp8_e4m3_value(0x00), 0.0f);
  EXPECT_TRUE(std::signbit(fp8_e4m3_value(0x80)));
  EXPECT_EQ(fp8_e4m3_value(0x38), 1.0f);          // exponent 7 = bias
  EXPECT_EQ(fp8_e4m3_value(0x3C), 1.5f);
  EXPECT_EQ(fp8_e4m3_value(0x30), 0.5f);
  EXPECT_EQ(fp8_e4m3_value(0x40), 2.0f);
  EXPECT_EQ(fp8_e4m3_value(0xC0), -2.0f);
  EXPECT_EQ(fp8_e4m3_value(0x7E), 448.0f);        // the largest finite value
  EXPECT_EQ(fp8_e4m3_value(0xFE), -448.0f);
  EXPECT_EQ(fp8_e4m3_value(0x08), std::ldexp(1.0f, -6));   // smallest normal
  EXPECT_EQ(fp8_e4m3_value(0x01), std::ldexp(1.0f, -9));   // smallest subnormal
  EXPECT_EQ(fp8_e4m3_value(0x07), 0.875f * std::ldexp(1.0f, -6));
  EXPECT_TRUE(std::isnan(fp8_e4m3_value(0x7F)));
  EXPECT_TRUE(std::isnan(fp8_e4m3_value(0xFF)));
  EXPECT_EQ(fp8_e4m3_value(0x78), 256.0f);        // no infinities: S.1111.000 is finite
}

TEST(Fp8, BlockScalesApplyPerBlockIncludingPartialEdges) {
  // [5, 7] in 2x3 blocks: scales [3, 3], the last block row and column partial.
  at::Tensor codes = at::empty({5, 7}, at::kByte);
  for (int i = 0; i < 35; ++i) codes.view(-1)[i] = static_cast<uint8_t>((i * 37 + 11) % 126);
  at::Tensor scale = at::arange(1, 10, at::kFloat).view({3, 3}) * 0.25f;
  at::Tensor out = at::empty({5, 7}, at::kDouble);
  ASSERT_TRUE(dequantize_fp8_blocks(codes, scale, 2, 3, out).ok());
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 7; ++j) {
      const float want = fp8_e4m3_value(codes[i][j].item<uint8_t>()) * scale[i / 2][j / 3].item<float>();
      EXPECT_EQ(out[i][j].item<double>(), static_cast<double>(want)) << i << "," << j;
    }
  }
  at::Tensor bad_scale = at::ones({2, 3});
  absl::Status st = dequantize_fp8_blocks(codes, bad_scale, 2, 3, out);
  EXPECT_NE(st.message().find("[3, 3]"), std::string::npos) << st;
}

// A safetensors file whose uint8 tensors are declared F8_E4M3 (write_safetensors has no fp8 dtype).
void write_with_fp8(const std::string& path,
                    const std::vector<std::pair<std::string, at::Tensor>>& tensors) {
  nlohmann::json header = nlohmann::json::object();
  std::string data;
  for (const auto& [name, t] : tensors) {
    at::Tensor c = t.contiguous();
    const bool fp8 = c.scalar_type() == at::kByte;
    const size_t bytes = c.numel() * c.element_size();
    header[name] = {{"dtype", fp8 ? "F8_E4M3" : "F32"},
                    {"shape", c.sizes().vec()},
                    {"data_offsets", {data.size(), data.size() + bytes}}};
    data.append(static_cast<const char*>(c.data_ptr()), bytes);
  }
  std::string head = header.dump();
  head.append((8 - head.size() % 8) % 8, ' ');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>(static_cast<uint64_t>(head.size()) >> (8 * i)));
  out << head << data;
}

TEST(Fp8, LoadingNeedsEachWeightsScalesAndDequantizes) {
  test_support::TempDir tmp("forge_fp8");
  ModelConfig c = testing::micro_config();
  c.quantization = Fp8Quantization{8, 8};
  Model model(c, 1);
  auto tensors = model->named_tensors();
  const std::string target = "model.layers.0.self_attn.kv_b_proj.weight";  // [2*(8+8), 8]
  std::vector<std::pair<std::string, at::Tensor>> stored;
  at::Tensor codes = at::full({32, 8}, 0x38, at::kByte);  // 1.0 everywhere
  for (auto& [name, t] : tensors) {
    if (name == target) {
      stored.emplace_back(name, codes);
    } else {
      stored.emplace_back(name, t);
    }
  }
  const std::string dir = (tmp.path() / "ckpt").string();
  std::filesystem::create_directories(dir);
  auto write = [&](const std::vector<std::pair<std::string, at::Tensor>>& t) {
    write_with_fp8(dir + "/model.safetensors", t);
  };
  write(stored);
  absl::Status st = load_weights(*model, dir);
  EXPECT_NE(st.message().find("1 missing ('" + target + "_scale_inv')"), std::string::npos) << st;

  stored.emplace_back(target + "_scale_inv", at::tensor({0.5f, 2.0f, 4.0f, 8.0f}).view({4, 1}));
  write(stored);
  ASSERT_TRUE(load_weights(*model, dir).ok());
  at::Tensor w;
  for (auto& [name, t] : model->named_tensors()) {
    if (name == target) w = t;
  }
  for (int b = 0; b < 4; ++b) {
    EXPECT_TRUE(at::all(w.narrow(0, 8 * b, 8).eq(std::vector<float>{0.5f, 2.0f, 4.0f, 8.0f}[b]))
                    .item<bool>()) << b;
  }
}

}  // namespace
}  // namespace forge::policy
