#include "media/viewer_pipeline.hpp"

#include <algorithm>

namespace forestcast::media {

namespace {
AssemblerConfig assembler_config(const ViewerConfig& c) {
  AssemblerConfig a;
  a.stream = c.stream;
  a.fec = c.fec;
  a.stripes = c.stripes;
  a.max_groups = c.max_groups;
  a.max_bytes = c.max_bytes / 2;
  // Long enough to see every stripe's copy of a group, including one that comes late.
  a.hold = 2 * c.playout_delay + ms(200);
  return a;
}
PlayoutConfig playout_config(const ViewerConfig& c) {
  PlayoutConfig p;
  p.playout_delay = c.playout_delay;
  p.max_groups = c.max_groups;
  p.max_bytes = c.max_bytes / 2;
  p.publisher_clock_offset = c.publisher_clock_offset;
  return p;
}
}  // namespace

void ViewerConfig::validate() const {
  if (stripes == 0 || stripes > 256) throw FecConfigError("stripes must be 1..256");
  if (fec.data == 0 || fec.total() > stripes || fec.total() > FecScheme::kMaxSymbols) {
    throw FecConfigError("FEC " + fec.to_string() + " does not fit " + std::to_string(stripes) +
                         " stripes");
  }
  if (playout_delay < Duration::zero() || playout_delay > seconds(30)) {
    throw FecConfigError("playout delay must be 0..30000 ms");
  }
  if (stall_timeout <= Duration::zero()) throw FecConfigError("stall timeout must be positive");
  if (fetch_after < Duration::zero() || fetch_lead < Duration::zero() ||
      refetch_interval <= Duration::zero()) {
    throw FecConfigError("peer fetch intervals must be positive");
  }
  if (max_groups == 0 || max_bytes < 1024 * 1024) {
    throw FecConfigError("viewer memory bounds too small");
  }
}

ViewerPipeline::ViewerPipeline(ViewerConfig config, GroupVerifier& verifier)
    : config_((config.validate(), config)),
      assembler_(assembler_config(config_), verifier),
      playout_(playout_config(config_)) {}

ItemVerdict ViewerPipeline::on_stripe_payload(Time now, unsigned stripe,
                                              std::span<const uint8_t> bytes, bool retransmitted) {
  ++items_received_;
  const auto v = assembler_.on_item(now, stripe, bytes, playout_.floor(), retransmitted);
  if (v == ItemVerdict::kAccepted || v == ItemVerdict::kRedundant) {
    // Only the publisher's items keep the stream alive; forgeries do not hide a stall.
    any_item_ = true;
    last_item_ = now;
    stalled_ = false;
  }
  drain_assembler(now);
  poll(now);
  return v;
}

void ViewerPipeline::drain_assembler(Time now) {
  for (const auto& a : assembler_.take_authenticated()) {
    playout_.on_authenticated(a.header, a.first_arrival);
  }
  for (auto& g : assembler_.take_decoded()) playout_.on_decoded(now, std::move(g));
}

void ViewerPipeline::poll(Time now) {
  assembler_.expire(now, playout_.floor());
  playout_.poll(now, out_);
  if (any_item_ && !stalled_ && now >= last_item_ + config_.stall_timeout) {
    stalled_ = true;
    ++stalls_;
  }
}

Time ViewerPipeline::next_deadline() const {
  Time t = std::min(playout_.next_deadline(), assembler_.next_expiry());
  if (any_item_ && !stalled_) t = std::min(t, last_item_ + config_.stall_timeout);
  return t;
}

void ViewerPipeline::wanted_stripes(Time now, std::vector<uint32_t>& out) {
  if (!config_.peer_fetch || !playout_.started()) return;
  want_.assign(config_.stripes, 0);
  last_asked_.resize(config_.stripes, Time{0});
  assembler_.short_stripes(
      [&](const GroupHeader& h, Time first_arrival) {
        return now >= first_arrival + config_.fetch_after &&
               now >= playout_.playout_time(h.publisher_time_us) - config_.fetch_lead;
      },
      want_);
  for (unsigned s = 0; s < config_.stripes; ++s) {
    if (!want_[s] || (last_asked_[s] != Time{0} && now - last_asked_[s] < config_.refetch_interval))
      continue;
    last_asked_[s] = now;
    ++fetch_asks_;
    out.push_back(s);
  }
}

std::vector<PlayoutPacket> ViewerPipeline::take_packets() {
  std::vector<PlayoutPacket> out;
  out.swap(out_);
  return out;
}

ViewerReport ViewerPipeline::report() const {
  ViewerReport r;
  r.playout = playout_.counters();
  r.items = assembler_.counters();
  r.items_received = items_received_;
  r.stalls = stalls_;
  r.stalled = stalled_;
  r.delay_p50 = playout_.delay().quantile(0.5);
  r.delay_p99 = playout_.delay().quantile(0.99);
  r.delay_max = playout_.delay().max();
  r.stripe_skew_p50 = assembler_.stripe_skew().quantile(0.5);
  r.stripe_skew_p99 = assembler_.stripe_skew().quantile(0.99);
  r.stripe_skew_max = assembler_.stripe_skew().max();
  r.decode_cache_hits = assembler_.codec().decode_cache_hits();
  r.decode_cache_misses = assembler_.codec().decode_cache_misses();
  r.fetch_asks = fetch_asks_;
  return r;
}

}  // namespace forestcast::media
