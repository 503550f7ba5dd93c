#include "telemetry/metrics_server.h"

#include <chrono>
#include <optional>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/str_cat.h"

namespace forge::telemetry {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kIdleTimeout = std::chrono::seconds(30);
constexpr size_t kMaxRequestBytes = 64 << 10;

// Constant-time comparison: how much of a token matched must not show in the answer's timing.
bool same_secret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < a.size(); ++i) diff |= a[i] ^ (i < b.size() ? b[i] : 0);
  return diff == 0;
}

// One keep-alive connection: read a request, answer it, repeat until the peer closes or idles.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Registry& registry, const std::string& token)
      : stream_(std::move(socket)), registry_(registry), token_(token) {}

  void read() {
    request_ = {};
    parser_.emplace();
    parser_->body_limit(kMaxRequestBytes);
    parser_->header_limit(kMaxRequestBytes);
    stream_.expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->close();
                       self->request_ = self->parser_->release();
                       self->answer();
                     });
  }

 private:
  http::response<http::string_body> respond() const {
    http::response<http::string_body> res{http::status::ok, request_.version()};
    res.set(http::field::server, "forge");
    res.keep_alive(request_.keep_alive());
    auto plain = [&](http::status status, std::string body) {
      res.result(status);
      res.set(http::field::content_type, "text/plain; charset=utf-8");
      res.body() = std::move(body);
    };
    const beast::string_view target = request_.target();
    const beast::string_view path = target.substr(0, target.find('?'));
    if (path != "/metrics") {
      plain(http::status::not_found, "not found: this server answers GET /metrics\n");
    } else if (request_.method() != http::verb::get && request_.method() != http::verb::head) {
      plain(http::status::method_not_allowed, "only GET and HEAD\n");
      res.set(http::field::allow, "GET, HEAD");
    } else if (!token_.empty() && request_[http::field::authorization].empty()) {
      plain(http::status::unauthorized, "a bearer token is required\n");
      res.set(http::field::www_authenticate, "Bearer");
    } else if (!token_.empty() && !same_secret(std::string(request_[http::field::authorization]),
                                               "Bearer " + token_)) {
      plain(http::status::forbidden, "wrong bearer token\n");
    } else {
      res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res.body() = registry_.render();
    }
    res.prepare_payload();
    if (request_.method() == http::verb::head) res.body().clear();
    return res;
  }

  void answer() {
    auto res = std::make_shared<http::response<http::string_body>>(respond());
    const bool keep = res->keep_alive();
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res, keep](beast::error_code ec, size_t) {
                        if (ec || !keep) return self->close();
                        self->read();
                      });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::request<http::string_body> request_;
  const Registry& registry_;
  const std::string token_;
};

}  // namespace

struct MetricsServer::Impl {
  Impl(const Registry& r, std::string t) : registry(r), token(std::move(t)) {}

  void accept() {
    acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
      if (!ec) std::make_shared<Session>(std::move(socket), registry, token)->read();
      accept();
    });
  }

  const Registry& registry;
  const std::string token;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;
  int port = 0;
};

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::start(const std::string& address,
                                                                    const Registry& registry,
                                                                    const std::string& token) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address '", address, "': expected HOST:PORT"));
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  auto impl = std::make_unique<Impl>(registry, token);
  beast::error_code ec;
  tcp::resolver resolver(impl->io);
  const auto endpoints = resolver.resolve(
      host, address.substr(colon + 1), tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("metrics address '", address, "': ", ec ? ec.message() : "no address"));
  }
  const tcp::endpoint endpoint = *endpoints.begin();
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on '", address, "': ", ec.message()));
  }
  impl->port = impl->acceptor.local_endpoint().port();
  impl->accept();
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->io.run(); });
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(impl)));
}

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsServer::~MetricsServer() {
  asio::post(impl_->io, [impl = impl_.get()] {
    beast::error_code ignored;
    impl->acceptor.close(ignored);
  });
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int MetricsServer::port() const { return impl_->port; }

}  // namespace forge::telemetry
