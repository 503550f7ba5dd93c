#include "rollout/generation_backend.h"

namespace forge::rollout {

absl::StatusOr<std::vector<std::vector<Completion>>> GenerationBackend::generate_all(
    std::vector<GenerationRequest> requests) {
  std::vector<std::vector<Completion>> results;
  results.reserve(requests.size());
  for (const GenerationRequest& request : requests) {
    absl::StatusOr<std::vector<Completion>> completions = generate(request);
    if (!completions.ok()) return completions.status();
    results.push_back(*std::move(completions));
  }
  return results;
}

}  // namespace forge::rollout
