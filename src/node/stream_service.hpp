#pragma once
// The daemon's streams (DESIGN.md §2, §5, §7): assembles the stream directory (names), Scribe
// and SplitStream on one node's UDP runtime, publishes a synthetic stream (`--publish NAME
// --synthetic-kbps K`), views streams by name (`--view NAME[@PUBKEYHEX]`), and reports them for
// /status and /streams. The cores stay sans-IO: every call into them goes through
// UdpRuntime::with_node, and the only clock and timers are the io_context's.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "directory/stream_directory.hpp"
#include "multicast/credentials.hpp"
#include "multicast/scribe.hpp"
#include "multicast/splitstream.hpp"
#include "multicast/synthetic_source.hpp"
#include "net/udp/udp_runtime.hpp"
#include "node/node_key.hpp"

namespace forestcast::node {

struct StreamConfig {
  std::optional<std::string> publish;  // stream name this node publishes
  double synthetic_kbps = 0;           // the publisher's synthetic source rate
  std::vector<directory::StreamQuery> views;
  int capacity = -1;                  // stripe-children; -1: stripes received
  std::optional<double> upload_kbps;  // converted to a capacity with the stream's bitrate
  uint32_t stripes = 16;

  bool any() const { return publish.has_value() || !views.empty(); }
};

// What the media layer (node/media_service) adds to a stream: the record's media fields, when
// publishing may start, and the sink a viewer's packets go to. Null for synthetic streams.
class StreamMedia {
 public:
  virtual ~StreamMedia() = default;
  // False while the publisher still waits for its source's description (an SDP file).
  virtual bool ready_to_publish() = 0;
  // Fills the record's FEC, SDP, bitrate and clock domain before it is signed.
  virtual void describe(directory::NameRecord& record) const = 0;
  // The stream's CREATEs are out: packets may be sent with StreamService::send().
  virtual void on_published(const overlay::NodeId& group) = 0;
  // View `index` (of StreamConfig::views) resolved: the sink for its packets, or null.
  virtual multicast::PacketSink* on_resolved(size_t index, const directory::NameRecord& record) = 0;
};

class StreamService {
 public:
  // Registers the directory and Scribe on the runtime's node: call before start_ring()/join().
  StreamService(boost::asio::io_context& io, net::UdpRuntime& runtime, const NodeKey& key,
                StreamConfig config);
  ~StreamService();
  StreamService(const StreamService&) = delete;
  StreamService& operator=(const StreamService&) = delete;

  // Call before start(); `media` outlives this service.
  void set_media(StreamMedia* media) { media_ = media; }
  // Starts publishing and resolving as soon as the node is active in the ring.
  void start();
  // Sends one payload on `stripe` of the stream this node publishes (after on_published()).
  void send(uint32_t stripe, std::shared_ptr<const std::string> payload);
  // Graceful leave (SIGTERM): hands this node's stripe children over so they re-attach at once,
  // then stops. Call before the node leaves the ring.
  void leave();

  // "streams" for /status: every stream this node publishes, views or relays.
  nlohmann::json status_json() const;
  // /streams: the name records this node knows.
  nlohmann::json known_json() const;
  // Counter name/value pairs for /status and /metrics.
  std::vector<std::pair<std::string, uint64_t>> counters() const;
  // Levels, not counts: the outdegree limit and how much of it is in use.
  std::vector<std::pair<std::string, uint64_t>> gauges() const;

 private:
  struct View {
    directory::StreamQuery query;
    std::optional<directory::NameRecord> record;  // resolved
    bool resolving = false;
    int attempts = 0;
    std::chrono::steady_clock::time_point next_attempt{};
    Time viewing_since{0};
    bool starved_reported = false;
  };

  void on_tick();
  // Stripes of a viewed stream without data for kStarved (since the view started, or since
  // their last packet): what a ring offering less outdegree than its viewers need looks like.
  std::vector<uint32_t> starved_stripes(const View& v, Time now) const;
  void report_starvation(View& v, Time now);
  void start_publishing(Time now);
  void resolve(View& view, Time now);
  void on_resolved(size_t index, std::vector<directory::NameRecord> found);
  void send_due_packets();
  void arm_tick();
  int capacity_for(double stream_kbps) const;

  boost::asio::io_context& io_;
  net::UdpRuntime& runtime_;
  const NodeKey& key_;
  StreamConfig config_;
  multicast::Ed25519Credentials credentials_;
  std::unique_ptr<directory::StreamDirectory> directory_;
  std::unique_ptr<multicast::Scribe> scribe_;
  std::unique_ptr<multicast::SplitStream> splitstream_;
  std::vector<View> views_;
  StreamMedia* media_ = nullptr;

  // Publishing.
  std::optional<overlay::NodeId> published_group_;
  std::optional<multicast::SyntheticSource> source_;
  std::shared_ptr<const std::string> payload_;
  std::chrono::steady_clock::time_point source_start_{};
  uint64_t packets_sent_ = 0;
  uint64_t starvation_reports_ = 0;

  boost::asio::steady_timer tick_;
  boost::asio::steady_timer source_timer_;
  bool stopped_ = false;
};

}  // namespace forestcast::node
