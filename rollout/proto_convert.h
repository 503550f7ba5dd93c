// forge.v1 messages <-> the rollout domain types (request.h), and wire dtypes <-> torch dtypes.
// Thread-safety: pure functions.
#pragma once

#include <optional>

#include <ATen/ATen.h>

#include "absl/status/statusor.h"
#include "forge/v1/rollout.pb.h"
#include "forge/v1/tensor.pb.h"
#include "policy/tokenizer.h"
#include "rollout/engine_stats.h"
#include "rollout/request.h"

namespace forge::rollout {

// Text prompts are tokenized with `tokenizer` (as is, no bos). Unset optional fields take their
// documented defaults (temperature 1, top_p 1, n 0 -> 1). A prompt with both text and token_ids is
// INVALID_ARGUMENT naming it; the rest is checked by resolve_and_validate.
absl::StatusOr<GenerationRequest> request_from_proto(const forge::v1::GenerateRequest& proto,
                                                     const policy::Tokenizer& tokenizer);
void request_to_proto(const GenerationRequest& request, forge::v1::GenerateRequest* proto);

void completion_to_proto(const Completion& completion, forge::v1::Completion* proto);
Completion completion_from_proto(const forge::v1::Completion& proto);

void worker_info_to_proto(const WorkerInfo& info, forge::v1::WorkerInfo* proto);
WorkerInfo worker_info_from_proto(const forge::v1::WorkerInfo& proto);

// FLOAT32/BFLOAT16/FLOAT16/INT64/INT32 <-> the torch dtype; anything else is Undefined / nullopt.
at::ScalarType dtype_from_wire(forge::v1::DType dtype);
std::optional<forge::v1::DType> dtype_to_wire(at::ScalarType dtype);

}  // namespace forge::rollout
