#include "node/admin_server.hpp"

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

#include "net/udp/udp_runtime.hpp"
#include "node/logging.hpp"

namespace forestcast::node {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

constexpr auto kIdleTimeout = std::chrono::seconds(10);

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<AdminHandler> handler,
          std::shared_ptr<size_t> open_connections)
      : stream_(std::move(socket)),
        buffer_(AdminServer::kMaxRequestBytes),
        handler_(std::move(handler)),
        open_connections_(std::move(open_connections)) {
    ++*open_connections_;
  }
  ~Session() { --*open_connections_; }

  void read() {
    parser_.emplace();
    parser_->header_limit(AdminServer::kMaxRequestBytes);
    parser_->body_limit(AdminServer::kMaxRequestBytes);
    stream_.expires_after(kIdleTimeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

 private:
  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream) return shutdown();
    if (ec) return;  // timeout, oversize request, garbage: just drop the connection
    const auto& req = parser_->get();
    (*handler_)(std::string_view(req.method_string().data(), req.method_string().size()),
                std::string_view(req.target().data(), req.target().size()),
                [self = shared_from_this()](AdminResponse r) { self->write(std::move(r)); });
  }

  void write(AdminResponse r) {
    const auto& req = parser_->get();
    response_ = {};
    response_.version(req.version());
    response_.result(r.status);
    response_.set(http::field::server, "forestcast");
    response_.set(http::field::content_type, r.content_type);
    response_.set(http::field::cache_control, "no-store");
    response_.keep_alive(req.keep_alive());
    response_.body() = std::move(r.body);
    response_.prepare_payload();
    stream_.expires_after(kIdleTimeout);
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code wec, size_t) {
                        if (wec) return;
                        if (!self->response_.keep_alive()) return self->shutdown();
                        self->read();
                      });
  }

  void shutdown() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  http::response<http::string_body> response_;
  std::shared_ptr<AdminHandler> handler_;
  std::shared_ptr<size_t> open_connections_;
};

}  // namespace

AdminServer::AdminServer(asio::io_context& io, AdminHandler handler)
    : io_(io),
      acceptor_(io),
      handler_(std::make_shared<AdminHandler>(std::move(handler))),
      open_connections_(std::make_shared<size_t>(0)) {}

AdminServer::~AdminServer() { close(); }

boost::system::error_code AdminServer::open(const overlay::Endpoint& at) {
  boost::system::error_code ec;
  const auto udp_ep = net::to_asio(at);
  const tcp::endpoint ep(udp_ep.address(), udp_ep.port());
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  }
  return ec;
}

void AdminServer::start() { accept(); }

void AdminServer::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

overlay::Endpoint AdminServer::local_endpoint() const {
  boost::system::error_code ec;
  const auto ep = acceptor_.local_endpoint(ec);
  return net::from_asio(ep.address(), ep.port());
}

void AdminServer::accept() {
  if (closed_) return;
  acceptor_.async_accept(io_, [this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || closed_) return;
    if (!ec) {
      if (*open_connections_ >= kMaxConnections) {
        boost::system::error_code ignored;
        socket.close(ignored);  // over the cap: refuse rather than queue
      } else {
        std::make_shared<Session>(std::move(socket), handler_, open_connections_)->read();
      }
    } else {
      node_log().debug("admin accept failed: {}", ec.message());
    }
    accept();
  });
}

}  // namespace forestcast::node
