// A plain HTTP/1.1 GET over loopback for tests of the /metrics endpoints (Boost.Beast, blocking,
// one connection per call). Thread-safety: a function.
#pragma once

#include <string>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace forge::test_support {

struct HttpAnswer {
  int status = 0;  // 0: no answer (the message says why)
  std::string body;
  std::string content_type;
  std::string error;
};

inline HttpAnswer http_get(const std::string& host, int port, const std::string& target,
                           const std::string& authorization = "") {
  namespace beast = boost::beast;
  namespace http = beast::http;
  using tcp = boost::asio::ip::tcp;
  HttpAnswer answer;
  try {
    boost::asio::io_context io;
    tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(resolver.resolve(host, std::to_string(port)));
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, host);
    if (!authorization.empty()) req.set(http::field::authorization, authorization);
    http::write(stream, req);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    answer.status = res.result_int();
    answer.body = res.body();
    answer.content_type = std::string(res[http::field::content_type]);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  } catch (const std::exception& e) {
    answer.error = e.what();
  }
  return answer;
}

// The value of the first sample line `series` (name plus labels, exactly as rendered) in a
// Prometheus text body; NaN when absent.
inline double sample_value(const std::string& body, const std::string& series) {
  size_t at = 0;
  while ((at = body.find(series + " ", at)) != std::string::npos) {
    if (at == 0 || body[at - 1] == '\n') {
      return std::stod(body.substr(at + series.size() + 1));
    }
    at += series.size();
  }
  return std::nan("");
}

}  // namespace forge::test_support
