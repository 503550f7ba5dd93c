// RolloutService over real gRPC on loopback (in-process servers): generation through gRPC equals
// in-process generation; streaming, GetInfo and health; bad requests, overload and deadlines; weight
// updates that are refused when damaged and atomic while clients generate.
#include "rollout/worker_server.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include <grpcpp/grpcpp.h>

#include "forge/v1/rollout.grpc.pb.h"
#include "proto/grpc_util.h"
#include "rollout/client.h"
#include "rollout/proto_convert.h"
#include "test_util.h"

namespace forge::rollout {
namespace {

using testing::kSeedA;
using testing::kSeedB;

std::unique_ptr<RolloutWorker> start_worker(uint64_t seed, const EngineOptions& options = {}) {
  auto worker = RolloutWorker::start("127.0.0.1:0", testing::test_engine(seed, options));
  EXPECT_TRUE(worker.ok()) << worker.status();
  return std::move(worker).value();
}

GenerationRequest sample_request(int prompts, int n, int max_new_tokens, uint64_t seed) {
  GenerationRequest r;
  r.prompts = testing::test_prompts(prompts);
  r.sampling.n = n;
  r.sampling.max_new_tokens = max_new_tokens;
  r.sampling.seed = seed;
  r.sampling.temperature = 0.9;
  r.sampling.top_k = 50;
  return r;
}

std::unique_ptr<forge::v1::RolloutService::Stub> stub(const std::string& address) {
  return forge::v1::RolloutService::NewStub(net::make_channel(address));
}

void expect_same(const std::vector<Completion>& x, const std::vector<Completion>& y) {
  ASSERT_EQ(x.size(), y.size());
  for (size_t i = 0; i < x.size(); ++i) {
    EXPECT_EQ(x[i].prompt_index, y[i].prompt_index);
    EXPECT_EQ(x[i].sample_index, y[i].sample_index);
    EXPECT_EQ(x[i].token_ids, y[i].token_ids);
    EXPECT_EQ(x[i].logprobs, y[i].logprobs);  // same engine: bit-identical
    EXPECT_EQ(x[i].text, y[i].text);
    EXPECT_EQ(x[i].finish_reason, y[i].finish_reason);
    EXPECT_EQ(x[i].policy_version, y[i].policy_version);
  }
}

TEST(WorkerTest, GrpcGenerationEqualsInProcessGeneration) {
  auto worker = start_worker(kSeedA);
  Client client(worker->address());
  GenerationRequest request = sample_request(3, 2, 10, 31);
  auto remote = client.generate(request);
  ASSERT_TRUE(remote.ok()) << remote.status();
  auto local = worker->engine().generate(request);
  ASSERT_TRUE(local.ok());
  expect_same(*remote, *local);
  policy::Model model = testing::test_model(kSeedA);
  for (const Completion& c : *remote) testing::expect_matches_reference(c, *model, request);
}

TEST(WorkerTest, TextPromptsAreTokenizedByTheWorker) {
  auto worker = start_worker(kSeedA);
  forge::v1::GenerateRequest proto;
  proto.add_prompts()->set_text("2+2=<think>");
  proto.mutable_sampling()->set_max_new_tokens(6);
  proto.mutable_sampling()->set_seed(3);
  grpc::ClientContext context;
  forge::v1::GenerateResponse response;
  ASSERT_TRUE(stub(worker->address())->Generate(&context, proto, &response).ok());
  ASSERT_EQ(response.completions_size(), 1);
  const std::vector<int32_t> expected = {'2', '+', '2', '=', 259};
  EXPECT_EQ(std::vector<int32_t>(response.completions(0).prompt_token_ids().begin(),
                                 response.completions(0).prompt_token_ids().end()),
            expected);
  GenerationRequest same;
  same.prompts = {expected};
  same.sampling.max_new_tokens = 6;
  same.sampling.seed = 3;
  auto local = worker->engine().generate(same);
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(completion_from_proto(response.completions(0)).token_ids, (*local)[0].token_ids);
}

TEST(WorkerTest, StreamDeliversEveryCompletion) {
  auto worker = start_worker(kSeedA);
  Client client(worker->address());
  GenerationRequest request = sample_request(3, 3, 8, 4);
  std::vector<Completion> streamed;
  ASSERT_TRUE(client.generate_stream(request, [&](Completion&& c) { streamed.push_back(std::move(c)); }).ok());
  std::sort(streamed.begin(), streamed.end(), [](const Completion& a, const Completion& b) {
    return std::make_pair(a.prompt_index, a.sample_index) < std::make_pair(b.prompt_index, b.sample_index);
  });
  auto unary = client.generate(request);
  ASSERT_TRUE(unary.ok());
  expect_same(streamed, *unary);
}

TEST(WorkerTest, GetInfoAndHealth) {
  EngineOptions options;
  options.max_batch_size = 8;
  auto worker = start_worker(kSeedA, options);
  EXPECT_TRUE(net::check_health(worker->address(), std::chrono::seconds(5)).ok());
  EXPECT_TRUE(net::check_health(worker->address(), std::chrono::seconds(5),
                                forge::v1::RolloutService::service_full_name()).ok());
  Client client(worker->address());
  ASSERT_TRUE(client.generate(sample_request(1, 2, 4, 0)).ok());
  auto info = client.info();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->policy_version, 0);
  EXPECT_NE(info->model_config_json.find("\"kv_lora_rank\":32"), std::string::npos);
  EXPECT_EQ(info->cache_slots, 8);
  EXPECT_EQ(info->max_batch_size, 8);
  EXPECT_EQ(info->max_seq_len, 512);
  EXPECT_EQ(info->cache_bytes_capacity, int64_t{8} * 512 * 2 * (32 + 16) * 4);
  EXPECT_EQ(info->active_sequences, 0);
  EXPECT_EQ(info->device, "cpu");
  EXPECT_GE(info->tokens_generated, 2);
  EXPECT_EQ(info->requests_completed, 1);
  worker->shutdown(std::chrono::milliseconds(0));
  EXPECT_FALSE(net::check_health(worker->address(), std::chrono::milliseconds(500)).ok());
}

TEST(WorkerTest, BadRequestsAreInvalidArgumentAndTheWorkerKeepsServing) {
  auto worker = start_worker(kSeedA);
  auto s = stub(worker->address());
  auto call = [&](const forge::v1::GenerateRequest& r) {
    grpc::ClientContext context;
    forge::v1::GenerateResponse response;
    return s->Generate(&context, r, &response);
  };
  forge::v1::GenerateRequest good;
  request_to_proto(sample_request(3, 1, 4, 0), &good);

  forge::v1::GenerateRequest r = good;
  r.mutable_prompts(2)->set_token_ids(5, 999);
  grpc::Status status = call(r);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "prompts[2].token_ids[5]: 999 outside the vocabulary [0, 272)");

  r = good;
  r.mutable_prompts(1)->set_text("both");
  status = call(r);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "prompts[1]: give text or token_ids, not both");

  r = good;
  r.clear_prompts();
  EXPECT_EQ(call(r).error_message(), "prompts: no prompts");
  r = good;
  r.mutable_sampling()->set_top_p(0);
  EXPECT_EQ(call(r).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  r = good;
  r.mutable_sampling()->set_n(-1);
  EXPECT_NE(call(r).error_message().find("sampling.n"), std::string::npos);
  r = good;
  r.mutable_sampling()->set_max_new_tokens(600);
  EXPECT_NE(call(r).error_message().find("sampling.max_new_tokens: 600 new tokens"), std::string::npos);

  EXPECT_TRUE(call(good).ok());
}

TEST(WorkerTest, OverloadIsResourceExhausted) {
  EngineOptions options;
  options.max_batch_size = 1;
  options.max_queued = 4;
  auto worker = start_worker(kSeedA, options);
  auto s = stub(worker->address());
  grpc::ClientContext long_context;
  forge::v1::GenerateRequest long_request;
  request_to_proto(sample_request(1, 4, 400, 0), &long_request);
  std::thread runner([&] {
    forge::v1::GenerateResponse response;
    s->Generate(&long_context, long_request, &response);
  });
  Client client(worker->address());
  while (client.info()->active_sequences == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto rejected = client.generate(sample_request(1, 2, 4, 0));
  EXPECT_EQ(rejected.status().code(), absl::StatusCode::kResourceExhausted) << rejected.status();
  long_context.TryCancel();
  runner.join();
  // The cancelled sequences leave before the engine's next step; then the worker serves again.
  for (int i = 0; i < 500; ++i) {
    auto info = client.info();
    if (info.ok() && info->active_sequences == 0 && info->queued_sequences == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto after = client.generate(sample_request(1, 2, 4, 0));
  EXPECT_TRUE(after.ok()) << after.status();
}

TEST(WorkerTest, ADeadlineFreesTheRequestsSlots) {
  EngineOptions options;
  options.max_batch_size = 4;
  auto worker = start_worker(kSeedA, options);
  ClientOptions client_options;
  client_options.timeout = std::chrono::milliseconds(300);
  Client hasty(worker->address(), client_options);
  auto out = hasty.generate(sample_request(1, 4, 500, 0));
  EXPECT_EQ(out.status().code(), absl::StatusCode::kDeadlineExceeded) << out.status();
  Client client(worker->address());
  int active = -1;
  for (int i = 0; i < 200; ++i) {
    active = client.info()->active_sequences;
    if (active == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(active, 0);
  EXPECT_EQ(client.info()->cache_bytes_used, 0);
  auto four = client.generate(sample_request(1, 4, 3, 0));
  ASSERT_TRUE(four.ok());
  EXPECT_EQ(four->size(), 4u);
}

std::vector<std::pair<std::string, at::Tensor>> weights_of(const policy::Model& model) {
  return model->named_tensors();
}

// Streams chunks through a raw UpdateWeights call, after `edit`.
grpc::Status push_raw(const std::string& address, const WeightPayload& payload,
                      const std::function<void(std::vector<forge::v1::WeightChunk>&)>& edit) {
  std::vector<forge::v1::WeightChunk> chunks(payload.num_chunks());
  for (size_t i = 0; i < chunks.size(); ++i) payload.fill(i, &chunks[i]);
  edit(chunks);
  auto s = stub(address);
  grpc::ClientContext context;
  forge::v1::UpdateWeightsResponse response;
  auto writer = s->UpdateWeights(&context, &response);
  for (const auto& c : chunks) {
    if (!writer->Write(c)) break;
  }
  writer->WritesDone();
  return writer->Finish();
}

TEST(WorkerTest, ACorruptedOrPartialUpdateIsRefusedAndChangesNothing) {
  auto worker = start_worker(kSeedA);
  Client client(worker->address());
  GenerationRequest request = sample_request(2, 1, 8, 5);
  auto before = client.generate(request);
  ASSERT_TRUE(before.ok());
  auto payload = WeightPayload::build(weights_of(testing::test_model(kSeedB)), 1, 64 << 10);
  ASSERT_TRUE(payload.ok());

  std::string victim;
  grpc::Status corrupted = push_raw(worker->address(), *payload, [&](auto& chunks) {
    forge::v1::WeightChunk& c = chunks[chunks.size() / 2];
    victim = c.name();
    std::string data = c.data();
    data[7] ^= 1;
    c.set_data(data);
  });
  EXPECT_EQ(corrupted.error_code(), grpc::StatusCode::DATA_LOSS);
  EXPECT_NE(corrupted.error_message().find("tensor '" + victim + "'"), std::string::npos)
      << corrupted.error_message();
  EXPECT_NE(corrupted.error_message().find("crc32"), std::string::npos);

  grpc::Status partial = push_raw(worker->address(), *payload, [](auto& chunks) {
    chunks.resize(chunks.size() / 2);
  });
  EXPECT_EQ(partial.error_code(), grpc::StatusCode::DATA_LOSS);
  EXPECT_NE(partial.error_message().find("weight update incomplete"), std::string::npos);

  grpc::Status wrong_shape = push_raw(worker->address(), *payload, [](auto& chunks) {
    chunks[0].set_shape(0, 7);
  });
  EXPECT_EQ(wrong_shape.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  EXPECT_EQ(client.info()->policy_version, 0);
  auto after = client.generate(request);
  ASSERT_TRUE(after.ok());
  expect_same(*before, *after);

  // A good update still goes through (every refused attempt gave its spare back).
  auto pushed = client.push_weights(*payload);
  ASSERT_TRUE(pushed.ok()) << pushed.status();
  EXPECT_EQ(pushed->version, 1);
  EXPECT_EQ(pushed->previous_version, 0);
  EXPECT_EQ(pushed->bytes, payload->total_bytes());
  auto updated = client.generate(request);
  ASSERT_TRUE(updated.ok());
  policy::Model model_b = testing::test_model(kSeedB);
  for (const Completion& c : *updated) {
    EXPECT_EQ(c.policy_version, 1);
    testing::expect_matches_reference(c, *model_b, request);
  }
}

TEST(WorkerTest, AWeightUpdateWhileClientsGenerateIsAtomic) {
  auto worker = start_worker(kSeedA);
  const std::string address = worker->address();
  policy::Model models[2] = {testing::test_model(kSeedA), testing::test_model(kSeedB)};
  // Version v holds models[v % 2]: A, B, A, B.
  std::vector<WeightPayload> payloads;
  for (int v = 1; v <= 3; ++v) {
    auto p = WeightPayload::build(weights_of(models[v % 2]), v, 256 << 10);
    ASSERT_TRUE(p.ok());
    payloads.push_back(std::move(p).value());
  }

  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<std::pair<GenerationRequest, Completion>> seen;
  std::vector<std::thread> clients;
  for (int t = 0; t < 3; ++t) {
    clients.emplace_back([&, t] {
      Client client(address);
      for (uint64_t round = 0; !stop.load(); ++round) {
        GenerationRequest r = sample_request(1 + t % 2, 2, 6, 1000 * t + round);
        if (t == 2) {
          std::vector<Completion> streamed;
          absl::Status status =
              client.generate_stream(r, [&](Completion&& c) { streamed.push_back(std::move(c)); });
          ASSERT_TRUE(status.ok()) << status;
          std::lock_guard<std::mutex> lock(mu);
          for (auto& c : streamed) seen.emplace_back(r, std::move(c));
          continue;
        }
        auto out = client.generate(r);
        ASSERT_TRUE(out.ok()) << out.status();
        std::lock_guard<std::mutex> lock(mu);
        for (auto& c : *out) seen.emplace_back(r, std::move(c));
      }
    });
  }
  Client pusher(address);
  for (const WeightPayload& p : payloads) {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    auto pushed = pusher.push_weights(p);
    ASSERT_TRUE(pushed.ok()) << pushed.status();
    EXPECT_EQ(pusher.info()->policy_version, p.version());
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  stop = true;
  for (auto& t : clients) t.join();

  // Every completion is exactly what its recorded version's weights give (A and B differ on every
  // sample, so a mix of versions inside one completion could not match either).
  std::set<int64_t> versions;
  for (const auto& [request, c] : seen) {
    versions.insert(c.policy_version);
    testing::expect_matches_reference(c, *models[c.policy_version % 2], request);
  }
  EXPECT_GE(versions.size(), 3u) << "the pushes did not overlap the generation";
  EXPECT_GT(seen.size(), 20u);
}

}  // namespace
}  // namespace forge::rollout
