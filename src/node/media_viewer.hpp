#pragma once
// One viewer's media driver (issue 12): the stream's packets from the forest (a PacketSink) go
// through media::ViewerPipeline (authentication, FEC, playout order and timing); the restored
// RTP packets leave unchanged for `--rtp-out` at their playout time, and `--sdp-out` describes
// them for players. Without --rtp-out the pipeline still runs: its counters are the viewer's
// quality figures in /status and /metrics. It owns the playout timer and the output socket.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "directory/name_record.hpp"
#include "media/group_signer.hpp"
#include "media/sdp.hpp"
#include "media/viewer_pipeline.hpp"
#include "multicast/splitstream.hpp"
#include "node/media_ingest.hpp"
#include "overlay/endpoint.hpp"

namespace forestcast::node {

struct MediaViewerConfig {
  std::optional<overlay::Endpoint> rtp_out;
  std::optional<std::string> sdp_out;
  Duration playout_delay = ms(500);
};

class RtspServer;

class MediaViewer final : public multicast::PacketSink {
 public:
  // Throws std::invalid_argument when the record cannot be played (checked records always can).
  MediaViewer(boost::asio::io_context& io, const directory::NameRecord& record,
              MediaViewerConfig config, uint64_t clock_domain, RtspServer* rtsp = nullptr);
  ~MediaViewer() override;
  MediaViewer(const MediaViewer&) = delete;
  MediaViewer& operator=(const MediaViewer&) = delete;

  void on_packet(const multicast::Packet& packet, Time now) override;
  void wanted_stripes(Time now, std::vector<uint32_t>& stripes) override;

  const std::string& name() const { return name_; }
  nlohmann::json status_json() const;
  std::vector<MediaMetric> metrics() const;

 private:
  void poll();
  void emit(const media::PlayoutPacket& p);
  void arm_timer();
  void write_sdp();

  std::string name_;
  MediaViewerConfig config_;
  media::Sdp sdp_;
  bool exact_delay_;  // publisher on this host's clock
  RtspServer* rtsp_;
  media::Ed25519GroupVerifier verifier_;
  media::ViewerPipeline pipeline_;
  boost::asio::ip::udp::socket socket_;
  boost::asio::steady_timer timer_;
  Time armed_for_ = kNever;
  uint64_t rtp_sent_ = 0;
  uint64_t send_errors_ = 0;
  uint64_t wrong_payload_ = 0;  // items without a payload (a synthetic stream's)
  bool stopped_ = false;
};

}  // namespace forestcast::node
