#include "rl/cli/subcommands.h"

namespace forge::rl::cli {

const std::vector<SubcommandInfo>& subcommands() {
  static const std::vector<SubcommandInfo> table = {
      {"run", "Train: reward server + rollout workers + GRPO trainer, end to end", true, true},
      {"rollout-worker",
       "Serve RolloutService (generation, weight updates) over gRPC until SIGINT/SIGTERM", true,
       true},
      {"reward-server",
       "Serve RewardService (rule-based grading) over gRPC until SIGINT/SIGTERM", false, false},
      {"grade",
       "Grade a JSONL file of completions with the reward rules (one output line per line)",
       false, false},
      {"generate", "Sample a completion from the policy", true, true},
      {"model-info", "Print the model's sizes as JSON", true, false},
      {"sft", "Supervised fine-tuning on chain-of-thought data", true, true},
      {"eval", "Evaluate a checkpoint: greedy, pass@1, pass@k, maj@k, format rate", true, true},
      {"distill",
       "Rejection-sample a teacher and SFT a smaller student on its accepted answers", true,
       true},
      {"data", "Datasets: generate synthetic reasoning tasks", true, false},
      {"top", "Watch a running `forge run` live: step, ETA, reward and accuracy, time split, workers",
       false, false},
      {"tokenize",
       "Encode {\"text\"} lines to {\"ids\"} (or back with --decode) with a Hugging Face "
       "tokenizer",
       true, false},
  };
  return table;
}

const SubcommandInfo* find_subcommand(const std::string& name) {
  for (const SubcommandInfo& s : subcommands()) {
    if (name == s.name) return &s;
  }
  return nullptr;
}

const char* description_of(const std::string& name) {
  const SubcommandInfo* s = find_subcommand(name);
  return s == nullptr ? "" : s->description;
}

}  // namespace forge::rl::cli
