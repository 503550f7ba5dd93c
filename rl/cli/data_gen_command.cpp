// `forge data gen`: writes a synthetic task dataset (arithmetic or countdown) as JSONL, optionally
// with the programmatic teacher's responses, and prints a one-line JSON summary on stdout:
//   {"out": F, "task": T, "n": N, "seed": S, "duplicates_skipped": D, "excluded_skipped": E,
//    "teacher": {"accuracy", "format_rate", "habit_class_rate", "habit_applied_rate",
//                "slip_rate", "response_chars_mean", "response_chars_max"}}   (with --teacher)
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "rl/cli/commands.h"
#include "rl/data/dataset.h"
#include "rl/tasks/generate.h"

namespace forge::rl::cli {
namespace {

struct DataGenArgs {
  tasks::GenerateOptions gen;
  std::string out;
  std::vector<std::string> exclude;
  std::string operators;  // "" = the task's default
};

int run_data_gen(const DataGenArgs& args) {
  const std::string name = "data gen";
  tasks::GenerateOptions gen = args.gen;
  if (!args.operators.empty()) {
    gen.arithmetic.operators = args.operators;
    gen.countdown.operators = args.operators;
  }
  std::set<std::string> exclude;
  for (const std::string& path : args.exclude) {
    absl::StatusOr<std::set<std::string>> keys = tasks::load_problem_keys(path);
    if (!keys.ok()) return fail(name, std::string(keys.status().message()), kExitUsage);
    exclude.insert(keys->begin(), keys->end());
  }
  tasks::GenerateStats stats;
  absl::StatusOr<std::vector<Example>> examples = tasks::generate_examples(gen, exclude, &stats);
  if (!examples.ok()) {
    const int code = absl::IsInvalidArgument(examples.status()) ? kExitUsage : kExitFailure;
    return fail(name, std::string(examples.status().message()), code);
  }
  const std::filesystem::path parent = std::filesystem::path(args.out).parent_path();
  std::error_code ec;
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return fail(name, "cannot create '" + parent.string() + "': " + ec.message());
  if (absl::Status s = write_jsonl(args.out, *examples); !s.ok()) {
    return fail(name, std::string(s.message()));
  }
  nlohmann::json summary = {{"out", args.out},
                            {"task", gen.task},
                            {"n", stats.examples},
                            {"seed", gen.seed},
                            {"duplicates_skipped", stats.duplicates_skipped},
                            {"excluded_skipped", stats.excluded_skipped}};
  if (gen.teacher) {
    const double n = static_cast<double>(stats.examples);
    summary["teacher"] = {
        {"accuracy", stats.teacher_correct / n},
        {"format_rate", stats.teacher_well_formed / n},
        {"habit_class_rate", stats.habit_class / n},
        {"habit_applied_rate", stats.habit_applied / n},
        {"slip_rate", stats.with_slips / n},
        {"response_chars_mean", stats.response_chars_total / n},
        {"response_chars_max", stats.response_chars_max},
    };
  }
  std::cout << summary.dump() << "\n";
  return kExitOk;
}

}  // namespace

Command add_data_gen_command(CLI::App& data) {
  CLI::App* app = data.add_subcommand("gen", "Generate a synthetic task dataset as JSONL");
  auto args = std::make_shared<DataGenArgs>();
  tasks::GenerateOptions& g = args->gen;
  app->add_option("--task", g.task, "arithmetic | countdown")
      ->check(CLI::IsMember({"arithmetic", "countdown"}))
      ->capture_default_str();
  app->add_option("--n", g.n, "Number of distinct problems")->required();
  app->add_option("--seed", g.seed, "Generation seed")->capture_default_str();
  app->add_option("--out", args->out, "Output JSONL file")->required();
  app->add_option("--exclude", args->exclude,
                  "JSONL file(s) whose problems must not appear (e.g. the training set, when "
                  "generating a held-out set)");
  app->add_flag("--teacher", g.teacher,
                "Add the imperfect programmatic teacher's response as each line's `completion`");
  app->add_option("--operators", args->operators,
                  "Operators to use (arithmetic default '+-*', countdown default '+-*/')");
  // Arithmetic difficulty.
  app->add_option("--digits", g.arithmetic.digits, "arithmetic: operand digits")
      ->capture_default_str();
  app->add_option("--ops", g.arithmetic.ops, "arithmetic: operations per problem")
      ->capture_default_str();
  app->add_flag("--allow-negative", g.arithmetic.allow_negative,
                "arithmetic: allow negative intermediate values");
  app->add_option("--max-value", g.arithmetic.max_value,
                  "arithmetic: bound on every intermediate value (0 = none)")
      ->capture_default_str();
  // Countdown difficulty.
  app->add_option("--count", g.countdown.count, "countdown: how many numbers are given")
      ->capture_default_str();
  app->add_option("--max-number", g.countdown.max_number, "countdown: numbers are 1..this")
      ->capture_default_str();
  app->add_option("--max-target", g.countdown.max_target, "countdown: targets are 1..this")
      ->capture_default_str();
  // The teacher's flaws.
  app->add_option("--habit", g.teacher_options.habit,
                  "teacher habit: auto | left_to_right | drop_carry (arithmetic) | no_parens "
                  "(countdown) | none")
      ->capture_default_str();
  app->add_option("--habit-rate", g.teacher_options.habit_rate,
                  "teacher: P(habit) on a problem of the habit's class")
      ->capture_default_str();
  app->add_option("--slip-rate", g.teacher_options.slip_rate, "teacher: P(slip) per step")
      ->capture_default_str();
  app->add_option("--format-break-rate", g.teacher_options.format_break_rate,
                  "teacher: P(broken format) per response")
      ->capture_default_str();
  return {app, [args] { return run_data_gen(*args); }};
}

}  // namespace forge::rl::cli
