#pragma once
// Real video through the forest in the daemon (issue 12): the stream layer's media hooks. A
// publisher with --rtp-in gets a MediaIngest (RTP in, FEC items into the stripes); every view
// of a media stream (a record with an SDP) gets a MediaViewer (items in, quality counters,
// RTP out to --rtp-out when given). Adds "media" to /status streams and media families to
// /metrics.
#include <boost/asio/io_context.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "node/media_ingest.hpp"
#include "node/media_viewer.hpp"
#include "node/rtsp_server.hpp"
#include "node/stream_service.hpp"

namespace forestcast::node {

struct MediaConfig {
  std::optional<MediaIngestConfig> ingest;  // set with --rtp-in
  MediaViewerConfig viewer;                 // --rtp-out/--sdp-out go to the one --view
  std::optional<overlay::Endpoint> rtsp;    // serves every view

  bool any() const { return ingest || viewer.rtp_out || rtsp; }
};

class MediaService final : public StreamMedia {
 public:
  MediaService(boost::asio::io_context& io, MediaConfig config, const NodeKey& key,
               StreamService& streams);
  ~MediaService() override;

  // Binds --rtp-in and --rtsp; throws ConfigError (exit 2).
  void open();

  // StreamMedia
  bool ready_to_publish() override;
  void describe(directory::NameRecord& record) const override;
  void on_published(const overlay::NodeId& group) override;
  multicast::PacketSink* on_resolved(size_t index, const directory::NameRecord& record) override;

  // Adds "media" to the publisher's and each media viewer's entry of /status "streams".
  void annotate_status(nlohmann::json& streams) const;
  // "rtsp" for /status, null without --rtsp.
  nlohmann::json rtsp_json() const;
  std::string metrics_text() const;

 private:
  boost::asio::io_context& io_;
  MediaConfig config_;
  uint64_t clock_domain_;
  std::optional<MediaIngest> ingest_;
  std::optional<RtspServer> rtsp_;  // before the viewers: they hold a pointer to it
  std::vector<std::unique_ptr<MediaViewer>> viewers_;  // by view index; null: not media
};

}  // namespace forestcast::node
