#include "node/media_viewer.hpp"

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "base/log.hpp"
#include "media/fec_scheme.hpp"
#include "media/rtp_packet.hpp"
#include "net/udp/udp_runtime.hpp"
#include "node/media_ingest.hpp"
#include "node/rtsp_server.hpp"

namespace forestcast::node {
namespace {

namespace asio = boost::asio;

spdlog::logger& log() {
  static const std::shared_ptr<spdlog::logger> logger = module_logger("media");
  return *logger;
}

asio::steady_timer::time_point steady_of(Time t) {
  return asio::steady_timer::time_point(std::chrono::duration_cast<asio::steady_timer::duration>(t));
}

media::Sdp parse_record_sdp(const directory::NameRecord& r) {
  auto parsed = media::parse_sdp(r.sdp);
  if (!parsed.sdp) throw std::invalid_argument("the stream's SDP: " + parsed.error);
  return *parsed.sdp;
}

media::ViewerConfig viewer_config(const directory::NameRecord& r, Duration playout_delay,
                                  bool exact_delay) {
  media::ViewerConfig vc;
  vc.stream = r.group_id().to_bytes();
  vc.stripes = r.stripes;
  vc.fec = media::FecScheme{r.fec_data, r.fec_parity};
  vc.playout_delay = playout_delay;
  // Same host, same CLOCK_MONOTONIC: the publisher's timestamps are on our clock.
  if (exact_delay) vc.publisher_clock_offset = Duration::zero();
  vc.validate();
  return vc;
}

double settled_continuity(const media::PlayoutCounters& p) {
  const uint64_t settled = p.delivered_in_time + p.lost + p.late;
  return settled == 0 ? 1.0
                      : static_cast<double>(p.delivered_in_time) / static_cast<double>(settled);
}

// The delay distribution at a few quantiles, for a CDF without shipping the histogram.
nlohmann::json delay_cdf(const media::DelayHistogram& h) {
  nlohmann::json out = nlohmann::json::array();
  if (h.count() == 0) return out;
  for (int q = 1; q <= 99; q += (q < 5 || q >= 95) ? 1 : 5)
    out.push_back({q / 100.0, to_ms(h.quantile(q / 100.0))});
  out.push_back({1.0, to_ms(h.max())});
  return out;
}

}  // namespace

MediaViewer::MediaViewer(asio::io_context& io, const directory::NameRecord& record,
                         MediaViewerConfig config, uint64_t clock_domain, RtspServer* rtsp)
    : name_(record.name),
      config_(std::move(config)),
      sdp_(parse_record_sdp(record)),
      exact_delay_(clock_domain != 0 && record.clock_domain == clock_domain),
      rtsp_(rtsp),
      verifier_(record.publisher_key),
      pipeline_(viewer_config(record, config_.playout_delay, exact_delay_), verifier_),
      socket_(io),
      timer_(io) {
  if (config_.rtp_out) {
    const auto to = net::to_asio(*config_.rtp_out);
    boost::system::error_code ec;
    socket_.open(to.protocol(), ec);
    if (ec) throw std::invalid_argument("cannot open a UDP socket for --rtp-out: " + ec.message());
    socket_.non_blocking(true, ec);
    if (config_.rtp_out->port + 2 * (sdp_.media.size() - 1) > 65535)
      throw std::invalid_argument("--rtp-out port leaves no room for the stream's " +
                                  std::to_string(sdp_.media.size()) + " media sections");
    if (config_.sdp_out) write_sdp();
  }
  if (rtsp_) rtsp_->add_stream(name_, sdp_);
  log().info("'{}': playout {} ms, FEC {}+{}, delay measured {}", name_,
             to_ms(config_.playout_delay), record.fec_data, record.fec_parity,
             exact_delay_ ? "exactly (publisher on this host)" : "as a lower bound");
}

MediaViewer::~MediaViewer() {
  stopped_ = true;
  timer_.cancel();
}

void MediaViewer::write_sdp() {
  const auto to = net::to_asio(*config_.rtp_out);
  const std::string& path = *config_.sdp_out;
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << media::write_viewer_sdp(sdp_, to.address().to_string(), to.port());
    if (!out) {
      log().error("cannot write --sdp-out {}", path);
      return;
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);  // players never read half a file
  if (ec)
    log().error("cannot write --sdp-out {}: {}", path, ec.message());
  else
    log().info("'{}': players open {} (RTP to {})", name_, path, config_.rtp_out->to_string());
}

void MediaViewer::on_packet(const multicast::Packet& packet, Time) {
  if (stopped_) return;
  if (!packet.payload) {
    ++wrong_payload_;
    return;
  }
  const auto* bytes = reinterpret_cast<const uint8_t*>(packet.payload->data());
  pipeline_.on_stripe_payload(media_clock_now(), packet.stripe, {bytes, packet.payload->size()},
                              packet.retransmitted);
  poll();
}

void MediaViewer::wanted_stripes(Time, std::vector<uint32_t>& stripes) {
  if (!stopped_) pipeline_.wanted_stripes(media_clock_now(), stripes);
}

void MediaViewer::poll() {
  pipeline_.poll(media_clock_now());
  for (const auto& p : pipeline_.take_packets()) emit(p);
  arm_timer();
}

void MediaViewer::emit(const media::PlayoutPacket& p) {
  // Media section i listens on port + 2i (write_viewer_sdp): route by payload type.
  size_t media_index = 0;
  if (sdp_.media.size() > 1) {
    const auto rtp = media::parse_rtp(p.bytes);
    for (size_t i = 0; rtp.ok && i < sdp_.media.size(); ++i) {
      const auto& pts = sdp_.media[i].payload_types;
      if (std::find(pts.begin(), pts.end(), rtp.packet.payload_type) != pts.end()) {
        media_index = i;
        break;
      }
    }
  }
  if (rtsp_) rtsp_->on_packet(name_, media_index, p.bytes);
  if (!config_.rtp_out) return;
  auto to = net::to_asio(*config_.rtp_out);
  to.port(static_cast<uint16_t>(to.port() + 2 * media_index));
  boost::system::error_code ec;
  socket_.send_to(asio::buffer(p.bytes), to, 0, ec);
  if (ec)
    ++send_errors_;  // a player that is not listening yet: ICMP refusals are normal
  else
    ++rtp_sent_;
}

void MediaViewer::arm_timer() {
  const Time deadline = pipeline_.next_deadline();
  if (deadline == armed_for_) return;
  armed_for_ = deadline;
  timer_.cancel();
  if (deadline == kNever) return;  // a stalled stream sleeps until its next item
  timer_.expires_at(steady_of(deadline));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    armed_for_ = kNever;
    poll();
  });
}

nlohmann::json MediaViewer::status_json() const {
  const auto r = pipeline_.report();
  const auto& p = r.playout;
  nlohmann::json drops = nlohmann::json::object();
  for (size_t v = 0; v < media::kItemVerdictCount; ++v) {
    const auto verdict = static_cast<media::ItemVerdict>(v);
    if (verdict != media::ItemVerdict::kAccepted && verdict != media::ItemVerdict::kRedundant)
      drops[std::string(media::to_string(verdict))] = r.items[verdict];
  }
  return {
      {"expected", p.expected},
      {"delivered_in_time", p.delivered_in_time},
      {"fec_restored", p.restored_by_fec},
      // Played out in time thanks to items a relay replayed (Scribe's gap repair).
      {"retransmitted", p.restored_by_retransmission},
      {"items_retransmitted", r.items.items_retransmitted},
      // Stripes this viewer asked a neighbour for (peer fetch); what came back is in the node's
      // scribe_fetch_* counters.
      {"fetch_asks", r.fetch_asks},
      {"late", p.late},
      {"lost", p.lost},
      // Over the packets whose fate is known: a released group's packets count as expected
      // before they are played out, so expected/delivered alone dip while packets wait.
      {"continuity", settled_continuity(p)},
      {"delay_p50_ms", to_ms(r.delay_p50)},
      {"delay_p99_ms", to_ms(r.delay_p99)},
      {"delay_max_ms", to_ms(r.delay_max)},
      {"delay_exact", exact_delay_},
      {"delay_cdf_ms", delay_cdf(pipeline_.delay())},
      {"stripe_skew_p50_ms", to_ms(r.stripe_skew_p50)},
      {"stripe_skew_p99_ms", to_ms(r.stripe_skew_p99)},
      {"stripe_skew_max_ms", to_ms(r.stripe_skew_max)},
      {"items_received", r.items_received},
      {"items_dropped", drops},
      {"groups_decoded", r.items.groups_decoded},
      {"groups_restored_by_fec", r.items.groups_restored_by_fec},
      {"groups_restored_by_retransmission", r.items.groups_restored_by_retransmission},
      {"signature_checks", r.items.signature_checks},
      {"stalled", r.stalled},
      {"stalls", r.stalls},
      {"playout_ms", to_ms(config_.playout_delay)},
      {"rtp_out", config_.rtp_out ? nlohmann::json(config_.rtp_out->to_string()) : nullptr},
      {"rtp_sent", rtp_sent_},
      {"rtp_send_errors", send_errors_},
  };
}

std::vector<MediaMetric> MediaViewer::metrics() const {
  const auto r = pipeline_.report();
  auto n = [](uint64_t v) { return static_cast<double>(v); };
  return {
      {"media_viewer_expected_total", "counter",
       "RTP packets the publisher sent since this viewer started.", n(r.playout.expected)},
      {"media_viewer_delivered_in_time_total", "counter", "RTP packets played out in time.",
       n(r.playout.delivered_in_time)},
      {"media_viewer_fec_restored_total", "counter",
       "Packets played out in time with bytes rebuilt by Reed-Solomon.",
       n(r.playout.restored_by_fec)},
      {"media_viewer_retransmitted_total", "counter",
       "Packets played out in time from groups that only a relay's replay completed.",
       n(r.playout.restored_by_retransmission)},
      {"media_viewer_fetch_asks_total", "counter",
       "Stripes asked from a neighbour because a group could not complete in time.",
       n(r.fetch_asks)},
      {"media_viewer_late_total", "counter", "Packets restored after their playout time.",
       n(r.playout.late)},
      {"media_viewer_lost_total", "counter", "Packets never restored.", n(r.playout.lost)},
      {"media_viewer_items_received_total", "counter", "Stripe items received.",
       n(r.items_received)},
      {"media_viewer_stalls_total", "counter", "Stops longer than the stall timeout.",
       n(r.stalls)},
      {"media_viewer_rtp_sent_total", "counter", "RTP packets sent to --rtp-out.", n(rtp_sent_)},
      {"media_viewer_continuity", "gauge",
       "Delivered in time / (delivered in time + lost + late).",
       settled_continuity(r.playout)},
      {"media_viewer_delay_p50_seconds", "gauge", "End-to-end delay, median.",
       to_ms(r.delay_p50) / 1000.0},
      {"media_viewer_delay_p99_seconds", "gauge", "End-to-end delay, 99th percentile.",
       to_ms(r.delay_p99) / 1000.0},
      {"media_viewer_stripe_skew_p99_seconds", "gauge",
       "Spread of a group's arrival across its stripes, 99th percentile.",
       to_ms(r.stripe_skew_p99) / 1000.0},
  };
}

}  // namespace forestcast::node
