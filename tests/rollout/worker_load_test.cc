// A rollout worker under load and faults, on loopback: 64 concurrent streaming clients for a
// bounded time all get exactly the completions an undisturbed engine gives (and the worker's
// Prometheus counters add up to what they received); a client that cancels mid-stream frees its
// cache slots (kv_cache_usage back to 0). The load test runs FORGE_LOAD_SECONDS seconds (default 3;
// the soak is FORGE_LOAD_SECONDS=60), the bench of a soak, not a timed test.
#include <atomic>
#include <cstdlib>
#include <map>
#include <thread>

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "forge/v1/rollout.grpc.pb.h"
#include "proto/grpc_util.h"
#include "rollout/client.h"
#include "rollout/proto_convert.h"
#include "rollout/worker_server.h"
#include "telemetry/metrics_server.h"
#include "tests/common/http_get.h"
#include "tests/rollout/test_util.h"

namespace forge::rollout {
namespace {

using test_support::http_get;
using test_support::sample_value;

double load_seconds() {
  const char* env = std::getenv("FORGE_LOAD_SECONDS");
  return env != nullptr ? std::atof(env) : 3.0;
}

// Request k of the load: one prompt, numbered k so that its seeds are those of prompt k.
GenerationRequest load_request(const std::vector<std::vector<int32_t>>& prompts, int k) {
  GenerationRequest r;
  r.prompts = {prompts[k]};
  r.first_prompt_index = k;
  r.sampling.n = 2;
  r.sampling.max_new_tokens = 12;
  r.sampling.temperature = 0.9;
  r.sampling.top_k = 50;
  r.sampling.seed = 5;
  return r;
}

// A worker over an engine of `max_batch_size` sequences, with its /metrics served.
struct ServedWorker {
  std::unique_ptr<RolloutWorker> worker;
  std::unique_ptr<telemetry::MetricsServer> metrics;  // destroyed first: it reads the engine
};

ServedWorker serve_worker(int max_batch_size) {
  EngineOptions options;
  options.max_batch_size = max_batch_size;
  ServedWorker served;
  auto started =
      RolloutWorker::start("127.0.0.1:0", testing::test_engine(testing::kSeedA, options));
  EXPECT_TRUE(started.ok()) << started.status();
  if (!started.ok()) return served;
  served.worker = std::move(started).value();
  auto metrics = telemetry::MetricsServer::start("127.0.0.1:0", served.worker->engine().metrics());
  EXPECT_TRUE(metrics.ok()) << metrics.status();
  if (metrics.ok()) served.metrics = std::move(metrics).value();
  return served;
}

TEST(WorkerLoad, SixtyFourStreamingClientsGetEveryCompletionRight) {
  constexpr int kClients = 64;
  constexpr int kPrompts = 8;
  ServedWorker served = serve_worker(64);
  ASSERT_TRUE(served.metrics);
  RolloutWorker* worker = served.worker.get();
  EngineOptions options;
  options.max_batch_size = 64;

  // What each request must answer: the same request on an undisturbed engine.
  const auto prompts = testing::test_prompts(kPrompts);
  std::map<int, std::vector<Completion>> expected;
  {
    auto engine = testing::test_engine(testing::kSeedA, options);
    for (int k = 0; k < kPrompts; ++k) {
      auto out = engine->generate(load_request(prompts, k));
      ASSERT_TRUE(out.ok()) << out.status();
      expected[k] = *std::move(out);
    }
  }

  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::milliseconds(static_cast<int64_t>(load_seconds() * 1000));
  std::atomic<int64_t> requests{0}, completions{0}, tokens{0}, wrong{0};
  std::vector<std::string> errors(kClients);
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto stub = forge::v1::RolloutService::NewStub(net::make_channel(worker->address()));
      for (int i = 0; std::chrono::steady_clock::now() < until && i < 100000; ++i) {
        const int k = (c + i) % kPrompts;
        forge::v1::GenerateRequest request;
        request_to_proto(load_request(prompts, k), &request);
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
        auto reader = stub->GenerateStream(&context, request);
        std::map<int, Completion> got;  // by sample index
        forge::v1::Completion message;
        while (reader->Read(&message)) {
          Completion completion = completion_from_proto(message);
          tokens += static_cast<int64_t>(completion.token_ids.size());
          ++completions;
          if (!got.emplace(completion.sample_index, std::move(completion)).second) ++wrong;
        }
        const grpc::Status status = reader->Finish();
        if (!status.ok()) {
          errors[c] = status.error_message();
          return;
        }
        ++requests;
        const std::vector<Completion>& want = expected[k];
        if (got.size() != want.size()) ++wrong;
        for (const Completion& w : want) {
          auto it = got.find(w.sample_index);
          if (it == got.end() || it->second.token_ids != w.token_ids ||
              it->second.prompt_index != w.prompt_index ||
              it->second.finish_reason != w.finish_reason ||
              it->second.logprobs.size() != it->second.token_ids.size()) {
            ++wrong;
          }
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  for (int c = 0; c < kClients; ++c) EXPECT_EQ(errors[c], "") << "client " << c;
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GE(requests.load(), kClients);
  std::cout << "[ load     ] " << kClients << " streaming clients, " << load_seconds()
            << " s: " << requests.load() << " requests, " << completions.load() << " completions, "
            << tokens.load() << " tokens, all correct" << std::endl;

  // The worker's own counters saw exactly that traffic.
  const auto scraped = http_get("127.0.0.1", served.metrics->port(), "/metrics");
  ASSERT_EQ(scraped.status, 200) << scraped.error;
  const double stop =
      sample_value(scraped.body, "forge:request_success_total{finished_reason=\"stop\"}");
  const double length =
      sample_value(scraped.body, "forge:request_success_total{finished_reason=\"length\"}");
  EXPECT_EQ(stop + length, completions.load());
  EXPECT_EQ(sample_value(scraped.body, "forge:generation_tokens_total"), tokens.load());
  EXPECT_EQ(sample_value(scraped.body, "forge:e2e_request_latency_seconds_count"),
            completions.load());
  EXPECT_EQ(sample_value(scraped.body, "forge:time_to_first_token_seconds_count"),
            completions.load());
  EXPECT_EQ(sample_value(scraped.body, "forge:num_requests_running"), 0);
  EXPECT_EQ(sample_value(scraped.body, "forge:kv_cache_usage_perc"), 0);
}

TEST(WorkerLoad, ACancelledStreamFreesItsCacheSlots) {
  ServedWorker served = serve_worker(8);
  ASSERT_TRUE(served.metrics);
  RolloutWorker* worker = served.worker.get();
  const int port = served.metrics->port();

  GenerationRequest long_request = load_request(testing::test_prompts(2), 1);
  long_request.sampling.n = 8;
  long_request.sampling.max_new_tokens = 400;
  forge::v1::GenerateRequest request;
  request_to_proto(long_request, &request);
  auto stub = forge::v1::RolloutService::NewStub(net::make_channel(worker->address()));
  grpc::ClientContext context;
  auto reader = stub->GenerateStream(&context, request);
  // Cancel once the worker is decoding the request (its slots hold tokens).
  double usage = 0;
  for (int i = 0; i < 1000 && usage == 0; ++i) {
    usage = sample_value(http_get("127.0.0.1", port, "/metrics").body, "forge:kv_cache_usage_perc");
    if (usage == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_GT(usage, 0);
  EXPECT_EQ(
      sample_value(http_get("127.0.0.1", port, "/metrics").body, "forge:num_requests_running"), 8);
  context.TryCancel();
  forge::v1::Completion ignored;
  while (reader->Read(&ignored)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);

  std::string body;
  for (int i = 0; i < 400; ++i) {
    body = http_get("127.0.0.1", port, "/metrics").body;
    if (sample_value(body, "forge:kv_cache_usage_perc") == 0 &&
        sample_value(body, "forge:num_requests_running") == 0) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(sample_value(body, "forge:kv_cache_usage_perc"), 0) << body;
  EXPECT_EQ(sample_value(body, "forge:num_requests_running"), 0);
  EXPECT_EQ(sample_value(body, "forge:num_requests_waiting"), 0);
  Client client(worker->address());
  EXPECT_EQ(client.info()->cache_bytes_used, 0);
  // The worker serves the next request in full.
  auto next = client.generate(load_request(testing::test_prompts(2), 0));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->size(), 2u);
}

}  // namespace
}  // namespace forge::rollout
