// Run configs: good files load, unknown keys and wrong types are errors naming the key and the file
// line, and command-line overrides win.
#include "rl/config/run_config.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "tests/common/temp_dir.h"

namespace forge::rl {
namespace {

namespace fs = std::filesystem;

class ConfigTest : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    return tmp_.write(name, text);
  }

  static std::string message(const absl::StatusOr<RunConfig>& c) {
    return std::string(c.status().message());
  }

  test_support::TempDir tmp_{"forge_config_test"};
  const fs::path& dir_ = tmp_.path();
};

TEST_F(ConfigTest, GoodFileLoadsWithDefaultsForMissingKeys) {
  const std::string path = write("good.yaml", R"(
run:
  dir: out
  seed: 7
trainer:
  total_steps: 12
  lr: 3.0e-5
reward:
  weights: {math: 1.0, format: 0.25}
rollout:
  addresses: [127.0.0.1:5001, 127.0.0.1:5002]
model:
  config: models/tiny.json
  num_hidden_layers: 2
)");
  auto c = RunConfig::load(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->run.seed, 7);
  EXPECT_EQ(c->trainer.total_steps, 12);
  EXPECT_DOUBLE_EQ(c->trainer.lr, 3e-5);
  EXPECT_DOUBLE_EQ(c->reward.weights.at("format"), 0.25);
  EXPECT_EQ(c->rollout.addresses.size(), 2u);
  EXPECT_EQ(c->trainer.batch_size, TrainerSection{}.batch_size);  // default kept
  // Relative paths in a file resolve against the file's folder.
  EXPECT_EQ(c->run.dir, (dir_ / "out").string());
  EXPECT_EQ(c->model.config, (dir_ / "models/tiny.json").string());
  // Hugging Face keys in the model section are kept as overrides.
  EXPECT_EQ(c->model.overrides.at("num_hidden_layers"), 2);
}

TEST_F(ConfigTest, EveryShippedConfigLoads) {
  int seen = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(FORGE_SOURCE_DIR) / "configs")) {
    if (entry.path().extension() != ".yaml") continue;
    ++seen;
    auto c = RunConfig::load(entry.path().string());
    EXPECT_TRUE(c.ok()) << entry.path() << ": " << c.status();
  }
  EXPECT_GT(seen, 0);
}

TEST_F(ConfigTest, UnknownKeyNamesKeyFileAndLine) {
  const std::string path = write("typo.yaml", "trainer:\n  total_steps: 3\n  totl_steps: 4\n");
  auto c = RunConfig::load(path);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(message(c).find("trainer.totl_steps"), std::string::npos) << message(c);
  EXPECT_NE(message(c).find("unknown key"), std::string::npos) << message(c);
  EXPECT_NE(message(c).find(path + ":3"), std::string::npos) << message(c);
}

TEST_F(ConfigTest, UnknownSectionIsAnError) {
  auto c = RunConfig::load(write("sect.yaml", "trainr:\n  total_steps: 3\n"));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(message(c).find("trainr"), std::string::npos) << message(c);
}

TEST_F(ConfigTest, UnknownModelKeyIsAnError) {
  auto c = RunConfig::load(write("model.yaml", "model:\n  hiden_size: 64\n"));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(message(c).find("model.hiden_size"), std::string::npos) << message(c);
}

TEST_F(ConfigTest, WrongTypesNameKeyAndLine) {
  struct Case {
    std::string yaml;
    std::string key;
    int line;
  };
  const std::vector<Case> cases = {
      {"trainer:\n  total_steps: many\n", "trainer.total_steps", 2},
      {"trainer:\n  total_steps: 2.5\n", "trainer.total_steps", 2},
      {"trainer:\n  lr: fast\n", "trainer.lr", 2},
      {"data:\n  shuffle: maybe\n", "data.shuffle", 2},
      {"rollout:\n  addresses: 127.0.0.1:1\n", "rollout.addresses", 2},
      {"reward:\n  weights: {math: lots}\n", "reward.weights.math", 2},
      {"run:\n  device: tpu\n", "run.device", 2},
      {"run: 3\n", "run", 1},
  };
  for (const Case& k : cases) {
    const std::string path = write("type.yaml", k.yaml);
    auto c = RunConfig::load(path);
    ASSERT_FALSE(c.ok()) << k.yaml;
    EXPECT_NE(message(c).find(k.key + ":"), std::string::npos) << message(c);
    EXPECT_NE(message(c).find(path + ":" + std::to_string(k.line)), std::string::npos)
        << message(c);
  }
}

TEST_F(ConfigTest, RangeErrorsNameTheKey) {
  auto c = RunConfig::load(write("range.yaml", "rollout:\n  top_p: 1.5\n"));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(message(c).find("rollout.top_p"), std::string::npos) << message(c);
}

TEST_F(ConfigTest, YamlSyntaxErrorNamesTheLine) {
  const std::string path = write("syntax.yaml", "trainer:\n  total_steps: [1, 2\n");
  auto c = RunConfig::load(path);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(message(c).find(path + ":"), std::string::npos) << message(c);
}

TEST_F(ConfigTest, OverridesWinAndAreTyped) {
  const std::string path = write("base.yaml", "trainer:\n  total_steps: 100\nrun:\n  dir: a\n");
  auto c = RunConfig::load(path, {"trainer.total_steps=3", "run.dir=runs/x",
                                  "trainer.save_every=1", "reward.weights={math: 2}",
                                  "rollout.stop=[\"</answer>\"]", "model.num_hidden_layers=2"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->trainer.total_steps, 3);
  EXPECT_EQ(c->trainer.save_every, 1);
  EXPECT_EQ(c->run.dir, "runs/x");  // relative to the working directory, not the file
  EXPECT_DOUBLE_EQ(c->reward.weights.at("math"), 2.0);
  ASSERT_EQ(c->rollout.stop.size(), 1u);
  EXPECT_EQ(c->rollout.stop[0], "</answer>");
  EXPECT_EQ(c->model.overrides.at("num_hidden_layers"), 2);
}

TEST_F(ConfigTest, BadOverridesAreErrorsNamingThem) {
  const std::string path = write("base.yaml", "trainer:\n  total_steps: 100\n");
  auto unknown = RunConfig::load(path, {"trainer.totl_steps=3"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(message(unknown).find("trainer.totl_steps"), std::string::npos) << message(unknown);
  EXPECT_NE(message(unknown).find("command-line override"), std::string::npos);

  auto typed = RunConfig::load(path, {"trainer.total_steps=abc"});
  ASSERT_FALSE(typed.ok());
  EXPECT_NE(message(typed).find("trainer.total_steps"), std::string::npos) << message(typed);
  EXPECT_NE(message(typed).find("command-line override"), std::string::npos);

  auto shape = RunConfig::load(path, {"trainer.total_steps.x=1"});
  ASSERT_FALSE(shape.ok());
  EXPECT_NE(message(shape).find("trainer.total_steps"), std::string::npos) << message(shape);

  auto form = RunConfig::load(path, {"trainer.total_steps"});
  ASSERT_FALSE(form.ok());
  EXPECT_NE(message(form).find("key=value"), std::string::npos) << message(form);
}

TEST_F(ConfigTest, MissingFileIsAnErrorNamingIt) {
  auto c = RunConfig::load((dir_ / "nope.yaml").string());
  ASSERT_FALSE(c.ok());
  EXPECT_NE(message(c).find("nope.yaml"), std::string::npos);
}

TEST_F(ConfigTest, ResolvedConfigRoundTrips) {
  const std::string path = write("rt.yaml", R"(
trainer: {total_steps: 5, lr: 0.001}
reward: {weights: {math: 1, format: 0.5}}
rollout: {stop: ["</answer>"], addresses: []}
model: {config: m.json, num_hidden_layers: 2, rope_scaling: {type: yarn, factor: 4}}
)");
  auto first = RunConfig::load(path);
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string again_path = write("again.yaml", first->to_yaml());
  auto second = RunConfig::load(again_path);
  ASSERT_TRUE(second.ok()) << second.status() << "\n" << first->to_yaml();
  EXPECT_EQ(second->to_yaml(), first->to_yaml());
  EXPECT_EQ(second->model.overrides, first->model.overrides);
  EXPECT_EQ(second->model.config, first->model.config);
}

}  // namespace
}  // namespace forge::rl
