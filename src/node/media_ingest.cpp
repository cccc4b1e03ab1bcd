#include "node/media_ingest.hpp"

#include <openssl/sha.h>

#include <boost/asio/socket_base.hpp>
#include <fstream>
#include <sstream>

#include "base/log.hpp"
#include "net/udp/udp_runtime.hpp"
#include "node/node_config.hpp"
#include "node/stream_service.hpp"

namespace forestcast::node {
namespace {

namespace asio = boost::asio;

spdlog::logger& log() {
  static const std::shared_ptr<spdlog::logger> logger = module_logger("media");
  return *logger;
}

// Bursts of a 1.5 Mbit/s stream (an I-frame is ~60 datagrams at once) must not overflow it.
constexpr int kReceiveBufferBytes = 4 * 1024 * 1024;
constexpr auto kSdpPoll = std::chrono::milliseconds(100);
constexpr int kSdpWaitLogEvery = 100;  // polls: one line per 10 s of waiting

asio::steady_timer::time_point steady_of(Time t) {
  return asio::steady_timer::time_point(std::chrono::duration_cast<asio::steady_timer::duration>(t));
}

}  // namespace

Time media_clock_now() {
  return std::chrono::duration_cast<Time>(std::chrono::steady_clock::now().time_since_epoch());
}

uint64_t media_clock_domain() {
  // steady_clock is CLOCK_MONOTONIC on Linux: shared by the processes of one boot.
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string boot_id;
  if (!(in >> boot_id) || boot_id.empty()) return 0;
  uint8_t digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const uint8_t*>(boot_id.data()), boot_id.size(), digest);
  uint64_t domain = 0;
  for (int i = 0; i < 8; ++i) domain = domain << 8 | digest[i];
  return domain == 0 ? 1 : domain;
}

MediaIngest::MediaIngest(asio::io_context& io, MediaIngestConfig config, const NodeKey& key,
                         uint64_t clock_domain, StreamService& streams)
    : io_(io),
      config_(std::move(config)),
      signer_(key),
      clock_domain_(clock_domain),
      streams_(streams),
      socket_(io),
      group_timer_(io),
      sdp_timer_(io) {}

MediaIngest::~MediaIngest() {
  stopped_ = true;
  boost::system::error_code ec;
  socket_.close(ec);
  group_timer_.cancel();
}

void MediaIngest::open() {
  const auto ep = net::to_asio(config_.rtp_in);
  boost::system::error_code ec;
  socket_.open(ep.protocol(), ec);
  if (!ec) socket_.bind(ep, ec);
  if (ec)
    throw ConfigError("cannot bind --rtp-in " + config_.rtp_in.to_string() + ": " + ec.message());
  socket_.set_option(asio::socket_base::receive_buffer_size(kReceiveBufferBytes), ec);
  if (!config_.sdp_file) {
    sdp_ = media::mpegts_sdp();
  } else {
    load_sdp(true);
  }
  if (sdp_) record_sdp_ = media::write_viewer_sdp(*sdp_, "127.0.0.1", config_.rtp_in.port);
  if (record_sdp_.size() > directory::kMaxSdpBytes)
    throw ConfigError("--sdp " + *config_.sdp_file + " is " + std::to_string(record_sdp_.size()) +
                      " bytes once normalized; a name record carries at most " +
                      std::to_string(directory::kMaxSdpBytes));
  // Read from the start, so the socket buffer never fills; packets before the stream exists
  // are counted and dropped.
  receive();
}

// An encoder writes its SDP when it starts, possibly after us: a missing file is waited for,
// a file that is there must parse.
void MediaIngest::load_sdp(bool at_start) {
  const std::string& path = *config_.sdp_file;
  std::ifstream in(path);
  if (!in) {
    if (at_start) log().info("waiting for the SDP file {}", path);
    return;
  }
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().empty()) return;  // being written
  auto parsed = media::parse_sdp(text.str());
  if (!parsed.sdp) {
    if (at_start) throw ConfigError("--sdp " + path + ": " + parsed.error);
    // The encoder may still be writing it: try again, and say what is wrong now and then.
    if (sdp_wait_logs_++ % kSdpWaitLogEvery == 0) log().error("--sdp {}: {}", path, parsed.error);
    return;
  }
  sdp_ = std::move(parsed.sdp);
}

bool MediaIngest::ready() {
  if (!sdp_) {
    load_sdp(false);
    if (!sdp_) {
      if (++sdp_wait_logs_ % kSdpWaitLogEvery == 0)
        log().warn("still waiting for the SDP file {}", *config_.sdp_file);
      return false;
    }
    record_sdp_ = media::write_viewer_sdp(*sdp_, "127.0.0.1", config_.rtp_in.port);
    if (record_sdp_.size() > directory::kMaxSdpBytes) {
      log().error("--sdp {} is {} bytes once normalized, more than a name record carries ({})",
                  *config_.sdp_file, record_sdp_.size(), directory::kMaxSdpBytes);
      sdp_.reset();
      return false;
    }
    log().info("SDP from {}: {} media section(s)", *config_.sdp_file, sdp_->media.size());
  }
  return true;
}

void MediaIngest::describe(directory::NameRecord& r) const {
  r.fec_data = config_.fec.data;
  r.fec_parity = config_.fec.parity;
  r.sdp = record_sdp_;
  r.clock_domain = clock_domain_;
}

void MediaIngest::start(const overlay::NodeId& group) {
  media::PublisherConfig pc;
  pc.stream = group.to_bytes();
  pc.stripes = config_.stripes;
  pc.fec = config_.fec;
  pipeline_.emplace(pc, signer_);
  log().info("ingest on udp {} ({}, FEC {}): packets up to {} bytes", config_.rtp_in.to_string(),
             config_.sdp_file ? "SDP " + *config_.sdp_file : std::string("MPEG-TS over RTP"),
             config_.fec.to_string(), pipeline_->max_rtp_bytes());
}

void MediaIngest::receive() {
  socket_.async_receive_from(asio::buffer(buffer_), from_,
                             [this](const boost::system::error_code& ec, size_t bytes) {
                               if (stopped_ || ec == asio::error::operation_aborted) return;
                               if (!ec) on_datagram(bytes);
                               receive();
                             });
}

void MediaIngest::on_datagram(size_t bytes) {
  if (!pipeline_) {
    ++before_publish_;
    return;
  }
  pipeline_->on_rtp(media_clock_now(), {buffer_.data(), bytes});
  // Drain what is queued before sending: one group leaves as one burst.
  boost::system::error_code ec;
  while (socket_.available(ec) > 0 && !ec) {
    const size_t n = socket_.receive_from(asio::buffer(buffer_), from_, 0, ec);
    if (ec) break;
    pipeline_->on_rtp(media_clock_now(), {buffer_.data(), n});
  }
  send_payloads();
  arm_group_timer();
}

void MediaIngest::send_payloads() {
  for (auto& p : pipeline_->take_payloads())
    streams_.send(p.stripe, std::make_shared<const std::string>(p.bytes.begin(), p.bytes.end()));
}

// A group that is not full closes after its wait (max_group_wait): the timer follows the
// pipeline's deadline.
void MediaIngest::arm_group_timer() {
  const Time deadline = pipeline_->next_deadline();
  if (deadline == armed_for_) return;
  armed_for_ = deadline;
  group_timer_.cancel();
  if (deadline == kNever) return;
  group_timer_.expires_at(steady_of(deadline));
  group_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    armed_for_ = kNever;
    pipeline_->on_tick(media_clock_now());
    send_payloads();
    arm_group_timer();
  });
}

nlohmann::json MediaIngest::status_json() const {
  nlohmann::json j = {{"rtp_in", config_.rtp_in.to_string()},
                      {"format", config_.sdp_file ? "rtp" : "mpegts"},
                      {"fec", config_.fec.to_string()},
                      {"sdp_ready", sdp_.has_value()},
                      {"rtp_before_publish", before_publish_}};
  if (!pipeline_) return j;
  const auto& c = pipeline_->counters();
  j["rtp_received"] = c.rtp_received;
  j["rtp_accepted"] = c.rtp_accepted;
  j["rtp_dropped"] = c.rtp_dropped.total();
  j["rtp_too_large"] = c.rtp_too_large;
  j["groups"] = c.groups;
  j["symbol_items"] = c.symbol_items;
  j["auth_items"] = c.auth_items;
  j["payload_bytes"] = c.payload_bytes;
  j["payloads_dropped"] = c.payloads_dropped;
  return j;
}

std::vector<MediaMetric> MediaIngest::metrics() const {
  const media::PublisherCounters none{};
  const auto& c = pipeline_ ? pipeline_->counters() : none;
  auto n = [](uint64_t v) { return static_cast<double>(v); };
  return {
      {"media_publisher_rtp_received_total", "counter", "Datagrams received on --rtp-in.",
       n(c.rtp_received + before_publish_)},
      {"media_publisher_rtp_accepted_total", "counter", "RTP packets taken into FEC groups.",
       n(c.rtp_accepted)},
      {"media_publisher_rtp_dropped_total", "counter",
       "Datagrams dropped: not RTP, too large, or before the stream existed.",
       n(c.rtp_dropped.total() + c.rtp_too_large + before_publish_)},
      {"media_publisher_groups_total", "counter", "FEC groups sent.", n(c.groups)},
      {"media_publisher_items_total", "counter", "Symbol and auth items sent into the stripes.",
       n(c.symbol_items + c.auth_items)},
      {"media_publisher_payload_bytes_total", "counter", "Item bytes sent into the stripes.",
       n(c.payload_bytes)},
  };
}

}  // namespace forestcast::node
