#pragma once
// The admin HTTP endpoint (Boost.Beast) on the node's own io_context: small GET requests only.
// Requests are size-bounded, idle connections are closed, and the number of open connections is
// capped, so a misbehaving client cannot hurt the control plane sharing the thread.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <string>

#include "overlay/endpoint.hpp"

namespace forestcast::node {

struct AdminResponse {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Answers a request, at once or later (a lookup waits for the overlay); called once, on the
// io_context thread.
using AdminResponder = std::function<void(AdminResponse)>;
// Maps (method, target) to a response given to `respond`; runs on the io_context thread.
using AdminHandler =
    std::function<void(std::string_view method, std::string_view target, AdminResponder respond)>;

class AdminServer {
 public:
  static constexpr size_t kMaxConnections = 32;
  static constexpr size_t kMaxRequestBytes = 8 * 1024;

  AdminServer(boost::asio::io_context& io, AdminHandler handler);
  ~AdminServer();

  // Binds and listens; accepting starts with start().
  boost::system::error_code open(const overlay::Endpoint& at);
  void start();
  void close();
  overlay::Endpoint local_endpoint() const;

 private:
  void accept();

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  // Shared with the sessions, which may outlive this object inside the io_context's queue.
  std::shared_ptr<AdminHandler> handler_;
  std::shared_ptr<size_t> open_connections_;
  bool closed_ = false;
};

}  // namespace forestcast::node
