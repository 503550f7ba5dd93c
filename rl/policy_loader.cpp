#include "rl/policy_loader.h"

#include <filesystem>
#include <thread>

#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "policy/checkpoint.h"

namespace forge::rl {
namespace {

namespace fs = std::filesystem;

absl::Status prefixed(const absl::Status& st, const std::string& prefix) {
  return absl::Status(st.code(), absl::StrCat(prefix, st.message()));
}

}  // namespace

absl::StatusOr<policy::ModelConfig> resolve_model_config(const ModelSection& section) {
  std::string path;
  if (!section.checkpoint.empty()) {
    if (!fs::is_directory(section.checkpoint)) {
      return absl::NotFoundError(
          absl::StrCat("model.checkpoint: '", section.checkpoint, "' is not a folder"));
    }
    const fs::path candidate = fs::path(section.checkpoint) / policy::kConfigFile;
    if (fs::exists(candidate)) {
      path = candidate.string();
    } else if (section.config.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("model.checkpoint: '", section.checkpoint,
                                                     "' has no ", policy::kConfigFile,
                                                     " and model.config is not set"));
    }
  }
  if (path.empty()) path = section.config;
  if (path.empty()) {
    return absl::InvalidArgumentError(
        "model.config: no model config.json given (set model.config or model.checkpoint)");
  }
  auto config = policy::ModelConfig::from_file(path);
  if (!config.ok()) return prefixed(config.status(), "model.config: ");
  if (absl::Status st = config->apply_overrides(section.overrides); !st.ok()) {
    return prefixed(st, "model: ");
  }
  if (absl::Status st = config->validate(); !st.ok()) {
    return prefixed(st, absl::StrCat("model (", path, "): "));
  }
  return config;
}

absl::StatusOr<LoadedPolicy> load_policy(const ModelSection& section, int64_t seed,
                                         const std::string& device) {
  LoadedPolicy p;
  ASSIGN_OR_RETURN(p.config, resolve_model_config(section));
  const bool from_checkpoint = !section.checkpoint.empty();
  const at::ScalarType dtype = section.dtype == "bfloat16" ? at::kBFloat16 : at::kFloat;
  ASSIGN_OR_RETURN(p.model, policy::create_model(p.config, static_cast<uint64_t>(seed),
                                                 /*initialise=*/!from_checkpoint, dtype));
  if (from_checkpoint) {
    policy::LoadReport report;
    if (absl::Status st = policy::load_weights(*p.model, section.checkpoint, &report); !st.ok()) {
      return prefixed(st, "model.checkpoint: ");
    }
    p.checkpoint = section.checkpoint;
    p.load_summary = report.summary();
  }
  if (device == "cuda") {
    if (!torch::cuda::is_available()) {
      return absl::FailedPreconditionError("run.device: cuda requested but no CUDA device is available");
    }
    p.model->to(at::Device(at::kCUDA));
  } else if (device != "cpu") {
    return absl::InvalidArgumentError(absl::StrCat("run.device: unknown device '", device, "'"));
  }
  return p;
}

absl::StatusOr<std::unique_ptr<policy::Tokenizer>> load_tokenizer(
    const TokenizerSection& section, const policy::ModelConfig& config) {
  auto tokenizer = policy::Tokenizer::create(section.kind, section.path);
  if (!tokenizer.ok()) {
    return prefixed(tokenizer.status(),
                    section.kind == "hf" ? "tokenizer.path: " : "tokenizer.kind: ");
  }
  if ((*tokenizer)->vocab_size() > config.vocab_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tokenizer.kind: the ", section.kind, " tokenizer has ", (*tokenizer)->vocab_size(),
        " ids but the model's vocab_size is ", config.vocab_size));
  }
  return tokenizer;
}

int set_torch_threads(int threads) {
  int n = threads;
  if (n <= 0) n = static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  at::set_num_threads(n);
  return n;
}

}  // namespace forge::rl
