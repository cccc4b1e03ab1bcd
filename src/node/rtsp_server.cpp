#include "node/rtsp_server.hpp"

#include <boost/asio/write.hpp>
#include <deque>
#include <optional>
#include <sstream>

#include "base/log.hpp"
#include "media/rtsp_message.hpp"
#include "net/udp/udp_runtime.hpp"
#include "node/node_config.hpp"

namespace forestcast::node {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

spdlog::logger& log() {
  static const std::shared_ptr<spdlog::logger> logger = module_logger("media");
  return *logger;
}

constexpr size_t kMaxConnections = 64;
// Unsent bytes per TCP connection: ~5 s of a 1.5 Mbit/s stream. Past it, packets are dropped.
constexpr size_t kMaxQueuedBytes = 1024 * 1024;
constexpr const char* kPublic = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN, GET_PARAMETER";

// The stream's SDP for players: connection 0.0.0.0, ports 0, one a=control per media section.
std::string describe_sdp(const media::Sdp& sdp) {
  std::istringstream in(media::write_viewer_sdp(sdp, "0.0.0.0", 0));
  std::string out, line;
  size_t track = 0;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out += line + "\r\n";
    if (line.rfind("t=", 0) == 0) out += "a=control:*\r\n";
    if (line.rfind("m=", 0) == 0) out += "a=control:trackID=" + std::to_string(track++) + "\r\n";
  }
  return out;
}

}  // namespace

class RtspServer::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(RtspServer& server, tcp::socket socket)
      : server_(server), socket_(std::move(socket)) {}

  void start() { read(); }

  void close() {
    if (closed_) return;
    closed_ = true;
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
    server_.connections_.erase(shared_from_this());
  }

  void send_rtp(const std::string& stream, size_t media_index, std::span<const uint8_t> bytes) {
    if (closed_ || !session_ || !session_->playing || session_->stream != stream) return;
    if (media_index >= session_->tracks.size() || !session_->tracks[media_index].set_up) return;
    const Track& t = session_->tracks[media_index];
    if (!t.transport.tcp) {
      boost::system::error_code ec;
      server_.udp_.send_to(asio::buffer(bytes.data(), bytes.size()), t.to, 0, ec);
      if (!ec) ++server_.counters_.rtp_sent;
      return;
    }
    if (out_bytes_ + bytes.size() + 4 > kMaxQueuedBytes || bytes.size() > 0xFFFF) {
      ++server_.counters_.rtp_dropped_slow_reader;
      return;
    }
    std::string frame;
    frame.reserve(bytes.size() + 4);
    frame.push_back('$');
    frame.push_back(static_cast<char>(t.transport.channel_rtp));
    frame.push_back(static_cast<char>(bytes.size() >> 8));
    frame.push_back(static_cast<char>(bytes.size() & 0xFF));
    frame.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    ++server_.counters_.rtp_sent;
    write(std::move(frame));
  }

  nlohmann::json status_json() const {
    nlohmann::json j = {{"peer", peer_}};
    if (session_) {
      j["session"] = session_->id;
      j["stream"] = session_->stream;
      j["playing"] = session_->playing;
      j["transport"] = !session_->tracks.empty() && session_->tracks[0].transport.tcp
                           ? "tcp-interleaved"
                           : "udp";
    }
    return j;
  }

 private:
  struct Track {
    bool set_up = false;
    media::RtspTransport transport;
    udp::endpoint to;
  };
  struct Session {
    std::string id;
    std::string stream;
    std::vector<Track> tracks;
    bool playing = false;
  };

  void read() {
    if (peer_.empty()) {
      boost::system::error_code ec;
      const auto ep = socket_.remote_endpoint(ec);
      peer_ = ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
    }
    socket_.async_read_some(asio::buffer(chunk_), [self = shared_from_this()](
                                                      const boost::system::error_code& ec,
                                                      size_t n) {
      if (ec || self->closed_) return self->close();
      self->in_.append(self->chunk_.data(), n);
      self->drain();
      if (!self->closed_) self->read();
    });
  }

  void drain() {
    while (!in_.empty() && !closed_) {
      if (in_[0] == '$') {  // interleaved data from the client (its RTCP): skipped
        if (in_.size() < 4) return;
        const size_t len = (uint8_t(in_[2]) << 8) | uint8_t(in_[3]);
        if (in_.size() < 4 + len) return;
        in_.erase(0, 4 + len);
        continue;
      }
      auto r = media::parse_rtsp_request(in_);
      if (r.status == media::RtspParseStatus::kNeedMore) return;
      ++server_.counters_.requests;
      if (r.status == media::RtspParseStatus::kBad) {
        ++server_.counters_.bad_requests;
        log().warn("rtsp {}: bad request ({}): 400, closing", peer_, r.error);
        write(media::rtsp_response(400, std::nullopt));
        closing_ = true;
        in_.clear();
        return;
      }
      in_.erase(0, r.consumed);
      handle(r.request);
    }
  }

  void reply(const media::RtspRequest& q, int code,
             std::vector<std::pair<std::string, std::string>> headers = {},
             std::string_view body = {}) {
    if (session_ && code == 200) headers.emplace_back("Session", session_->id + ";timeout=60");
    write(media::rtsp_response(code, q.cseq, headers, body));
  }

  void handle(const media::RtspRequest& q) {
    if (!q.cseq) {
      ++server_.counters_.bad_requests;
      return reply(q, 400);
    }
    const std::string& m = q.method;
    if (m == "OPTIONS") return reply(q, 200, {{"Public", kPublic}});
    if (m == "ANNOUNCE" || m == "RECORD" || m == "REDIRECT" || m == "SET_PARAMETER")
      return reply(q, 405, {{"Allow", kPublic}});
    if (m != "DESCRIBE" && m != "SETUP" && m != "PLAY" && m != "PAUSE" && m != "TEARDOWN" &&
        m != "GET_PARAMETER")
      return reply(q, 501);
    const auto target = media::parse_rtsp_target(q.uri);
    // PLAY, PAUSE, TEARDOWN and GET_PARAMETER act on this connection's session.
    if (m != "DESCRIBE" && m != "SETUP") {
      if (!session_ || !session_matches(q)) return reply(q, 454);
      if (m == "TEARDOWN") {
        session_.reset();
        return reply(q, 200);
      }
      if (m == "PLAY") {
        bool any = false;
        for (const auto& t : session_->tracks) any = any || t.set_up;
        if (!any) return reply(q, 455);
        if (!session_->playing) ++server_.counters_.sessions_started;
        session_->playing = true;
        return reply(q, 200, {{"Range", "npt=0.000-"}});
      }
      if (m == "PAUSE") session_->playing = false;
      return reply(q, 200);
    }
    if (!target) {
      ++server_.counters_.bad_requests;
      return reply(q, 400);
    }
    const auto stream = server_.streams_.find(target->stream);
    if (stream == server_.streams_.end()) {
      ++server_.counters_.not_found;
      return reply(q, 404);
    }
    const media::Sdp& sdp = stream->second.sdp;
    if (m == "DESCRIBE") {
      std::string base = q.uri;
      if (base.back() != '/') base += '/';
      return reply(q, 200, {{"Content-Type", "application/sdp"}, {"Content-Base", base}},
                   describe_sdp(sdp));
    }
    // SETUP
    const unsigned track = target->track.value_or(0);
    if (track >= sdp.media.size() || (!target->track && sdp.media.size() > 1))
      return reply(q, 404);
    if (session_ && (!session_matches(q) || session_->stream != target->stream))
      return reply(q, 459);  // one session per connection, one stream per session
    const auto header = q.header("transport");
    const auto transport = header ? media::parse_rtsp_transport(*header) : std::nullopt;
    if (!transport) return reply(q, 461);
    if (!session_) {
      session_ = Session{};
      session_->id = std::to_string(1'000'000 + ++server_.next_session_);
      session_->stream = target->stream;
      session_->tracks.resize(sdp.media.size());
    }
    Track& t = session_->tracks[track];
    if (!t.set_up && !session_->tracks.empty()) {
      // All tracks of a session go the same way: the first SETUP decides.
      for (const auto& other : session_->tracks)
        if (other.set_up && other.transport.tcp != transport->tcp) return reply(q, 461);
    }
    t.set_up = true;
    t.transport = *transport;
    std::string reply_transport;
    if (transport->tcp) {
      reply_transport = "RTP/AVP/TCP;unicast;interleaved=" +
                        std::to_string(transport->channel_rtp) + "-" +
                        std::to_string(transport->channel_rtcp);
    } else {
      boost::system::error_code ec;
      t.to = udp::endpoint(socket_.remote_endpoint(ec).address(), transport->client_rtp);
      const uint16_t sp = server_.udp_.local_endpoint(ec).port();
      reply_transport = "RTP/AVP;unicast;client_port=" + std::to_string(transport->client_rtp) +
                        "-" + std::to_string(transport->client_rtcp) +
                        ";server_port=" + std::to_string(sp) + "-" + std::to_string(sp + 1);
    }
    return reply(q, 200, {{"Transport", reply_transport}});
  }

  bool session_matches(const media::RtspRequest& q) const {
    const auto h = q.header("session");
    if (!h) return true;  // some players omit it on one connection: the connection is the key
    return h->substr(0, h->find(';')) == session_->id;
  }

  void write(std::string bytes) {
    out_bytes_ += bytes.size();
    out_.push_back(std::move(bytes));
    if (out_.size() == 1) do_write();
  }

  void do_write() {
    asio::async_write(socket_, asio::buffer(out_.front()),
                      [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
                        if (ec || self->closed_) return self->close();
                        self->out_bytes_ -= self->out_.front().size();
                        self->out_.pop_front();
                        if (!self->out_.empty()) return self->do_write();
                        if (self->closing_) self->close();
                      });
  }

  RtspServer& server_;
  tcp::socket socket_;
  std::string peer_;
  std::array<char, 4096> chunk_{};
  std::string in_;
  std::deque<std::string> out_;
  size_t out_bytes_ = 0;
  std::optional<Session> session_;  // players use one session per connection
  bool closing_ = false;
  bool closed_ = false;
};

RtspServer::RtspServer(asio::io_context& io, overlay::Endpoint listen)
    : io_(io), listen_(listen), acceptor_(io), udp_(io) {}

RtspServer::~RtspServer() {
  stopped_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  for (auto c : std::set<std::shared_ptr<Connection>>(connections_)) c->close();
}

void RtspServer::open() {
  const auto udp_ep = net::to_asio(listen_);
  const tcp::endpoint ep(udp_ep.address(), udp_ep.port());
  boost::system::error_code ec;
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw ConfigError("cannot listen for --rtsp on " + listen_.to_string() + ": " +
                            ec.message());
  udp_.open(udp_ep.protocol(), ec);
  if (!ec) udp_.bind(udp::endpoint(udp_ep.address(), 0), ec);
  if (ec) throw ConfigError("cannot open the RTSP server's UDP socket: " + ec.message());
  udp_.non_blocking(true, ec);
  accept();
}

void RtspServer::accept() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (stopped_ || ec == asio::error::operation_aborted) return;
    if (!ec) {
      if (connections_.size() >= kMaxConnections) {
        ++counters_.connections_refused;
        boost::system::error_code ignored;
        socket.close(ignored);
      } else {
        ++counters_.connections;
        auto c = std::make_shared<Connection>(*this, std::move(socket));
        connections_.insert(c);
        c->start();
      }
    }
    accept();
  });
}

void RtspServer::add_stream(const std::string& name, const media::Sdp& sdp) {
  streams_[name] = Stream{sdp};
  log().info("rtsp://{}/{} serves '{}'", listen_.to_string(), name, name);
}

void RtspServer::on_packet(const std::string& name, size_t media_index,
                           std::span<const uint8_t> bytes) {
  // A copy of the set: a failed write may close (and erase) a connection.
  for (const auto& c : std::vector<std::shared_ptr<Connection>>(connections_.begin(),
                                                                 connections_.end()))
    c->send_rtp(name, media_index, bytes);
}

nlohmann::json RtspServer::status_json() const {
  nlohmann::json sessions = nlohmann::json::array();
  for (const auto& c : connections_) sessions.push_back(c->status_json());
  return {{"listen", listen_.to_string()},
          {"connections", counters_.connections},
          {"requests", counters_.requests},
          {"bad_requests", counters_.bad_requests},
          {"not_found", counters_.not_found},
          {"sessions_started", counters_.sessions_started},
          {"rtp_sent", counters_.rtp_sent},
          {"rtp_dropped_slow_reader", counters_.rtp_dropped_slow_reader},
          {"open", sessions}};
}

}  // namespace forestcast::node
