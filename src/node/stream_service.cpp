#include "node/stream_service.hpp"

#include <algorithm>
#include <chrono>

#include <spdlog/fmt/ranges.h>

#include "base/log.hpp"

namespace forestcast::node {
namespace {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

spdlog::logger& log() {
  static const std::shared_ptr<spdlog::logger> logger = module_logger("node");
  return *logger;
}

constexpr auto kTick = std::chrono::milliseconds(100);
constexpr auto kSourceTick = std::chrono::milliseconds(5);
// A name that does not resolve is tried again with back-off up to this interval.
constexpr auto kMaxResolveBackoff = std::chrono::seconds(16);
constexpr uint32_t kRecordTtlMs = 60'000;
// A stripe without data this long is reported (log and /status): repair takes ~1 s and a
// forest builds within ~10 s on small rings, so this is a forest that is not converging.
constexpr Duration kStarved = seconds(10);

// The node's own key signs its stream's CREATEs: its groupId derives from that key.
class NodeKeyCreator final : public multicast::CreatorKey {
 public:
  explicit NodeKeyCreator(const NodeKey& key) : key_(key) {}
  const std::array<uint8_t, multicast::kPublicKeyBytes>& public_key() const override {
    return key_.public_key();
  }
  std::array<uint8_t, multicast::kSignatureBytes> sign(std::string_view data) const override {
    return key_.sign(data);
  }

 private:
  const NodeKey& key_;
};

// Scribe's defaults but a shorter JOIN timeout: a re-join after a SIGKILL that goes to a dead
// grandparent, or is routed through a node Pastry does not yet know dead, is retried after
// 300 ms, 600 ms, 1.2 s instead of 500 ms, 1 s, 2 s. On loopback and LAN a JOIN is answered in
// milliseconds; at 500 ms the slowest viewers of test_streams.py waited for the second retry
// (~2.1 s; docs/multicast.md, "Small real rings"). The simulator keeps the default.
multicast::ScribeConfig scribe_config() {
  multicast::ScribeConfig c;
  c.join_timeout = ms(300);
  return c;
}

nlohmann::json handle_json(const overlay::NodeHandle& h) {
  return {{"node_id", h.id.hex()}, {"addr", h.endpoint.to_string()}};
}

// Where a stripe's repair stands (/status streams[].stripes[].repair_state): what
// test_streams.py prints for its slowest viewers, to tell a JOIN waiting for its timeout, an
// anycast walk, a cut-off parent and a root take-over apart.
nlohmann::json repair_state_json(const multicast::TopicState& t, Time now) {
  auto id_or_null = [](const std::optional<overlay::NodeId>& id) {
    return id ? nlohmann::json(id->hex()) : nlohmann::json(nullptr);
  };
  return {{"attached", t.attached},
          {"cut_off", t.cut_off},
          {"joining", t.joining},
          {"join_attempts", t.join_attempts},
          {"join_age_ms", t.joining ? nlohmann::json(to_ms(now - t.join_sent))
                                    : nlohmann::json(nullptr)},
          {"join_target", id_or_null(t.join_target)},
          {"avoid", id_or_null(t.avoid)},
          {"walk_age_ms", t.walk_sent ? nlohmann::json(to_ms(now - *t.walk_sent))
                                      : nlohmann::json(nullptr)},
          {"walk_reissues", t.walk_reissues},
          {"replaced_root", id_or_null(t.replaced)}};
}

}  // namespace

StreamService::StreamService(asio::io_context& io, net::UdpRuntime& runtime, const NodeKey& key,
                             StreamConfig config)
    : io_(io),
      runtime_(runtime),
      key_(key),
      config_(std::move(config)),
      tick_(io),
      source_timer_(io) {
  overlay::PastryNode& node = runtime_.node();
  directory_ = std::make_unique<directory::StreamDirectory>(node);
  node.register_app(directory::kDirectoryAppId, directory_.get());
  scribe_ = std::make_unique<multicast::Scribe>(node, scribe_config(), credentials_);
  node.register_app(multicast::kMulticastAppId, scribe_.get());
  multicast::SplitStreamConfig ss;
  ss.stripes = config_.stripes;
  ss.capacity = config_.capacity;
  splitstream_ = std::make_unique<multicast::SplitStream>(*scribe_, ss);
  if (config_.upload_kbps && config_.publish && config_.synthetic_kbps > 0)
    splitstream_->set_capacity(capacity_for(config_.synthetic_kbps));
  for (const auto& q : config_.views) views_.push_back(View{q, std::nullopt});
}

StreamService::~StreamService() {
  stopped_ = true;
  tick_.cancel();
  source_timer_.cancel();
}

int StreamService::capacity_for(double stream_kbps) const {
  if (!config_.upload_kbps || stream_kbps <= 0) return config_.capacity;
  const double per_stripe = stream_kbps / config_.stripes;
  return static_cast<int>(*config_.upload_kbps / per_stripe);
}

void StreamService::start() { arm_tick(); }

void StreamService::leave() {
  if (!runtime_.is_open()) return;
  stopped_ = true;
  tick_.cancel();
  source_timer_.cancel();
  runtime_.with_node([&](overlay::PastryNode&, Time t) { scribe_->leave_all(t); });
  log().info("left every stream tree: {} children handed over",
             scribe_->counters().children_handed_over);
}

void StreamService::arm_tick() {
  tick_.expires_after(kTick);
  tick_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    on_tick();
    arm_tick();
  });
}

void StreamService::on_tick() {
  if (!runtime_.is_open() || !runtime_.node().active()) return;
  const Time now = runtime_.now();
  if (config_.publish && !published_group_ && (!media_ || media_->ready_to_publish()))
    start_publishing(now);
  const auto wall = SteadyClock::now();
  for (auto& v : views_) {
    if (!v.record && !v.resolving && wall >= v.next_attempt) resolve(v, now);
    if (v.record) report_starvation(v, now);
  }
}

std::vector<uint32_t> StreamService::starved_stripes(const View& v, Time now) const {
  std::vector<uint32_t> out;
  if (!v.record || now - v.viewing_since < kStarved) return out;
  for (const auto& s : splitstream_->stripes(v.record->group_id()))
    if (s.packets_received == 0 || now - s.last_receive >= kStarved) out.push_back(s.index);
  return out;
}

// Says once, in one line, that the forest does not reach this viewer, with the numbers an
// operator needs (this node's outdegree and what its SCG walks found), instead of retrying
// silently for ever. Whether the whole ring offers enough outdegree no single node knows; the
// simulator checks the sum up front (docs/multicast.md).
void StreamService::report_starvation(View& v, Time now) {
  const auto starved = starved_stripes(v, now);
  if (starved.empty()) {
    if (v.starved_reported) log().info("stream '{}': every stripe flows again", v.query.name);
    v.starved_reported = false;
    return;
  }
  if (v.starved_reported) return;
  v.starved_reported = true;
  ++starvation_reports_;
  const auto& ss = splitstream_->counters();
  log().warn(
      "stream '{}': {} of {} stripes without data for {} s or more (stripes {}); this node "
      "offers {} stripe-children and uses {}; {} of {} spare-capacity walks found nobody. No "
      "node with spare outdegree adopts it there: the ring may offer less outdegree than its "
      "viewers need (raise --capacity or --upload-kbps)",
      v.query.name, starved.size(), config_.stripes, to_ms(kStarved) / 1000,
      fmt::join(starved, ","), splitstream_->limit(), splitstream_->used(),
      ss.anycast_failures, ss.scg_anycasts);
}

// --- publishing ------------------------------------------------------------------------------

void StreamService::start_publishing(Time now) {
  const std::string& name = *config_.publish;
  runtime_.with_node([&](overlay::PastryNode&, Time t) {
    published_group_ = splitstream_->publish(t, NodeKeyCreator(key_), name);
    directory::NameRecord r;
    r.name = name;
    r.publisher_key = key_.public_key();
    r.stripes = config_.stripes;
    r.bitrate_kbps = static_cast<uint32_t>(config_.synthetic_kbps);
    r.ttl_ms = kRecordTtlMs;
    // A restarted publisher's record replaces its previous one: versions follow the wall clock.
    r.version = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          std::chrono::system_clock::now().time_since_epoch())
                                          .count());
    if (media_) media_->describe(r);
    r.signature = key_.sign(r.signed_bytes());
    directory_->publish(t, std::move(r));
  });
  (void)now;
  log().info("publishing '{}' as group {} ({} stripes, {})", name, published_group_->hex(),
             config_.stripes,
             config_.synthetic_kbps > 0 ? fmt::format("synthetic {} kbit/s", config_.synthetic_kbps)
                                        : std::string("RTP"));
  if (media_) media_->on_published(*published_group_);
  if (config_.synthetic_kbps > 0) {
    source_.emplace(config_.synthetic_kbps, config_.stripes);
    payload_ = source_->shared_payload();
    source_start_ = SteadyClock::now();
    send_due_packets();
  }
}

// Paced by elapsed time, not by timer count: a late timer sends what is due, so the rate holds.
void StreamService::send_due_packets() {
  if (stopped_ || !source_ || source_->interval().count() <= 0) return;
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - source_start_);
  const uint64_t due = static_cast<uint64_t>(elapsed / source_->interval()) + 1;
  if (due > packets_sent_) {
    runtime_.with_node([&](overlay::PastryNode&, Time t) {
      for (; packets_sent_ < due; ++packets_sent_)
        splitstream_->send(t, source_->next_stripe(), payload_, source_->packet_bytes());
    });
  }
  source_timer_.expires_after(kSourceTick);
  source_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) send_due_packets();
  });
}

void StreamService::send(uint32_t stripe, std::shared_ptr<const std::string> payload) {
  if (!published_group_) return;
  const auto size = static_cast<uint32_t>(payload->size());
  runtime_.with_node([&](overlay::PastryNode&, Time t) {
    if (splitstream_->send(t, stripe, std::move(payload), size) != 0) ++packets_sent_;
  });
}

// --- viewing ---------------------------------------------------------------------------------

void StreamService::resolve(View& view, Time now) {
  (void)now;
  view.resolving = true;
  ++view.attempts;
  const size_t index = static_cast<size_t>(&view - views_.data());
  runtime_.with_node([&](overlay::PastryNode&, Time t) {
    directory_->resolve(t, view.query, [this, index](Time, std::vector<directory::NameRecord> f) {
      // The directory calls back from inside the node: act on it once the core has returned.
      asio::post(io_, [this, index, found = std::move(f)]() mutable {
        if (!stopped_) on_resolved(index, std::move(found));
      });
    });
  });
}

void StreamService::on_resolved(size_t index, std::vector<directory::NameRecord> found) {
  View& v = views_[index];
  v.resolving = false;
  if (found.empty()) {
    const auto backoff = std::min<std::chrono::steady_clock::duration>(
        std::chrono::seconds(1) * (1 << std::min(v.attempts, 5)), kMaxResolveBackoff);
    v.next_attempt = SteadyClock::now() + backoff;
    if (v.attempts == 1)
      log().error("stream '{}' not found; retrying in the background", v.query.to_string());
    return;
  }
  if (found.size() > 1 && !v.query.publisher)
    log().warn("{} publishers claim '{}'; viewing the newest record (pin one with NAME@PUBKEYHEX)",
               found.size(), v.query.name);
  v.record = found.front();
  if (config_.upload_kbps && v.record->bitrate_kbps > 0)
    splitstream_->set_capacity(capacity_for(v.record->bitrate_kbps));
  const overlay::NodeId group = v.record->group_id();
  multicast::PacketSink* sink = media_ ? media_->on_resolved(index, *v.record) : nullptr;
  runtime_.with_node([&](overlay::PastryNode&, Time t) {
    v.viewing_since = t;
    splitstream_->view(t, group, sink);
  });
  log().info("viewing '{}' (group {}, publisher {})", v.record->name, group.hex(),
             directory::hex_of(v.record->publisher_key).substr(0, 16));
}

// --- reporting -------------------------------------------------------------------------------

nlohmann::json StreamService::status_json() const {
  nlohmann::json out = nlohmann::json::array();
  const Time now = runtime_.now();
  std::vector<overlay::NodeId> known_stripes;
  auto stripes_json = [&](const overlay::NodeId& group) {
    nlohmann::json stripes = nlohmann::json::array();
    for (const auto& s : splitstream_->stripes(group)) {
      known_stripes.push_back(s.stripe_id);
      nlohmann::json children = nlohmann::json::array();
      for (const auto& c : s.children) children.push_back(handle_json(c));
      stripes.push_back(
          {{"index", s.index},
           {"stripe_id", s.stripe_id.hex()},
           {"parent", s.parent ? handle_json(*s.parent) : nlohmann::json(nullptr)},
           {"children", children},
           {"root", s.root},
           {"depth", s.depth},
           {"packets_received", s.packets_received},
           {"last_receive_age_ms", s.packets_received ? nlohmann::json(to_ms(now - s.last_receive))
                                                      : nlohmann::json(nullptr)},
           {"repairs", s.repairs}});
      if (const multicast::TopicState* t = scribe_->topic(s.stripe_id))
        stripes.back()["repair_state"] = repair_state_json(*t, now);
    }
    return stripes;
  };
  if (published_group_) {
    nlohmann::json stripes = nlohmann::json::array();
    for (uint32_t i = 0; i < config_.stripes; ++i) {
      const auto root = splitstream_->publisher_root(i);
      stripes.push_back({{"index", i},
                         {"stripe_id", published_group_->with_digit(0, static_cast<int>(i)).hex()},
                         {"parent", nullptr},
                         {"children", root ? nlohmann::json::array({handle_json(*root)})
                                           : nlohmann::json::array()}});
    }
    out.push_back({{"name", *config_.publish},
                   {"group_id", published_group_->hex()},
                   {"role", "publisher"},
                   {"packets_sent", packets_sent_},
                   {"stripes", stripes}});
  }
  for (const auto& v : views_) {
    nlohmann::json s = {{"name", v.query.name}, {"role", "viewer"}};
    if (!v.record) {
      s["group_id"] = nullptr;
      s["resolved"] = false;
      s["stripes"] = nlohmann::json::array();
    } else {
      s["group_id"] = v.record->group_id().hex();
      s["resolved"] = true;
      s["publisher_key"] = directory::hex_of(v.record->publisher_key);
      s["stripes"] = stripes_json(v.record->group_id());
      s["starved_stripes"] = starved_stripes(v, now);
    }
    out.push_back(std::move(s));
  }
  // Stripes this node forwards for streams it neither publishes nor views: it is a relay there.
  nlohmann::json relayed = nlohmann::json::array();
  for (const auto& [id, t] : scribe_->topics()) {
    if (t.member || t.slow || t.children.empty()) continue;
    if (std::find(known_stripes.begin(), known_stripes.end(), id) != known_stripes.end()) continue;
    nlohmann::json children = nlohmann::json::array();
    for (const auto& c : t.children) children.push_back(handle_json(c.node));
    relayed.push_back({{"stripe_id", id.hex()},
                       {"parent", t.parent ? handle_json(*t.parent) : nlohmann::json(nullptr)},
                       {"children", children},
                       {"root", t.root}});
  }
  if (!relayed.empty())
    out.push_back(
        {{"name", nullptr}, {"group_id", nullptr}, {"role", "relay"}, {"stripes", relayed}});
  return out;
}

std::vector<std::pair<std::string, uint64_t>> StreamService::gauges() const {
  return {{"outdegree_limit", static_cast<uint64_t>(std::max(0, splitstream_->limit()))},
          {"outdegree_used", static_cast<uint64_t>(std::max(0, splitstream_->used()))}};
}

nlohmann::json StreamService::known_json() const {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& r : directory_->known())
    out.push_back(
        {{"name", r.name},
         {"publisher_key", directory::hex_of(r.publisher_key)},
         {"group_id", r.group_id().hex()},
         {"stripes", r.stripes},
         {"fec",
          r.fec_data ? std::to_string(r.fec_data) + "+" + std::to_string(r.fec_parity) : "off"},
         {"bitrate_kbps", r.bitrate_kbps},
         {"query", r.name + "@" + directory::hex_of(r.publisher_key)}});
  return out;
}

std::vector<std::pair<std::string, uint64_t>> StreamService::counters() const {
  const auto& sc = scribe_->counters();
  const auto& ss = splitstream_->counters();
  const auto& dc = directory_->counters();
  return {
      {"scribe_control_sent", sc.control_sent},
      {"scribe_data_forwarded", sc.data_forwarded},
      {"scribe_data_received", sc.data_received},
      {"scribe_children_adopted", sc.children_adopted},
      {"scribe_children_refused", sc.children_refused},
      {"scribe_parent_failures", sc.parent_failures},
      {"scribe_creates_refused", sc.creates_refused},
      {"scribe_data_refused", sc.data_refused},
      {"scribe_root_takeovers", sc.root_takeovers},
      {"scribe_successor_takeovers", sc.successor_takeovers},
      {"scribe_parents_lost_at_deadline", sc.parents_lost_at_deadline},
      {"scribe_takeovers_undone", sc.takeovers_undone},
      {"scribe_cut_off_leaves", sc.cut_off_leaves},
      {"scribe_children_handed_over", sc.children_handed_over},
      {"scribe_silent_children_replaced", sc.silent_children_replaced},
      {"scribe_malformed", sc.malformed_total()},
      // Repair steps: JOINs and anycast walks, and why walks ended (what a late repair waited for).
      {"scribe_joins_routed", sc.joins_routed},
      {"scribe_joins_direct", sc.joins_direct},
      {"scribe_anycasts_sent", sc.anycasts_sent},
      {"scribe_anycasts_failed", sc.anycasts_failed},
      {"scribe_anycasts_lost", sc.anycasts_lost},
      {"scribe_anycast_fail_no_state", sc.anycast_fail_no_state},
      {"scribe_anycast_fail_exhausted", sc.anycast_fail_exhausted},
      {"scribe_anycast_fail_tree_done", sc.anycast_fail_tree_done},
      {"scribe_walk_skips", sc.walk_skips},
      {"scribe_repair_walks_sent", sc.repair_walks_sent},
      {"scribe_repair_walk_adoptions", sc.repair_walk_adoptions},
      {"scribe_ancestors_not_receiving", sc.ancestors_not_receiving},
      {"splitstream_pushdown_unanswered_skipped", ss.pushdown_unanswered_skipped},
      {"splitstream_pushdown_attempts", ss.pushdown_attempts},
      {"splitstream_scg_anycasts", ss.scg_anycasts},
      {"splitstream_anycast_failures", ss.anycast_failures},
      {"splitstream_stripe_scg_failures", ss.stripe_scg_failures},
      {"splitstream_anycast_no_spare", ss.anycast_no_spare},
      {"splitstream_anycast_not_receiving", ss.anycast_not_receiving},
      {"splitstream_anycast_foreign_deferred", ss.anycast_foreign_deferred},
      // Gap repair (src/multicast/gap_repair.cpp): replays sent as a parent, gaps filled here.
      {"scribe_replay_requests", scribe_->replay_counters().requests},
      {"scribe_replay_requests_refused", scribe_->replay_counters().requests_refused},
      {"scribe_replay_requests_short", scribe_->replay_counters().requests_short},
      {"scribe_replay_packets", scribe_->replay_counters().packets},
      {"scribe_replay_root_changes", scribe_->replay_counters().root_changes},
      {"scribe_replay_adoptions", scribe_->replay_counters().adopt_replays},
      {"scribe_replay_adoptions_capped", scribe_->replay_counters().adopt_replays_capped},
      {"scribe_replay_bytes", scribe_->replay_counters().bytes},
      {"scribe_data_gap_filled", sc.data_gap_filled},
      {"scribe_data_duplicates", sc.data_duplicates},
      {"stream_starvation_reports", starvation_reports_},
      // Peer fetch (src/multicast/peer_fetch.cpp): a viewer's pulls from neighbours and answers.
      {"scribe_fetch_requests_sent", scribe_->fetch_counters().requests_sent},
      {"scribe_fetch_peer_rotations", scribe_->fetch_counters().peer_rotations},
      {"scribe_fetch_answers_accepted", scribe_->fetch_counters().answers_accepted},
      {"scribe_fetch_answers_duplicate", scribe_->fetch_counters().answers_duplicate},
      {"scribe_fetch_requests_served", scribe_->fetch_counters().requests_served},
      {"scribe_fetch_requests_empty", scribe_->fetch_counters().requests_empty},
      {"scribe_fetch_requests_refused", scribe_->fetch_counters().requests_refused},
      {"scribe_fetch_packets_served", scribe_->fetch_counters().packets_served},
      {"scribe_fetch_bytes_served", scribe_->fetch_counters().bytes_served},
      {"splitstream_pushdown_orphans", ss.pushdown_orphans},
      {"splitstream_scg_adoptions", ss.scg_adoptions},
      {"splitstream_limit_violations", ss.limit_violations},
      {"splitstream_delegate_swaps", ss.delegate_swaps},
      {"splitstream_packets_received", ss.packets_received},
      {"splitstream_packets_sent", ss.packets_sent},
      {"splitstream_root_reroutes", ss.root_reroutes},
      {"directory_stores_accepted", dc.stores_accepted},
      {"directory_rejected_invalid", dc.rejected_invalid},
      {"directory_lookups_answered", dc.lookups_answered},
      {"directory_lookups_timed_out", dc.lookups_timed_out},
      {"directory_replies_invalid", dc.replies_invalid},
      {"directory_malformed", dc.malformed},
  };
}

}  // namespace forestcast::node
