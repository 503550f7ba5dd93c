#include "rl/dist/process_group.h"

// c10d's Gloo process group is compiled into Debian's LibTorch; its header is guarded.
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif

#include <c10/core/Device.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef FORGE_HAVE_NCCL
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <ATen/ATen.h>

#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "rl/config/yaml_config.h"

namespace forge::rl {
namespace {

// Runs one collective; a failure means a rank is gone or the group's timeout passed.
template <typename Fn>
absl::Status guarded(const char* what, Fn&& fn) {
  try {
    fn();
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat(
        what, " failed: another rank is gone or the group timed out (dist.timeout_s): ",
        e.what()));
  }
}

// The collectives over a c10d process group (ProcessGroupGloo or ProcessGroupNCCL: the same calls
// in LibTorch 1.13 and 2.x); tensors are staged on `device`.
template <typename Group>
class C10dCollective final : public Collective {
 public:
  C10dCollective(c10::intrusive_ptr<c10d::Store> store, c10::intrusive_ptr<Group> group, int rank,
                 int size, at::Device device)
      : store_(std::move(store)),
        group_(std::move(group)),
        rank_(rank),
        size_(size),
        device_(device) {}

  int rank() const override { return rank_; }
  int world_size() const override { return size_; }

  absl::Status all_reduce_sum(std::vector<at::Tensor>& tensors) override {
    return reduce(tensors, c10d::ReduceOp::SUM);
  }
  absl::Status all_reduce_max(std::vector<at::Tensor>& tensors) override {
    return reduce(tensors, c10d::ReduceOp::MAX);
  }

  absl::Status broadcast(at::Tensor& tensor, int root) override {
    return guarded("broadcast", [&] {
      std::vector<at::Tensor> one = {tensor.device() == device_ ? tensor : tensor.to(device_)};
      c10d::BroadcastOptions options;
      options.rootRank = root;
      group_->broadcast(one, options)->wait();
      if (!one[0].is_same(tensor)) tensor.copy_(one[0]);
    });
  }

  absl::StatusOr<std::vector<std::string>> all_gather(const std::string& bytes) override {
    std::vector<std::string> out(static_cast<size_t>(size_));
    absl::Status st = guarded("all_gather", [&] {
      // Sizes first, then the bytes padded to the longest.
      std::vector<at::Tensor> size_in = {
          at::tensor({static_cast<int64_t>(bytes.size())}, at::kLong).to(device_)};
      std::vector<std::vector<at::Tensor>> size_out(1);
      for (int r = 0; r < size_; ++r) size_out[0].push_back(at::empty({1}, size_in[0].options()));
      group_->allgather(size_out, size_in)->wait();
      int64_t longest = 1;
      std::vector<int64_t> sizes;
      for (const at::Tensor& t : size_out[0]) {
        sizes.push_back(t.cpu().item<int64_t>());
        longest = std::max(longest, sizes.back());
      }
      at::Tensor padded = at::zeros({longest}, at::kByte);  // [L]
      std::memcpy(padded.data_ptr(), bytes.data(), bytes.size());
      std::vector<at::Tensor> data_in = {padded.to(device_)};
      std::vector<std::vector<at::Tensor>> data_out(1);
      for (int r = 0; r < size_; ++r) data_out[0].push_back(at::empty({longest}, data_in[0].options()));
      group_->allgather(data_out, data_in)->wait();
      for (int r = 0; r < size_; ++r) {
        const at::Tensor host = data_out[0][r].cpu();
        out[r].assign(static_cast<const char*>(host.data_ptr()), static_cast<size_t>(sizes[r]));
      }
    });
    if (!st.ok()) return st;
    return out;
  }

 private:
  // Tensors not on the group's device (metric sums on the CPU for NCCL) go through a copy there.
  absl::Status reduce(std::vector<at::Tensor>& tensors, c10d::ReduceOp::RedOpType op) {
    if (tensors.empty()) return absl::OkStatus();
    return guarded("all_reduce", [&] {
      std::vector<at::Tensor> staged;
      for (const at::Tensor& t : tensors) staged.push_back(t.device() == device_ ? t : t.to(device_));
      c10d::AllreduceOptions options;
      options.reduceOp = op;
      group_->allreduce(staged, options)->wait();
      for (size_t i = 0; i < tensors.size(); ++i) {
        if (!staged[i].is_same(tensors[i])) tensors[i].copy_(staged[i]);
      }
    });
  }

  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<Group> group_;
  const int rank_;
  const int size_;
  const at::Device device_;
};

bool loopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1";
}

// The rendezvous store: rank 0 serves it, the others connect (retrying until the timeout).
absl::StatusOr<c10::intrusive_ptr<c10d::Store>> open_store(const RankInfo& rank,
                                                           std::chrono::seconds timeout) {
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(rank.master_port);
  options.isServer = rank.rank == 0;
  options.numWorkers = static_cast<std::size_t>(rank.world_size);
  options.waitWorkers = true;
  options.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
  try {
    return c10::intrusive_ptr<c10d::Store>(
        c10::make_intrusive<c10d::TCPStore>(rank.master_addr, options));
  } catch (const std::exception& e) {
    return absl::DeadlineExceededError(absl::StrCat(
        "rank ", rank.rank, ": the rendezvous at MASTER_ADDR:MASTER_PORT ", rank.master_addr, ":",
        rank.master_port, " did not complete within dist.timeout_s (", timeout.count(),
        " s): ", e.what()));
  }
}

absl::StatusOr<std::unique_ptr<Collective>> make_group(const RankInfo& rank,
                                                       const JoinOptions& options,
                                                       c10::intrusive_ptr<c10d::Store> store) {
  std::string backend = options.backend;
  if (backend == "auto") backend = options.device == "cuda" ? "nccl" : "gloo";
  const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(options.timeout);
  if (backend == "nccl") {
#ifdef FORGE_HAVE_NCCL
    auto nccl_options = c10d::ProcessGroupNCCL::Options::create();
    nccl_options->timeout = timeout;
    auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, rank.rank, rank.world_size,
                                                             nccl_options);
    return std::unique_ptr<Collective>(new C10dCollective<c10d::ProcessGroupNCCL>(
        store, group, rank.rank, rank.world_size, at::Device(at::kCUDA, rank.local_rank)));
#else
    return absl::UnimplementedError(
        "dist.backend: nccl, but this build of Forge has no NCCL (build against a CUDA LibTorch)");
#endif
  }
  try {
    auto gloo_options = c10d::ProcessGroupGloo::Options::create(timeout);
    // The interface GLOO_SOCKET_IFNAME names; else loopback on one machine, the host's address
    // otherwise.
    if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname) {
      gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else if (loopback(rank.master_addr)) {
      gloo_options->devices.push_back(
          c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
      gloo_options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    gloo_options->threads = 2;
    auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank.rank, rank.world_size,
                                                             gloo_options);
    return std::unique_ptr<Collective>(new C10dCollective<c10d::ProcessGroupGloo>(
        store, group, rank.rank, rank.world_size, at::Device(at::kCPU)));
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("rank ", rank.rank, ": the Gloo process group did not form: ", e.what()));
  }
}

}  // namespace


absl::StatusOr<std::unique_ptr<Collective>> join_process_group(const RankInfo& rank,
                                                               const JoinOptions& options) {
  if (!rank.distributed()) return std::unique_ptr<Collective>(new SingleProcess());
  absl::StatusOr<c10::intrusive_ptr<c10d::Store>> store = open_store(rank, options.timeout);
  if (!store.ok()) return store.status();
  absl::StatusOr<std::unique_ptr<Collective>> group = make_group(rank, options, *store);
  if (!group.ok()) return group.status();
  // Every rank must train the same run: compare with rank 0's resolved config.
  absl::StatusOr<std::vector<std::string>> configs = (*group)->all_gather(options.resolved_config);
  if (!configs.ok()) return configs.status();
  for (int r = 1; r < rank.world_size; ++r) {
    const std::string key = first_differing_key((*configs)[0], (*configs)[r]);
    if (!key.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          key, ": rank ", r, "'s resolved config differs from rank 0's here; every rank must "
          "run the same config"));
    }
  }
  return group;
}


}  // namespace forge::rl
