#include "rl/cli/subcommands.h"

namespace forge::rl::cli {

const std::vector<SubcommandInfo>& subcommands() {
  static const std::vector<SubcommandInfo> table = {
      {"run", "Train: reward server + rollout workers + GRPO trainer, end to end", Runner::kTorch,
       true},
      {"rollout-worker",
       "Serve RolloutService (generation, weight updates) over gRPC until SIGINT/SIGTERM",
       Runner::kTorch, true},
      {"reward-server",
       "Serve RewardService (rule-based grading) over gRPC until SIGINT/SIGTERM",
       Runner::kServe, false},
      {"grade",
       "Grade a JSONL file of completions with the reward rules (one output line per line)",
       Runner::kFrontEnd, false},
      {"generate", "Sample a completion from the policy", Runner::kTorch, true},
      {"model-info", "Print the model's sizes as JSON", Runner::kTorch, false},
      {"sft", "Supervised fine-tuning on chain-of-thought data", Runner::kTorch, true},
      {"eval", "Evaluate a checkpoint: greedy, pass@1, pass@k, maj@k, format rate", Runner::kTorch,
       true},
      {"distill",
       "Rejection-sample a teacher and SFT a smaller student on its accepted answers", Runner::kTorch,
       true},
      {"data", "Datasets: generate synthetic reasoning tasks", Runner::kTorch, false},
      {"top", "Watch a running `forge run` live: step, ETA, reward and accuracy, time split, workers",
       Runner::kServe, false},
      {"tokenize",
       "Encode {\"text\"} lines to {\"ids\"} (or back with --decode) with a Hugging Face "
       "tokenizer",
       Runner::kTorch, false},
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
