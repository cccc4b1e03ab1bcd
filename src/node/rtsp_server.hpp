#pragma once
// The viewer's RTSP server (`--rtsp HOST:PORT`, issue 12): players open
// rtsp://HOST:PORT/NAME for any stream this node views. OPTIONS, DESCRIBE (the stream's SDP with
// one a=control per media section), SETUP (RTP/AVP over UDP to the client's ports, or
// RTP/AVP/TCP interleaved on the RTSP connection), PLAY, PAUSE, TEARDOWN. The viewer's restored
// RTP packets go to every playing session unchanged. Requests are parsed by
// media::parse_rtsp_request; bad ones get 400 and the connection is closed, unknown streams 404,
// unknown sessions 454. Bounded: connections, sessions per connection, and each TCP connection's
// unsent bytes (a slow reader loses packets, counted, rather than growing memory).
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <string>

#include "media/sdp.hpp"
#include "overlay/endpoint.hpp"

namespace forestcast::node {

struct RtspCounters {
  uint64_t connections = 0;
  uint64_t requests = 0;
  uint64_t bad_requests = 0;
  uint64_t not_found = 0;
  uint64_t sessions_started = 0;
  uint64_t rtp_sent = 0;
  uint64_t rtp_dropped_slow_reader = 0;
  uint64_t connections_refused = 0;
};

class RtspServer {
 public:
  RtspServer(boost::asio::io_context& io, overlay::Endpoint listen);
  ~RtspServer();
  RtspServer(const RtspServer&) = delete;
  RtspServer& operator=(const RtspServer&) = delete;

  // Binds and listens; throws ConfigError (exit 2) for a busy port.
  void open();
  // A stream becomes servable under rtsp://.../NAME.
  void add_stream(const std::string& name, const media::Sdp& sdp);
  // One restored RTP packet of media section `media_index` of stream `name`.
  void on_packet(const std::string& name, size_t media_index, std::span<const uint8_t> bytes);

  nlohmann::json status_json() const;
  const RtspCounters& counters() const { return counters_; }

  class Connection;

 private:
  friend class Connection;
  struct Stream {
    media::Sdp sdp;
  };
  void accept();

  boost::asio::io_context& io_;
  overlay::Endpoint listen_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ip::udp::socket udp_;  // RTP to UDP clients
  std::map<std::string, Stream> streams_;
  std::set<std::shared_ptr<Connection>> connections_;
  RtspCounters counters_;
  uint64_t next_session_ = 0;
  bool stopped_ = false;
};

}  // namespace forestcast::node
