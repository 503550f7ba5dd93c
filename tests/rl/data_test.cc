// Datasets, chat templates and the prompt source: JSONL loading (errors name file:line), the r1
// template's shape, and a prompt order that is seeded, epoch-complete and restorable exactly.
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include "rl/config/run_config.h"
#include "rl/data/chat_template.h"
#include "rl/data/dataset.h"
#include "rl/data/prompt_source.h"
#include "tests/common/temp_dir.h"

namespace forge::rl {
namespace {

namespace fs = std::filesystem;

class DataTest : public ::testing::Test {
 protected:
  std::string write(const std::string& name, const std::string& text) {
    return tmp_.write(name, text);
  }

  test_support::TempDir tmp_{"forge_data_test"};
  const fs::path& dir_ = tmp_.path();
};

std::vector<Example> numbered_examples(int n) {
  std::vector<Example> v;
  for (int i = 0; i < n; ++i) {
    Example e;
    e.id = std::to_string(i);
    e.prompt = "p" + std::to_string(i);
    e.answer = std::to_string(i);
    v.push_back(e);
  }
  return v;
}

std::vector<std::string> ids(const std::vector<SourcedPrompt>& batch) {
  std::vector<std::string> out;
  for (const SourcedPrompt& p : batch) out.push_back(p.example.id);
  return out;
}

PromptSource make_source(int n, uint64_t seed, bool shuffle = true) {
  auto chat = ChatTemplate::create("r1");
  EXPECT_TRUE(chat.ok());
  auto source = PromptSource::create(numbered_examples(n), *chat, seed, shuffle);
  EXPECT_TRUE(source.ok()) << source.status();
  return std::move(source).value();
}

TEST_F(DataTest, LoadsEveryFieldWithDefaults) {
  const std::string path = write("d.jsonl",
                                 R"({"prompt": "1+1", "answer": "2"})"
                                 "\n\n"
                                 R"({"id": "x7", "prompt": "2*3", "answer": 6, "rule": "math", )"
                                 R"("completion": "<think>2*3=6.</think><answer>6</answer>", "level": 3})"
                                 "\n"
                                 R"j({"prompt": "def f():", "tests": {"kind": "asserts", "asserts": ["f()"]}, "rule": "code"})j"
                                 "\n");
  auto examples = load_jsonl(path);
  ASSERT_TRUE(examples.ok()) << examples.status();
  ASSERT_EQ(examples->size(), 3u);
  const Example& a = (*examples)[0];
  EXPECT_EQ(a.id, "1");  // the line number
  EXPECT_EQ(a.prompt, "1+1");
  EXPECT_EQ(a.answer, "2");
  EXPECT_EQ(a.rule, "math");
  EXPECT_TRUE(a.completion.empty());
  EXPECT_TRUE(a.tests.is_null());
  const Example& b = (*examples)[1];
  EXPECT_EQ(b.id, "x7");
  EXPECT_EQ(b.answer, "6");  // a number answer becomes its text
  EXPECT_EQ(b.completion, "<think>2*3=6.</think><answer>6</answer>");
  EXPECT_EQ(b.meta.at("level"), 3);  // unknown fields are kept
  const Example& c = (*examples)[2];
  EXPECT_EQ(c.id, "4");  // the blank line still counts
  EXPECT_EQ(c.rule, "code");
  EXPECT_EQ(c.tests.at("kind"), "asserts");
}

TEST_F(DataTest, WriteThenLoadRoundTrips) {
  auto examples = parse_jsonl(
      R"({"id": "a", "prompt": "1+1", "answer": "2", "completion": "<think>x</think>", "task": "t"})"
      "\n"
      R"({"id": "b", "prompt": "f", "tests": [1, 2], "rule": "code"})",
      "inline");
  ASSERT_TRUE(examples.ok()) << examples.status();
  const std::string path = (dir_ / "out.jsonl").string();
  ASSERT_TRUE(write_jsonl(path, *examples).ok());
  auto again = load_jsonl(path);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(again->size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(example_to_json((*again)[i]), example_to_json((*examples)[i]));
  }
  EXPECT_EQ((*again)[0].meta.at("task"), "t");
  EXPECT_EQ((*again)[1].tests, nlohmann::json::array({1, 2}));
}

TEST_F(DataTest, BadJsonNamesFileAndLine) {
  const std::string path = write("bad.jsonl",
                                 R"({"prompt": "a", "answer": "1"})"
                                 "\n"
                                 R"({"prompt": "b", "answer": "2"})"
                                 "\n"
                                 R"({"prompt": "c", "answer": )"
                                 "\n");
  auto examples = load_jsonl(path);
  ASSERT_FALSE(examples.ok());
  EXPECT_NE(examples.status().message().find(path + ":3:"), std::string::npos)
      << examples.status();
  EXPECT_NE(examples.status().message().find("not valid JSON"), std::string::npos);
}

TEST_F(DataTest, MissingOrBadFieldsNameFileLineAndField) {
  struct Case {
    std::string line;
    std::string want;
  };
  const std::vector<Case> cases = {
      {R"({"answer": "1"})", "missing 'prompt'"},
      {R"({"prompt": "", "answer": "1"})", "'prompt' is empty"},
      {R"({"prompt": 5, "answer": "1"})", "'prompt' must be a string"},
      {R"({"prompt": "a"})", "needs 'answer' or 'tests'"},
      {R"({"prompt": "a", "answer": [1]})", "'answer' must be a string or a number"},
      {R"({"prompt": "a", "answer": "1", "rule": 3})", "'rule' must be a non-empty string"},
      {R"({"prompt": "a", "answer": "1", "completion": 1})", "'completion' must be a string"},
      {R"({"prompt": "a", "tests": "x"})", "'tests' must be an object or array"},
      {R"([1, 2])", "expected a JSON object"},
  };
  for (const Case& c : cases) {
    const std::string path = write("f.jsonl", R"({"prompt": "ok", "answer": "1"})"
                                              "\n" +
                                                  c.line + "\n");
    auto examples = load_jsonl(path);
    ASSERT_FALSE(examples.ok()) << c.line;
    const std::string msg(examples.status().message());
    EXPECT_NE(msg.find(path + ":2: "), std::string::npos) << msg;
    EXPECT_NE(msg.find(c.want), std::string::npos) << msg;
  }
}

TEST_F(DataTest, MissingAndEmptyFilesAreErrorsNamingThePath) {
  const std::string missing = (dir_ / "nope.jsonl").string();
  auto a = load_jsonl(missing);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find(missing), std::string::npos) << a.status();
  const std::string empty = write("empty.jsonl", "\n\n");
  auto b = load_jsonl(empty);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find(empty), std::string::npos) << b.status();
}

TEST(ChatTemplate, R1AsksForTheTagsAndEndsInsideThinking) {
  auto chat = ChatTemplate::create("r1");
  ASSERT_TRUE(chat.ok());
  const std::string text = chat->render("7+8*3-5");
  EXPECT_NE(text.find("<think></think><answer></answer>"), std::string::npos) << text;
  EXPECT_NE(text.find("User: 7+8*3-5\n"), std::string::npos) << text;
  EXPECT_EQ(text.substr(text.size() - 18), "Assistant: <think>") << text;
  EXPECT_EQ(chat->response_prefix(), "<think>");
  // Byte-level tokens and a 512-token context: the template may cost at most 80 of them.
  EXPECT_LE(text.size() - 7, 80u) << text;

  const std::string response = "<think>8*3=24.</think><answer>26</answer>";
  auto target = chat->target(response);
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(*target, "8*3=24.</think><answer>26</answer>");
  EXPECT_EQ(chat->response(*target), response);
  EXPECT_EQ(text + *target, chat->render("7+8*3-5") + "8*3=24.</think><answer>26</answer>");
  auto bad = chat->target("8*3=24.</think><answer>26</answer>");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("<think>"), std::string::npos);
}

TEST(ChatTemplate, R1CompactDropsTheInstructionAndKeepsTheResponsePrefix) {
  auto chat = ChatTemplate::create("r1-compact");
  ASSERT_TRUE(chat.ok());
  EXPECT_EQ(chat->render("7+8*3-5"), "User: 7+8*3-5\nAssistant: <think>");
  EXPECT_EQ(chat->response_prefix(), "<think>");
  EXPECT_EQ(*chat->target("<think>8*3=24.</think><answer>26</answer>"),
            "8*3=24.</think><answer>26</answer>");
}

TEST(ChatTemplate, PlainIsVerbatimAndUnknownNamesAreErrors) {
  auto plain = ChatTemplate::create("plain");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->render("Q: 1+1 A:"), "Q: 1+1 A:");
  EXPECT_EQ(plain->response_prefix(), "");
  EXPECT_EQ(*plain->target("2"), "2");
  auto bad = ChatTemplate::create("chatml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("chatml"), std::string::npos);
}

TEST(PromptSource, EachEpochVisitsEveryExampleOnceInAShuffledOrder) {
  PromptSource source = make_source(20, 7);
  std::vector<std::string> epoch0 = ids(source.next_batch(20));
  std::vector<std::string> epoch1 = ids(source.next_batch(20));
  std::vector<std::string> sorted0 = epoch0, sorted1 = epoch1;
  std::sort(sorted0.begin(), sorted0.end());
  std::sort(sorted1.begin(), sorted1.end());
  std::vector<std::string> all = ids(make_source(20, 7, false).next_batch(20));
  std::sort(all.begin(), all.end());
  EXPECT_EQ(sorted0, all);
  EXPECT_EQ(sorted1, all);
  EXPECT_NE(epoch0, epoch1);  // a new order each epoch
  EXPECT_NE(epoch0, ids(make_source(20, 7, false).next_batch(20)));  // shuffled at all
  EXPECT_EQ(source.position().epoch, 1);
  EXPECT_EQ(source.position().index, 20);
}

TEST(PromptSource, SameSeedSameOrderOtherSeedOtherOrder) {
  PromptSource a = make_source(50, 3), b = make_source(50, 3), c = make_source(50, 4);
  const auto first = ids(a.next_batch(120));
  EXPECT_EQ(first, ids(b.next_batch(120)));
  EXPECT_NE(first, ids(c.next_batch(120)));
}

TEST(PromptSource, OrderDoesNotDependOnBatchSizeAndCrossesEpochs) {
  PromptSource a = make_source(10, 11), b = make_source(10, 11);
  std::vector<std::string> big = ids(a.next_batch(25));
  std::vector<std::string> small;
  std::vector<SourcedPrompt> last;
  for (int i = 0; i < 5; ++i) {
    last = b.next_batch(5);
    for (const auto& id : ids(last)) small.push_back(id);
  }
  EXPECT_EQ(big, small);
  EXPECT_EQ(last.back().epoch, 2);
  EXPECT_EQ(last.back().index, 4);
}

TEST(PromptSource, UnshuffledFollowsTheFileAndRendersTheTemplate) {
  PromptSource source = make_source(3, 1, false);
  auto batch = source.next_batch(4);
  EXPECT_EQ(ids(batch), (std::vector<std::string>{"0", "1", "2", "0"}));
  EXPECT_EQ(batch[1].text, source.chat_template().render("p1"));
}

TEST(PromptSource, RestoredPositionReplaysExactlyWhatAStraightRunSees) {
  PromptSource straight = make_source(37, 5);
  std::vector<std::vector<std::string>> want;
  for (int step = 0; step < 12; ++step) want.push_back(ids(straight.next_batch(8)));

  PromptSource first = make_source(37, 5);
  for (int step = 0; step < 5; ++step) EXPECT_EQ(ids(first.next_batch(8)), want[step]);
  // Saved as a checkpoint would: JSON text.
  const std::string saved = first.position().to_json().dump();
  // The resumed run starts with a different seed in its config; the position's seed wins.
  PromptSource resumed = make_source(37, 999);
  auto pos = DataPosition::from_json(nlohmann::json::parse(saved));
  ASSERT_TRUE(pos.ok()) << pos.status();
  EXPECT_EQ(*pos, first.position());
  ASSERT_TRUE(resumed.restore(*pos).ok());
  for (int step = 5; step < 12; ++step) {
    EXPECT_EQ(ids(resumed.next_batch(8)), want[step]) << "step " << step;
  }
  EXPECT_EQ(resumed.position(), straight.position());
}

TEST(PromptSource, RestoreRejectsAnotherDatasetOrABadPosition) {
  PromptSource source = make_source(10, 1);
  DataPosition p = source.position();
  p.size = 11;
  auto s = source.restore(p);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("11"), std::string::npos) << s;
  p.size = 10;
  p.index = 11;
  EXPECT_FALSE(source.restore(p).ok());
  auto missing = DataPosition::from_json({{"epoch", 1}, {"index", 2}, {"size", 3}});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("'seed'"), std::string::npos);
  auto empty = PromptSource::create({}, *ChatTemplate::create("r1"), 1, true);
  EXPECT_FALSE(empty.ok());
}

TEST(PromptSource, RetiredExamplesAreSkippedAndTheRestKeepTheirOrder) {
  PromptSource plain = make_source(10, 4), source = make_source(10, 4);
  std::vector<std::string> want;
  for (const std::string& id : ids(plain.next_batch(30))) {
    if (id != "3" && id != "7") want.push_back(id);
  }
  EXPECT_TRUE(source.retire(3));
  EXPECT_TRUE(source.retire(7));
  EXPECT_FALSE(source.retire(7));   // twice: still two
  EXPECT_FALSE(source.retire(10));  // out of range: nothing
  EXPECT_EQ(source.retired(), 2);
  std::vector<SourcedPrompt> batch = source.next_batch(24);  // three epochs of the other 8
  EXPECT_EQ(ids(batch), want);
  for (const SourcedPrompt& p : batch) EXPECT_EQ(p.example.id, std::to_string(p.dataset_index));
  EXPECT_EQ(source.position().epoch, plain.position().epoch);
}

TEST(PromptSource, ASourceWithEveryExampleRetiredSkipsNone) {
  PromptSource source = make_source(3, 1, false);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(source.retire(i));
  EXPECT_EQ(ids(source.next_batch(4)), (std::vector<std::string>{"0", "1", "2", "0"}));
}

TEST(PromptSource, TheRetiredSetIsPartOfTheRestoredPosition) {
  PromptSource straight = make_source(20, 9);
  straight.next_batch(6);
  straight.retire(2);
  straight.retire(15);
  const std::string saved = straight.position().to_json().dump();
  const std::vector<std::string> want = ids(straight.next_batch(40));

  PromptSource resumed = make_source(20, 9);
  auto pos = DataPosition::from_json(nlohmann::json::parse(saved));
  ASSERT_TRUE(pos.ok()) << pos.status();
  EXPECT_EQ(pos->retired, (std::vector<int64_t>{2, 15}));
  ASSERT_TRUE(resumed.restore(*pos).ok());
  EXPECT_EQ(resumed.retired(), 2);
  EXPECT_EQ(ids(resumed.next_batch(40)), want);
  // A position with none retired says nothing about it (as checkpoints written before it did).
  EXPECT_FALSE(make_source(20, 9).position().to_json().contains("retired"));

  nlohmann::json bad = nlohmann::json::parse(saved);
  bad["retired"] = {2, 20};
  auto out_of_range = DataPosition::from_json(bad);
  ASSERT_TRUE(out_of_range.ok());
  absl::Status s = resumed.restore(*out_of_range);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("retired example 20"), std::string::npos) << s;
  bad["retired"] = "2";
  auto not_array = DataPosition::from_json(bad);
  ASSERT_FALSE(not_array.ok());
  EXPECT_NE(not_array.status().message().find("'retired'"), std::string::npos);
}

TEST_F(DataTest, FromConfigLoadsTrainWithTheConfiguredTemplate) {
  DataSection data;
  data.train = write("train.jsonl", R"({"prompt": "1+2", "answer": "3"})"
                                    "\n");
  data.template_name = "plain";
  auto source = PromptSource::from_config(data, 1);
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ(source->next_batch(1)[0].text, "1+2");
  data.train = (dir_ / "missing.jsonl").string();
  auto missing = PromptSource::from_config(data, 1);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("missing.jsonl"), std::string::npos);
}

}  // namespace
}  // namespace forge::rl
