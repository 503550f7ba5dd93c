// What keeps the ranks of a data-parallel job computing one model: gradients summed over the ranks
// (in buckets), the MoE routing load summed before the bias update, and a parameter checksum the
// ranks compare every dist.check_every steps. With a world of one every call returns at once.
// Thread-safety: functions; the training thread calls them, on every rank in the same order.
#pragma once

#include <cstdint>
#include <vector>

#include <ATen/core/Tensor.h>

#include "absl/status/status.h"
#include "policy/model.h"
#include "rl/dist/collective.h"

namespace forge::rl {

// Every parameter's gradient becomes its sum over the ranks, in buckets of about `bucket_bytes`
// (one all-reduce each). A gradient undefined on every rank stays undefined (AdamW skips that
// parameter, as one rank alone would); one defined on some rank gets zeros from the others.
absl::Status all_reduce_gradients(Collective& collective, const std::vector<at::Tensor>& params,
                                  int64_t bucket_bytes = int64_t{25} << 20);

// The expert load pending for model.update_routing_bias(), summed over the ranks in place.
absl::Status all_reduce_routing_load(Collective& collective, policy::ModelImpl& model);

// FailedPrecondition naming `step` and the first rank whose parameters are not bit-identical to
// rank 0's (CRC-32C over every tensor's bytes).
absl::Status check_same_parameters(Collective& collective, const policy::ModelImpl& model,
                                   int64_t step);

}  // namespace forge::rl
