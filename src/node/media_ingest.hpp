#pragma once
// The publisher's media driver (issue 12): receives RTP on UDP from an encoder (`--rtp-in`),
// runs media::PublisherPipeline on it and sends the items into the stream's stripes. It owns the
// ingest socket and the group timer; the pipeline owns no I/O. The stream's description comes
// from `--sdp FILE` (waited for: an encoder writes it when it starts) or, without one, is
// MPEG-TS over RTP.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "directory/name_record.hpp"
#include "media/fec_scheme.hpp"
#include "media/group_signer.hpp"
#include "media/publisher_pipeline.hpp"
#include "media/sdp.hpp"
#include "node/node_key.hpp"
#include "overlay/endpoint.hpp"

namespace forestcast::node {

class StreamService;

// One sample for /metrics; the service writes each family once over all streams.
struct MediaMetric {
  const char* name;  // without the forestcast_ prefix
  const char* type;  // counter or gauge
  const char* help;
  double value;
};

struct MediaIngestConfig {
  std::string name;  // the published stream
  overlay::Endpoint rtp_in;
  std::optional<std::string> sdp_file;  // none: MPEG-TS over RTP
  media::FecScheme fec{};
  unsigned stripes = 16;
};

class MediaIngest {
 public:
  MediaIngest(boost::asio::io_context& io, MediaIngestConfig config, const NodeKey& key,
              uint64_t clock_domain, StreamService& streams);
  ~MediaIngest();
  MediaIngest(const MediaIngest&) = delete;
  MediaIngest& operator=(const MediaIngest&) = delete;

  // Binds --rtp-in and reads --sdp if it is there already; throws ConfigError (exit 2) for a
  // busy port or an SDP file that does not parse or does not fit a name record.
  void open();
  // True once the stream's description is known.
  bool ready();
  void describe(directory::NameRecord& record) const;
  // The stream exists: packets received from now on go into its stripes.
  void start(const overlay::NodeId& group);

  const std::string& name() const { return config_.name; }
  nlohmann::json status_json() const;
  std::vector<MediaMetric> metrics() const;

 private:
  void load_sdp(bool at_start);
  void receive();
  void on_datagram(size_t bytes);
  void send_payloads();
  void arm_group_timer();

  boost::asio::io_context& io_;
  MediaIngestConfig config_;
  media::Ed25519GroupSigner signer_;
  uint64_t clock_domain_;
  StreamService& streams_;
  boost::asio::ip::udp::socket socket_;
  boost::asio::steady_timer group_timer_;
  boost::asio::steady_timer sdp_timer_;
  std::array<uint8_t, 65536> buffer_{};
  boost::asio::ip::udp::endpoint from_;

  std::optional<media::Sdp> sdp_;
  std::string record_sdp_;  // the normalized description the name record carries
  std::optional<media::PublisherPipeline> pipeline_;
  Time armed_for_ = kNever;
  uint64_t before_publish_ = 0;  // datagrams that arrived before the stream existed
  uint64_t sdp_wait_logs_ = 0;
  bool stopped_ = false;
};

// CLOCK_MONOTONIC as protocol time: the media pipelines of every process on one host share it,
// so a viewer next to its publisher measures end-to-end delay exactly.
Time media_clock_now();
// Identifies this host's CLOCK_MONOTONIC (a hash of the boot id); 0 when unknown.
uint64_t media_clock_domain();

}  // namespace forestcast::node
