// The /metrics endpoint over real HTTP on loopback: the registry's text, 404/405 elsewhere, the
// bearer token (401 without, 403 wrong, 200 right), keep-alive, and an address that cannot be
// bound.
#include "telemetry/metrics_server.h"

#include <gtest/gtest.h>

#include "tests/common/http_get.h"

namespace forge::telemetry {
namespace {

using test_support::http_get;

TEST(MetricsServer, ServesTheRegistryOnGetMetrics) {
  Registry registry;
  Counter& c = registry.counter("forge:requests_total", "Requests.");
  c.inc(5);
  auto server = MetricsServer::start("127.0.0.1:0", registry);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  ASSERT_GT(port, 0);
  auto answer = http_get("127.0.0.1", port, "/metrics");
  ASSERT_EQ(answer.status, 200) << answer.error;
  EXPECT_EQ(answer.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(test_support::sample_value(answer.body, "forge:requests_total"), 5);
  c.inc();  // every scrape renders afresh
  EXPECT_EQ(test_support::sample_value(http_get("127.0.0.1", port, "/metrics").body,
                                       "forge:requests_total"),
            6);
  EXPECT_EQ(http_get("127.0.0.1", port, "/").status, 404);
  EXPECT_EQ(http_get("127.0.0.1", port, "/metrics/x").status, 404);
}

TEST(MetricsServer, BearerTokenIsCheckedWhenSet) {
  Registry registry;
  registry.gauge("forge:g", "g").set(1);
  auto server = MetricsServer::start("127.0.0.1:0", registry, "s3cret");
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  EXPECT_EQ(http_get("127.0.0.1", port, "/metrics").status, 401);
  EXPECT_EQ(http_get("127.0.0.1", port, "/metrics", "Bearer wrong").status, 403);
  EXPECT_EQ(http_get("127.0.0.1", port, "/metrics", "Bearer s3cre").status, 403);
  auto ok = http_get("127.0.0.1", port, "/metrics", "Bearer s3cret");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(test_support::sample_value(ok.body, "forge:g"), 1);
}

TEST(MetricsServer, KeepsAConnectionAliveAcrossRequests) {
  namespace beast = boost::beast;
  namespace http = beast::http;
  Registry registry;
  registry.gauge("forge:g", "g").set(2);
  auto server = MetricsServer::start("127.0.0.1:0", registry);
  ASSERT_TRUE(server.ok());
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                                (*server)->port()));
  for (int i = 0; i < 3; ++i) {
    http::request<http::empty_body> req{i == 1 ? http::verb::post : http::verb::get, "/metrics",
                                        11};
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    EXPECT_EQ(res.result_int(), i == 1 ? 405 : 200);
  }
}

TEST(MetricsServer, AnAddressInUseIsAnErrorNamingIt) {
  Registry registry;
  auto first = MetricsServer::start("127.0.0.1:0", registry);
  ASSERT_TRUE(first.ok());
  const std::string taken = "127.0.0.1:" + std::to_string((*first)->port());
  auto second = MetricsServer::start(taken, registry);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find(taken), std::string::npos) << second.status();
  EXPECT_FALSE(MetricsServer::start("no-port", registry).ok());
}

}  // namespace
}  // namespace forge::telemetry
