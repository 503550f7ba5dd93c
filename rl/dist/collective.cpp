#include "rl/dist/collective.h"

#include <ATen/ATen.h>

namespace forge::rl {

absl::StatusOr<std::vector<double>> sum_over_ranks(Collective& collective,
                                                   const std::vector<double>& values) {
  std::vector<at::Tensor> t = {at::tensor(values, at::kDouble)};
  if (absl::Status st = collective.all_reduce_sum(t); !st.ok()) return st;
  const double* p = t[0].data_ptr<double>();
  return std::vector<double>(p, p + values.size());
}

}  // namespace forge::rl
