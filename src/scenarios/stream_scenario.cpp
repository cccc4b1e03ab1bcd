#include "scenarios/stream_scenario.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>

#include "media/delay_histogram.hpp"
#include "media/group_signer.hpp"
#include "media/publisher_pipeline.hpp"
#include "media/viewer_pipeline.hpp"
#include "multicast/scribe.hpp"
#include "multicast/splitstream.hpp"
#include "multicast/synthetic_source.hpp"
#include "scenarios/stream_diagnosis.hpp"

namespace forestcast::sim {
namespace {

constexpr uint32_t kSsrc = 0x5eed0001;
constexpr uint8_t kPayloadType = 96;
// A stripe silent for three of its packet intervals (1 Mbit/s over 16 stripes: ~150 ms) is cut.
constexpr Duration kCutGap = ms(450);
// The diagnosis lists the viewers below the continuity_min at kill 10 %.
constexpr double kDiagnosisThreshold = 0.999;

// One viewer's pipeline on the simulator's clock. It is polled lazily: before each item and at
// the end, up to each deadline in turn, so playout happens at exactly the deadlines without one
// simulator event per group and viewer.
class ViewerTap final : public multicast::PacketSink {
 public:
  ViewerTap(const media::ViewerConfig& config, media::GroupVerifier& verifier, Time measure_from)
      : pipeline_(config, verifier),
        measure_from_(measure_from),
        trace_(config.stripes, kCutGap, measure_from) {}

  void on_packet(const multicast::Packet& p, Time now) override {
    run_until(now);
    if (!p.payload) return;
    const auto* bytes = reinterpret_cast<const uint8_t*>(p.payload->data());
    const auto verdict =
        pipeline_.on_stripe_payload(now, p.stripe, {bytes, p.payload->size()}, p.retransmitted);
    trace_.on_item(now, p.stripe, p.retransmitted, verdict);
    pipeline_.take_packets();  // the player: only the counters matter here
  }

  void wanted_stripes(Time now, std::vector<uint32_t>& stripes) override {
    asked_.clear();
    pipeline_.wanted_stripes(now, asked_);
    trace_.on_asked(now, asked_);
    stripes.insert(stripes.end(), asked_.begin(), asked_.end());
  }

  void run_until(Time now) {
    for (int guard = 0; guard < 100'000; ++guard) {
      const Time d = pipeline_.next_deadline();
      if (d > now) break;
      if (!snapshot_ && d >= measure_from_) take_snapshot();
      const uint64_t lost = pipeline_.playout_counters().lost;
      pipeline_.poll(d);
      // A deadline releases one group at a time: the one just below the floor missed.
      if (pipeline_.playout_counters().lost > lost && pipeline_.next_group() > 0) {
        pipeline_.lacking_stripes(pipeline_.next_group() - 1, lacking_);
        trace_.on_missed(d, pipeline_.next_group() - 1, lacking_);
      }
      pipeline_.take_packets();
    }
    if (!snapshot_ && now >= measure_from_) take_snapshot();
  }

  // Counters over the measurement window.
  media::PlayoutCounters window() const {
    const auto& now = pipeline_.report().playout;
    media::PlayoutCounters w = now;
    if (snapshot_) {
      w.expected -= snapshot_->expected;
      w.delivered_in_time -= snapshot_->delivered_in_time;
      w.restored_by_fec -= snapshot_->restored_by_fec;
      w.restored_by_retransmission -= snapshot_->restored_by_retransmission;
      w.late -= snapshot_->late;
      w.lost -= snapshot_->lost;
    }
    return w;
  }
  const media::DelayHistogram& delay() const { return window_delay_; }
  bool measured() const { return snapshot_.has_value(); }
  ViewerTrace& trace() { return trace_; }

 private:
  void take_snapshot() {
    snapshot_ = pipeline_.report().playout;
    delay_at_snapshot_ = pipeline_.delay();
  }

  media::ViewerPipeline pipeline_;
  Time measure_from_;
  std::optional<media::PlayoutCounters> snapshot_;
  media::DelayHistogram delay_at_snapshot_;
  ViewerTrace trace_;
  std::vector<uint32_t> asked_;
  std::vector<uint8_t> lacking_;

 public:
  // The window's delays: the histogram now minus the one at the snapshot.
  void close_window() { window_delay_ = pipeline_.delay().minus(delay_at_snapshot_); }

 private:
  media::DelayHistogram window_delay_;
};

class StreamMedia final : public ForestMedia {
 public:
  StreamMedia(const StreamScenarioConfig& c, StreamResult& result)
      : config_(c),
        result_(result),
        source_(c.forest.stream_kbps, c.forest.stripes),
        publisher_(publisher_config(c), signer_) {
    viewer_config_.stream = stream_id(c);
    viewer_config_.stripes = c.forest.stripes;
    viewer_config_.fec = c.fec;
    viewer_config_.playout_delay = c.playout;
    viewer_config_.publisher_clock_offset = Duration{0};  // one simulated clock
    viewer_config_.peer_fetch = c.peer_fetch;
    viewer_config_.validate();
  }

  void publish(Time now,
               std::vector<std::pair<uint32_t, std::shared_ptr<const std::string>>>& out) override {
    if (start_ == kNever) {
      start_ = now;
      measure_from_ = now + config_.forest.build - config_.measure_before_build_end;
    }
    while (publisher_.next_deadline() <= now) publisher_.on_tick(publisher_.next_deadline());
    // One synthetic RTP packet per send slot, the size the forest's source would have sent.
    const size_t payload = source_.packet_bytes() - 12;
    rtp_.assign(12 + payload, 0);
    rtp_[0] = 0x80;
    rtp_[1] = kPayloadType;
    rtp_[2] = static_cast<uint8_t>(rtp_seq_ >> 8);
    rtp_[3] = static_cast<uint8_t>(rtp_seq_);
    const uint32_t ts = rtp_seq_ * 3000;
    for (int b = 0; b < 4; ++b) rtp_[4 + b] = static_cast<uint8_t>(ts >> (24 - 8 * b));
    for (int b = 0; b < 4; ++b) rtp_[8 + b] = static_cast<uint8_t>(kSsrc >> (24 - 8 * b));
    for (size_t i = 0; i < payload; ++i) rtp_[12 + i] = static_cast<uint8_t>(rtp_seq_ + i);
    ++rtp_seq_;
    publisher_.on_rtp(now, rtp_);
    for (auto& p : publisher_.take_payloads()) {
      payload_sum_ += p.bytes.size();
      ++payload_count_;
      payload_bytes_ = payload_sum_ / payload_count_;
      out.emplace_back(p.stripe, std::make_shared<const std::string>(p.bytes.begin(), p.bytes.end()));
    }
  }

  multicast::PacketSink* viewer(uint32_t node) override {
    if (node == 0) return nullptr;  // the publisher
    if (taps_.size() <= node) taps_.resize(node + 1);
    // Created now, used once the node views: measure_from_ is known by then (the stream
    // starts before anyone subscribes), so the tap reads it lazily through this pointer.
    taps_[node] = std::make_unique<LazyTap>(*this);
    return taps_[node].get();
  }

  void count_node(uint32_t node, const multicast::Scribe& scribe) override {
    const auto& f = scribe.fetch_counters();
    if (fetch_of_.size() <= node) fetch_of_.resize(node + 1);
    fetch_of_[node] = f;
    requests_empty_ += f.requests_empty;
    result_.fetch_requests += f.requests_sent;
    result_.fetch_packets_served += f.packets_served;
    result_.fetch_bytes_served += f.bytes_served;
    result_.fetch_answers_accepted += f.answers_accepted;
    result_.fetch_answers_duplicate += f.answers_duplicate;
    result_.fetch_requests_refused += f.requests_refused;
    result_.live_bytes_received += scribe.counters().data_received * payload_bytes_;
  }

  void finish(Time now, const std::function<bool(uint32_t)>& alive) override {
    media::DelayHistogram delay;
    double sum = 0;
    double min = 1.0;
    size_t n = 0;
    std::vector<ViewerDiagnosis> diagnosis;
    for (uint32_t i = 1; i < taps_.size(); ++i) {
      if (!taps_[i] || !alive(i) || !taps_[i]->tap) continue;
      ViewerTap& t = *taps_[i]->tap;
      t.run_until(now);
      if (!t.measured()) continue;
      t.close_window();
      const auto w = t.window();
      const uint64_t settled = w.delivered_in_time + w.lost + w.late;
      const double continuity =
          settled == 0 ? 1.0 : static_cast<double>(w.delivered_in_time) / static_cast<double>(settled);
      sum += continuity;
      min = std::min(min, continuity);
      ++n;
      result_.fec_restored += w.restored_by_fec;
      result_.retransmitted += w.restored_by_retransmission;
      result_.lost += w.lost;
      result_.late += w.late;
      delay.merge(t.delay());
      t.trace().close(now);
      diagnosis.push_back({i, continuity, w.late, w.lost, &t.trace(),
                           i < fetch_of_.size() ? fetch_of_[i] : multicast::FetchCounters{}});
    }
    result_.diagnosis = diagnose(std::move(diagnosis), kDiagnosisThreshold, requests_empty_);
    result_.viewers = n;
    result_.continuity_mean = n == 0 ? 0 : sum / static_cast<double>(n);
    result_.continuity_min = n == 0 ? 0 : min;
    result_.delay_p50_ms = to_ms(delay.quantile(0.5));
    result_.delay_p99_ms = to_ms(delay.quantile(0.99));
  }

 private:
  // Builds the viewer's pipeline at its first packet (when the measurement start is known).
  struct LazyTap final : multicast::PacketSink {
    explicit LazyTap(StreamMedia& m) : media(m) {}
    void on_packet(const multicast::Packet& p, Time now) override {
      if (!tap) tap = std::make_unique<ViewerTap>(media.viewer_config_, media.signer_, media.measure_from_);
      tap->on_packet(p, now);
    }
    void wanted_stripes(Time now, std::vector<uint32_t>& stripes) override {
      if (tap) tap->wanted_stripes(now, stripes);
    }
    StreamMedia& media;
    std::unique_ptr<ViewerTap> tap;
  };

  static double to_ms(Duration d) { return static_cast<double>(d.count()) / 1000.0; }
  static media::StreamId stream_id(const StreamScenarioConfig& c) {
    media::StreamId id{};
    for (size_t i = 0; i < id.size(); ++i)
      id[i] = static_cast<uint8_t>((c.forest.seed >> (8 * (i % 8))) ^ (0x5a + i));
    return id;
  }
  static media::PublisherConfig publisher_config(const StreamScenarioConfig& c) {
    media::PublisherConfig pc;
    pc.stream = stream_id(c);
    pc.stripes = c.forest.stripes;
    pc.fec = c.fec;
    pc.validate();
    return pc;
  }

  const StreamScenarioConfig& config_;
  StreamResult& result_;
  multicast::SyntheticSource source_;
  media::ModelGroupSigner signer_;  // sign and verify without the CPU of Ed25519
  media::PublisherPipeline publisher_;
  media::ViewerConfig viewer_config_;
  std::vector<uint8_t> rtp_;
  uint16_t rtp_seq_ = 0;
  uint64_t payload_sum_ = 0, payload_count_ = 0, payload_bytes_ = 0;  // mean item size
  Time start_ = kNever;
  Time measure_from_ = kNever;
  std::vector<std::unique_ptr<LazyTap>> taps_;
  std::vector<multicast::FetchCounters> fetch_of_;  // per node alive at the end
  uint64_t requests_empty_ = 0;
};

double rounded(double v, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(v * scale) / scale;
}

}  // namespace

StreamResult run_stream_scenario(const StreamScenarioConfig& config) {
  StreamResult result;
  // The publisher's stream id must match the viewers'; the publisher config is fixed here.
  StreamScenarioConfig c = config;
  StreamMedia media(c, result);
  c.forest.media = &media;
  result.forest = run_forest_scenario(c.forest);
  return result;
}

nlohmann::ordered_json to_json(const StreamResult& r) {
  auto j = to_json(r.forest);
  j["stream"] = {
      {"continuity_mean", rounded(r.continuity_mean, 6)},
      {"continuity_min", rounded(r.continuity_min, 6)},
      {"fec_restored", r.fec_restored},
      {"retransmitted", r.retransmitted},
      {"lost", r.lost},
      {"late", r.late},
      {"viewers", r.viewers},
      {"delay_p50_ms", rounded(r.delay_p50_ms, 1)},
      {"delay_p99_ms", rounded(r.delay_p99_ms, 1)},
      {"fetch",
       {{"requests", r.fetch_requests},
        {"packets_served", r.fetch_packets_served},
        {"bytes_served", r.fetch_bytes_served},
        {"answers_accepted", r.fetch_answers_accepted},
        {"answers_duplicate", r.fetch_answers_duplicate},
        {"requests_refused", r.fetch_requests_refused},
        // Fetched bytes over the live bytes the same nodes received from their parents.
        {"traffic_share", r.live_bytes_received == 0
                              ? 0.0
                              : rounded(static_cast<double>(r.fetch_bytes_served) /
                                            static_cast<double>(r.live_bytes_received),
                                        4)}}},
      {"diagnosis", r.diagnosis},
  };
  return j;
}

}  // namespace forestcast::sim
