// The worker's policy weights by version. Every generation request is pinned, when it is accepted,
// to the current WeightSet (it holds a shared_ptr), and runs all its tokens on it; a weight update
// is written into a spare WeightSet that no request holds and then published as the new current
// one. So no request ever sees half an update or a mix of versions, and requests in flight finish
// on the version they started with (its weights stay alive until the last of them finishes).
//
// Memory: the current set, one spare, plus one per older version still pinned by running requests.
// Thread-safety: all methods are thread-safe. A WeightSet is immutable while current or pinned; only
// the holder of a spare (acquire_spare) writes into it, before publish().
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/statusor.h"
#include "policy/model.h"

namespace forge::rollout {

struct WeightSet {
  policy::Model model{nullptr};
  int64_t version = 0;
};

class WeightStore {
 public:
  WeightStore(policy::Model initial, int64_t version);
  WeightStore(const WeightStore&) = delete;
  WeightStore& operator=(const WeightStore&) = delete;

  // The weights new requests run on.
  std::shared_ptr<const WeightSet> current() const;
  int64_t current_version() const;

  // A set to overwrite: a retired one nobody holds, or a new model with the current one's config,
  // device and dtypes (its values are garbage until written). At most one spare is out at a time:
  // a second call while one is out fails with ABORTED.
  absl::StatusOr<std::shared_ptr<WeightSet>> acquire_spare();
  // Gives an unpublished spare back (a failed update).
  void release_spare(const std::shared_ptr<WeightSet>& spare);
  // Makes the spare (fully written) the current set with `version`.
  void publish(const std::shared_ptr<WeightSet>& spare, int64_t version);

  // Sets kept (current, spare, pinned older versions).
  int num_sets() const;

 private:
  void drop_unused_locked();

  mutable std::mutex mu_;
  std::shared_ptr<WeightSet> current_;
  std::vector<std::shared_ptr<WeightSet>> sets_;  // every set alive, including current_
  std::shared_ptr<WeightSet> spare_out_;          // handed out by acquire_spare, not yet back
};

}  // namespace forge::rollout
