// Every Forge server answers the standard health protocol and server reflection; checked here against
// a real server on loopback.
#include "proto/grpc_util.h"

#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include "forge/v1/trainer.grpc.pb.h"

namespace forge::net {
namespace {

using std::chrono::milliseconds;

const char* const kName = forge::v1::TrainerService::service_full_name();

class TrainerServiceWithNothing final : public forge::v1::TrainerService::Service {};

// One ServerReflectionInfo exchange asking `list_services`, done with the generic stub (the
// reflection client stubs are not installed by Debian). Returns the raw response bytes.
std::string list_services_raw(const std::string& address) {
  grpc::GenericStub stub(make_channel(address));
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  auto call = stub.PrepareCall(
      &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag;
  bool ok;
  auto step = [&](int id) {
    EXPECT_TRUE(cq.Next(&tag, &ok));
    EXPECT_EQ(tag, reinterpret_cast<void*>(id));
    return ok;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  if (!step(1)) return "";
  // ServerReflectionRequest{list_services: ""}: field 7, wire type 2, length 0.
  const std::string request("\x3a\x00", 2);
  grpc::Slice slice(request);
  grpc::ByteBuffer out(&slice, 1);
  call->Write(out, reinterpret_cast<void*>(2));
  if (!step(2)) return "";
  grpc::ByteBuffer in;
  call->Read(&in, reinterpret_cast<void*>(3));
  if (!step(3)) return "";
  call->WritesDone(reinterpret_cast<void*>(4));
  step(4);
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  step(5);
  std::vector<grpc::Slice> slices;
  EXPECT_TRUE(in.Dump(&slices).ok());
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return bytes;
}

TEST(GrpcUtil, ServerAnswersHealthForAllAndForEachService) {
  TrainerServiceWithNothing service;
  auto running = start_server("127.0.0.1:0", {{&service, kName}});
  ASSERT_TRUE(running.ok()) << running.status();
  ASSERT_GT(running->port, 0);
  const std::string address = "127.0.0.1:" + std::to_string(running->port);

  EXPECT_TRUE(check_health(address, milliseconds(2000)).ok());
  EXPECT_TRUE(check_health(address, milliseconds(2000), "forge.v1.TrainerService").ok());
  absl::Status unknown = check_health(address, milliseconds(2000), "no.such.Service");
  EXPECT_EQ(unknown.code(), absl::StatusCode::kNotFound) << unknown;
  running->server->Shutdown();
}

TEST(GrpcUtil, ServerAnswersReflection) {
  TrainerServiceWithNothing service;
  auto running = start_server("127.0.0.1:0", {{&service, kName}});
  ASSERT_TRUE(running.ok()) << running.status();
  const std::string raw = list_services_raw("127.0.0.1:" + std::to_string(running->port));
  EXPECT_NE(raw.find("forge.v1.TrainerService"), std::string::npos);
  EXPECT_NE(raw.find("grpc.health.v1.Health"), std::string::npos);
  running->server->Shutdown();
}

TEST(GrpcUtil, WaitUntilHealthyTimesOutOnNothingListening) {
  // Bind and release a port so nothing listens on it.
  TrainerServiceWithNothing service;
  auto running = start_server("127.0.0.1:0", {{&service, kName}});
  ASSERT_TRUE(running.ok());
  const std::string address = "127.0.0.1:" + std::to_string(running->port);
  running->server->Shutdown();
  running->server.reset();
  absl::Status st = wait_until_healthy(address, milliseconds(300));
  EXPECT_EQ(st.code(), absl::StatusCode::kDeadlineExceeded) << st;
  EXPECT_NE(std::string(st.message()).find(address), std::string::npos) << st;
}

TEST(GrpcUtil, BusyAddressIsAnErrorNamingIt) {
  TrainerServiceWithNothing a, b;
  auto first = start_server("127.0.0.1:0", {{&a, kName}});
  ASSERT_TRUE(first.ok());
  const std::string address = "127.0.0.1:" + std::to_string(first->port);
  auto second = start_server(address, {{&b, kName}});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(std::string(second.status().message()).find(address), std::string::npos);
  first->server->Shutdown();
}

TEST(GrpcUtil, StatusMappingKeepsCodeAndMessage) {
  absl::Status st = absl::InvalidArgumentError("sampling.top_p: must be in (0, 1]");
  grpc::Status g = to_grpc(st);
  EXPECT_EQ(g.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(g.error_message(), "sampling.top_p: must be in (0, 1]");
  EXPECT_EQ(from_grpc(g), st);
  EXPECT_EQ(to_grpc(absl::ResourceExhaustedError("x")).error_code(),
            grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(to_grpc(absl::OkStatus()).ok());
}

}  // namespace
}  // namespace forge::net
