#include "rollout/rollout_service.h"

#include <algorithm>
#include <deque>
#include <memory>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "proto/grpc_util.h"
#include "rollout/proto_convert.h"
#include "rollout/weight_chunk_wire.h"
#include "rollout/weight_receiver.h"

namespace forge::rollout {
namespace {

using forge::net::to_grpc;

// Submits a request built from `proto`; errors come back as a status to finish the call with.
absl::StatusOr<std::shared_ptr<RequestHandle>> submit_proto(Engine& engine,
                                                            const forge::v1::GenerateRequest& proto,
                                                            Engine::Callbacks callbacks) {
  absl::StatusOr<GenerationRequest> request = request_from_proto(proto, engine.tokenizer());
  if (!request.ok()) return request.status();
  return engine.submit(std::move(request).value(), std::move(callbacks));
}

class GenerateCall final : public grpc::ServerUnaryReactor {
 public:
  GenerateCall(Engine& engine, const forge::v1::GenerateRequest& request,
               forge::v1::GenerateResponse* response)
      : response_(response) {
    Engine::Callbacks callbacks;
    // Both run on the engine thread, one after the other.
    callbacks.on_completion = [this](Completion&& c) { completions_.push_back(std::move(c)); };
    callbacks.on_done = [this](const absl::Status& status) {
      if (status.ok()) {
        std::sort(completions_.begin(), completions_.end(), [](const Completion& a, const Completion& b) {
          return std::make_pair(a.prompt_index, a.sample_index) <
                 std::make_pair(b.prompt_index, b.sample_index);
        });
        for (const Completion& c : completions_) completion_to_proto(c, response_->add_completions());
      }
      Finish(to_grpc(status));  // the call may end (and delete this) from here on
    };
    absl::StatusOr<std::shared_ptr<RequestHandle>> handle =
        submit_proto(engine, request, std::move(callbacks));
    if (!handle.ok()) {
      Finish(to_grpc(handle.status()));
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    handle_ = std::move(handle).value();
  }

  void OnCancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (handle_) handle_->cancel();
  }
  void OnDone() override { delete this; }

 private:
  forge::v1::GenerateResponse* response_;
  std::vector<Completion> completions_;
  std::mutex mu_;
  std::shared_ptr<RequestHandle> handle_;
};

class GenerateStreamCall final : public grpc::ServerWriteReactor<forge::v1::Completion> {
 public:
  GenerateStreamCall(Engine& engine, const forge::v1::GenerateRequest& request) {
    Engine::Callbacks callbacks;
    callbacks.on_completion = [this](Completion&& c) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (broken_) return;
        pending_.emplace_back();
        completion_to_proto(c, &pending_.back());
      }
      pump();
    };
    callbacks.on_done = [this](const absl::Status& status) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        done_ = true;
        final_ = status;
      }
      pump();
    };
    absl::StatusOr<std::shared_ptr<RequestHandle>> handle =
        submit_proto(engine, request, std::move(callbacks));
    if (!handle.ok()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        finished_ = true;
      }
      Finish(to_grpc(handle.status()));
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    handle_ = std::move(handle).value();
  }

  void OnWriteDone(bool ok) override {
    std::shared_ptr<RequestHandle> cancel;
    {
      std::lock_guard<std::mutex> lock(mu_);
      writing_ = false;
      if (!ok) {  // the client is gone: stop generating, finish once the engine let go
        broken_ = true;
        pending_.clear();
        cancel = handle_;
      }
    }
    if (cancel) cancel->cancel();
    pump();
  }
  void OnCancel() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (handle_) handle_->cancel();
  }
  void OnDone() override { delete this; }

 private:
  // Starts the next write, or finishes once the engine is done and everything is written. Reactor
  // operations are started outside mu_.
  void pump() {
    enum { kNothing, kWrite, kFinish } action = kNothing;
    grpc::Status status;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (writing_ || finished_) return;
      if (!pending_.empty()) {
        current_ = std::move(pending_.front());
        pending_.pop_front();
        writing_ = true;
        action = kWrite;
      } else if (done_) {
        finished_ = true;
        status = to_grpc(final_);
        action = kFinish;
      }
    }
    if (action == kWrite) StartWrite(&current_);
    if (action == kFinish) Finish(status);
  }

  std::mutex mu_;
  std::shared_ptr<RequestHandle> handle_;
  std::deque<forge::v1::Completion> pending_;
  forge::v1::Completion current_;  // being written
  bool writing_ = false;
  bool done_ = false;      // the engine called on_done
  bool broken_ = false;    // a write failed
  bool finished_ = false;  // Finish was called
  absl::Status final_;
};

// Reads raw chunks (weight_chunk_wire.h: the data is checked and copied straight out of gRPC's
// receive buffers) and answers with a serialized UpdateWeightsResponse.
class UpdateWeightsCall final : public grpc::ServerReadReactor<grpc::ByteBuffer> {
 public:
  UpdateWeightsCall(Engine& engine, grpc::ByteBuffer* response)
      : store_(engine.weights()), response_(response) {
    absl::StatusOr<std::shared_ptr<WeightSet>> spare = store_.acquire_spare();
    if (!spare.ok()) {
      Finish(to_grpc(spare.status()));
      return;
    }
    try {
      receiver_ = std::make_unique<WeightReceiver>(std::move(spare).value());
    } catch (const std::exception& e) {
      fail(absl::InternalError(absl::StrCat("weight update: ", e.what())));
      return;
    }
    StartRead(&buffer_);
  }

  void OnReadDone(bool ok) override {
    try {
      if (ok) {
        absl::Status status = decode_weight_chunk(buffer_, &chunk_);
        buffer_.Clear();
        if (!status.ok()) return fail(status);
        status = receiver_->add(weight_chunk_view(chunk_.header, std::move(chunk_.data)));
        if (!status.ok()) return fail(status);
        StartRead(&buffer_);
        return;
      }
      // The stream ended: the client half-closed, or went away (then it is likely incomplete).
      absl::Status status = receiver_->finish();
      if (!status.ok()) return fail(status);
      const int64_t previous = store_.current_version();
      store_.publish(receiver_->target(), receiver_->version());
      forge::v1::UpdateWeightsResponse response;
      response.set_version(receiver_->version());
      response.set_tensors_updated(receiver_->tensors_completed());
      response.set_bytes_received(receiver_->bytes_received());
      response.set_previous_version(previous);
      receiver_.reset();
      bool own_buffer = false;
      grpc::Status serialized = grpc::SerializationTraits<forge::v1::UpdateWeightsResponse>::Serialize(
          response, response_, &own_buffer);
      Finish(serialized);
    } catch (const std::exception& e) {
      fail(absl::InternalError(absl::StrCat("weight update: ", e.what())));
    }
  }
  void OnDone() override {
    if (receiver_) store_.release_spare(receiver_->target());
    delete this;
  }

 private:
  // Gives the spare back untouched-as-far-as-anyone-can-see and ends the call with `status`.
  void fail(const absl::Status& status) {
    if (receiver_) {
      store_.release_spare(receiver_->target());
      receiver_.reset();
    }
    Finish(to_grpc(status));
  }

  WeightStore& store_;
  grpc::ByteBuffer* response_;
  std::unique_ptr<WeightReceiver> receiver_;
  grpc::ByteBuffer buffer_;
  DecodedWeightChunk chunk_;
};

}  // namespace

grpc::ServerUnaryReactor* RolloutServiceImpl::Generate(grpc::CallbackServerContext* context,
                                                       const forge::v1::GenerateRequest* request,
                                                       forge::v1::GenerateResponse* response) {
  return new GenerateCall(engine_, *request, response);
}

grpc::ServerWriteReactor<forge::v1::Completion>* RolloutServiceImpl::GenerateStream(
    grpc::CallbackServerContext* context, const forge::v1::GenerateRequest* request) {
  return new GenerateStreamCall(engine_, *request);
}

grpc::ServerReadReactor<grpc::ByteBuffer>* RolloutServiceImpl::UpdateWeights(
    grpc::CallbackServerContext* context, grpc::ByteBuffer* response) {
  return new UpdateWeightsCall(engine_, response);
}

grpc::ServerUnaryReactor* RolloutServiceImpl::GetInfo(grpc::CallbackServerContext* context,
                                                      const forge::v1::GetInfoRequest* request,
                                                      forge::v1::WorkerInfo* response) {
  WorkerInfo info;
  static_cast<EngineStats&>(info) = engine_.stats();
  info.model_config_json = engine_.config().to_json().dump();
  info.max_n = engine_.limits().max_n;
  worker_info_to_proto(info, response);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace forge::rollout
