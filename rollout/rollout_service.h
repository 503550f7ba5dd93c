// forge.v1.RolloutService on gRPC's callback API, over an Engine: no thread per call; the engine
// thread finishes Generate calls and writes GenerateStream completions as they finish. Handlers are
// thin (proto -> domain -> Engine / WeightReceiver -> to_grpc) and never throw: torch errors are
// caught here and in the engine thread.
//
// Cancellation and deadlines: a cancelled call cancels its engine request, which frees its cache
// slots before the next decode step.
// UpdateWeights streams into a spare WeightSet (weight_receiver.h) and publishes it only when the
// whole stream verified; the response is sent once the new version is current. It is a raw
// (ByteBuffer) method so that chunk data goes from gRPC's buffers into the weights in one copy
// (weight_chunk_wire.h); on the wire it is the proto's WeightChunk stream like any other method.
// Thread-safety: gRPC calls it from many threads; the engine outlives the service.
#pragma once

#include "forge/v1/rollout.grpc.pb.h"
#include "rollout/engine.h"

namespace forge::rollout {

using RolloutServiceBase = forge::v1::RolloutService::WithCallbackMethod_Generate<
    forge::v1::RolloutService::WithCallbackMethod_GenerateStream<
        forge::v1::RolloutService::WithRawCallbackMethod_UpdateWeights<
            forge::v1::RolloutService::WithCallbackMethod_GetInfo<forge::v1::RolloutService::Service>>>>;

class RolloutServiceImpl final : public RolloutServiceBase {
 public:
  explicit RolloutServiceImpl(Engine& engine) : engine_(engine) {}

  grpc::ServerUnaryReactor* Generate(grpc::CallbackServerContext* context,
                                     const forge::v1::GenerateRequest* request,
                                     forge::v1::GenerateResponse* response) override;
  grpc::ServerWriteReactor<forge::v1::Completion>* GenerateStream(
      grpc::CallbackServerContext* context, const forge::v1::GenerateRequest* request) override;
  grpc::ServerReadReactor<grpc::ByteBuffer>* UpdateWeights(grpc::CallbackServerContext* context,
                                                         grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetInfo(grpc::CallbackServerContext* context,
                                    const forge::v1::GetInfoRequest* request,
                                    forge::v1::WorkerInfo* response) override;

 private:
  Engine& engine_;
};

}  // namespace forge::rollout
