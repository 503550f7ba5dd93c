#include "rollout/client.h"

#include <condition_variable>
#include <mutex>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "forge/v1/rollout.grpc.pb.h"
#include "proto/grpc_util.h"
#include "rollout/proto_convert.h"

namespace forge::rollout {

struct Client::Stub {
  std::unique_ptr<forge::v1::RolloutService::Stub> stub;
  std::unique_ptr<grpc::GenericStub> raw;  // UpdateWeights without copying the chunks' data
};

namespace {

absl::Status worker_error(const std::string& address, const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat("rollout worker ", address, ": ", status.error_message()));
}

void set_deadline(grpc::ClientContext* context, std::chrono::milliseconds timeout) {
  if (timeout.count() > 0) context->set_deadline(std::chrono::system_clock::now() + timeout);
}

// One UpdateWeights call on the raw (ByteBuffer) stub: writes the payload's chunks one after the
// other (each points into the payload, weight_chunk_wire.h), half-closes, reads the answer.
// The reactor's callbacks run on gRPC's threads; wait() blocks the caller until OnDone.
class WeightPushCall final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit WeightPushCall(const WeightPayload& payload) : payload_(payload) {}

  void start(grpc::GenericStub& stub, grpc::ClientContext* context) {
    static const std::string method =
        absl::StrCat("/", forge::v1::RolloutService::service_full_name(), "/UpdateWeights");
    stub.PrepareBidiStreamingCall(context, method, grpc::StubOptions(), this);
    StartRead(&answer_);
    write_next();
    StartCall();
  }
  // The call's status and the worker's answer (parsed).
  grpc::Status wait(forge::v1::UpdateWeightsResponse* response) {
    grpc::Status status;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return done_; });
      status = status_;
    }
    if (status.ok() &&
        !grpc::SerializationTraits<forge::v1::UpdateWeightsResponse>::Deserialize(&answer_, response).ok()) {
      return grpc::Status(grpc::StatusCode::INTERNAL, "the worker's UpdateWeightsResponse does not parse");
    }
    return status;
  }

  void OnWriteDone(bool ok) override {
    if (ok) write_next();  // else the worker ended the call: OnDone says why
  }
  void OnReadDone(bool /*ok*/) override {}
  void OnDone(const grpc::Status& status) override {
    // Notified under the lock, so the waiter cannot destroy this before the callback returns.
    std::lock_guard<std::mutex> lock(mu_);
    status_ = status;
    done_ = true;
    cv_.notify_all();
  }

 private:
  void write_next() {
    if (next_ == payload_.num_chunks()) {
      StartWritesDone();
      return;
    }
    current_ = payload_.wire(next_++);
    StartWrite(&current_);
  }

  const WeightPayload& payload_;
  size_t next_ = 0;
  grpc::ByteBuffer current_;
  grpc::ByteBuffer answer_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  grpc::Status status_;
};

}  // namespace

Client::Client(const std::string& address, const ClientOptions& options)
    : address_(address), options_(options), stub_(std::make_unique<Stub>()) {
  std::shared_ptr<grpc::Channel> channel = net::make_channel(address);
  stub_->stub = forge::v1::RolloutService::NewStub(channel);
  stub_->raw = std::make_unique<grpc::GenericStub>(channel);
}

Client::~Client() = default;

absl::StatusOr<std::vector<Completion>> Client::generate(const GenerationRequest& request) const {
  forge::v1::GenerateRequest proto;
  request_to_proto(request, &proto);
  grpc::ClientContext context;
  set_deadline(&context, options_.timeout);
  forge::v1::GenerateResponse response;
  grpc::Status status = stub_->stub->Generate(&context, proto, &response);
  if (!status.ok()) return worker_error(address_, status);
  std::vector<Completion> out;
  out.reserve(response.completions_size());
  for (const auto& c : response.completions()) out.push_back(completion_from_proto(c));
  return out;
}

absl::Status Client::generate_stream(const GenerationRequest& request,
                                     const std::function<void(Completion&&)>& on_completion) const {
  forge::v1::GenerateRequest proto;
  request_to_proto(request, &proto);
  grpc::ClientContext context;
  set_deadline(&context, options_.timeout);
  std::unique_ptr<grpc::ClientReader<forge::v1::Completion>> reader =
      stub_->stub->GenerateStream(&context, proto);
  forge::v1::Completion c;
  while (reader->Read(&c)) on_completion(completion_from_proto(c));
  grpc::Status status = reader->Finish();
  if (!status.ok()) return worker_error(address_, status);
  return absl::OkStatus();
}

absl::StatusOr<WeightPushResult> Client::push_weights(const WeightPayload& payload) const {
  const auto start = std::chrono::steady_clock::now();
  grpc::ClientContext context;
  set_deadline(&context, options_.push_timeout);
  forge::v1::UpdateWeightsResponse response;
  WeightPushCall call(payload);
  call.start(*stub_->raw, &context);
  grpc::Status status = call.wait(&response);
  if (!status.ok()) return worker_error(address_, status);
  WeightPushResult out;
  out.version = response.version();
  out.previous_version = response.previous_version();
  out.tensors = response.tensors_updated();
  out.bytes = response.bytes_received();
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

absl::StatusOr<WorkerInfo> Client::info(std::chrono::milliseconds timeout) const {
  grpc::ClientContext context;
  set_deadline(&context, timeout);
  forge::v1::WorkerInfo r;
  grpc::Status status = stub_->stub->GetInfo(&context, forge::v1::GetInfoRequest(), &r);
  if (!status.ok()) return worker_error(address_, status);
  return worker_info_from_proto(r);
}

}  // namespace forge::rollout
