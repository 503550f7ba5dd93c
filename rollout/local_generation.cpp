#include "rollout/local_generation.h"

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace forge::rollout {
namespace {

absl::Status copy_named(const NamedTensors& from, policy::ModelImpl& to) {
  std::map<std::string, at::Tensor> targets;
  for (auto& [name, tensor] : to.named_tensors()) targets.emplace(name, tensor);
  if (from.size() != targets.size()) {
    return absl::InvalidArgumentError(absl::StrCat("weights: ", from.size(),
                                                   " tensors given, the model has ",
                                                   targets.size()));
  }
  at::NoGradGuard no_grad;
  for (const auto& [name, tensor] : from) {
    auto it = targets.find(name);
    if (it == targets.end()) {
      return absl::InvalidArgumentError(absl::StrCat("weights: unknown tensor '", name, "'"));
    }
    if (it->second.sizes() != tensor.sizes()) {
      return absl::InvalidArgumentError(absl::StrCat("weights: tensor '", name, "' has shape ",
                                                     c10::str(tensor.sizes()), ", the model's is ",
                                                     c10::str(it->second.sizes())));
    }
    it->second.copy_(tensor);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<LocalGeneration>> LocalGeneration::create(
    policy::Model model, std::shared_ptr<const policy::Tokenizer> tokenizer,
    const EngineOptions& options, int64_t version) {
  ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine,
                   Engine::create(std::move(model), std::move(tokenizer), options, version));
  return std::unique_ptr<LocalGeneration>(new LocalGeneration(std::move(engine)));
}

absl::StatusOr<std::vector<Completion>> LocalGeneration::generate(
    const GenerationRequest& request) {
  return engine_->generate(request);
}

absl::StatusOr<std::vector<std::vector<Completion>>> LocalGeneration::generate_all(
    std::vector<GenerationRequest> requests) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::vector<Completion>> results(requests.size());
  size_t done = 0;
  absl::Status failure;
  std::vector<std::shared_ptr<RequestHandle>> handles;
  auto wait_for_submitted = [&] {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done == handles.size(); });
  };
  for (size_t r = 0; r < requests.size(); ++r) {
    Engine::Callbacks callbacks;
    callbacks.on_completion = [&, r](Completion&& c) {
      std::lock_guard<std::mutex> lock(mu);
      results[r].push_back(std::move(c));
    };
    callbacks.on_done = [&](const absl::Status& st) {
      std::lock_guard<std::mutex> lock(mu);
      if (!st.ok() && failure.ok()) failure = st;
      ++done;
      cv.notify_all();
    };
    absl::StatusOr<std::shared_ptr<RequestHandle>> handle =
        engine_->submit(std::move(requests[r]), std::move(callbacks));
    if (!handle.ok()) {
      for (auto& h : handles) h->cancel();
      wait_for_submitted();
      return handle.status();
    }
    handles.push_back(*std::move(handle));
  }
  wait_for_submitted();
  if (!failure.ok()) return failure;
  return results;
}

absl::StatusOr<WeightPublishResult> LocalGeneration::push_weights(const NamedTensors& tensors,
                                                                  int64_t version) {
  const auto start = std::chrono::steady_clock::now();
  WeightStore& store = engine_->weights();
  ASSIGN_OR_RETURN(std::shared_ptr<WeightSet> spare, store.acquire_spare());
  absl::Status copied;
  try {
    copied = copy_named(tensors, *spare->model);
  } catch (const c10::Error& e) {
    copied = absl::InternalError(absl::StrCat("weights: ", e.what_without_backtrace()));
  }
  if (!copied.ok()) {
    store.release_spare(spare);
    return copied;
  }
  store.publish(spare, version);
  WeightPublishResult out;
  out.version = version;
  for (const auto& [name, tensor] : tensors) out.bytes += tensor.numel() * tensor.element_size();
  out.updated.push_back("in-process engine");
  out.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace forge::rollout
