#include "rl/dist/data_parallel.h"

#include <ATen/ATen.h>

#include "absl/strings/str_cat.h"
#include "rl/metrics/crc32c.h"

namespace forge::rl {

absl::Status all_reduce_gradients(Collective& collective, const std::vector<at::Tensor>& params,
                                  int64_t bucket_bytes) {
  if (collective.world_size() == 1 || params.empty()) return absl::OkStatus();
  at::NoGradGuard no_grad;
  // Which gradients exist anywhere.
  at::Tensor defined = at::zeros({static_cast<int64_t>(params.size())}, at::kFloat);  // [P]
  for (size_t i = 0; i < params.size(); ++i) {
    if (params[i].grad().defined()) defined[static_cast<int64_t>(i)] = 1.0f;
  }
  std::vector<at::Tensor> flags = {defined};
  if (absl::Status st = collective.all_reduce_sum(flags); !st.ok()) return st;
  std::vector<at::Tensor> grads;
  for (size_t i = 0; i < params.size(); ++i) {
    if (defined[static_cast<int64_t>(i)].item<float>() == 0.0f) continue;
    at::Tensor p = params[i];
    if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);
    grads.push_back(p.grad());
  }
  // Buckets of consecutive gradients of one dtype, flattened into one buffer each.
  size_t begin = 0;
  while (begin < grads.size()) {
    size_t end = begin;
    int64_t bytes = 0;
    while (end < grads.size() && grads[end].scalar_type() == grads[begin].scalar_type() &&
           (end == begin || bytes + static_cast<int64_t>(grads[end].nbytes()) <= bucket_bytes)) {
      bytes += static_cast<int64_t>(grads[end].nbytes());
      ++end;
    }
    std::vector<at::Tensor> pieces;
    for (size_t i = begin; i < end; ++i) pieces.push_back(grads[i].reshape({-1}));
    std::vector<at::Tensor> bucket = {at::cat(pieces)};  // [sum of numels]
    if (absl::Status st = collective.all_reduce_sum(bucket); !st.ok()) return st;
    int64_t offset = 0;
    for (size_t i = begin; i < end; ++i) {
      const int64_t n = grads[i].numel();
      grads[i].copy_(bucket[0].narrow(0, offset, n).view(grads[i].sizes()));
      offset += n;
    }
    begin = end;
  }
  return absl::OkStatus();
}

absl::Status all_reduce_routing_load(Collective& collective, policy::ModelImpl& model) {
  if (collective.world_size() == 1) return absl::OkStatus();
  std::vector<at::Tensor> loads = model.pending_expert_loads();
  return collective.all_reduce_sum(loads);
}

absl::Status check_same_parameters(Collective& collective, const policy::ModelImpl& model,
                                   int64_t step) {
  if (collective.world_size() == 1) return absl::OkStatus();
  std::string sums;  // one CRC per tensor, in model order
  std::vector<std::string> names;
  for (const auto& [name, tensor] : model.named_tensors()) {
    const at::Tensor bytes = tensor.detach().to(at::kCPU).contiguous();
    const uint32_t crc = crc32c(bytes.data_ptr(), bytes.nbytes());
    sums.append(reinterpret_cast<const char*>(&crc), sizeof crc);
    names.push_back(name);
  }
  absl::StatusOr<std::vector<std::string>> all = collective.all_gather(sums);
  if (!all.ok()) return all.status();
  for (int r = 1; r < collective.world_size(); ++r) {
    const std::string& theirs = (*all)[r];
    if (theirs == (*all)[0]) continue;
    std::string tensor = "?";
    for (size_t i = 0; i < names.size() && (i + 1) * 4 <= theirs.size(); ++i) {
      if (theirs.compare(i * 4, 4, (*all)[0], i * 4, 4) != 0) {
        tensor = names[i];
        break;
      }
    }
    return absl::FailedPreconditionError(
        absl::StrCat("step ", step, ": rank ", r, "'s parameters differ from rank 0's (first: ",
                     tensor, "); the ranks no longer train one model"));
  }
  return absl::OkStatus();
}

}  // namespace forge::rl
