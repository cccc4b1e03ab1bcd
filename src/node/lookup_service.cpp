#include "node/lookup_service.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>

namespace forestcast::node {
namespace {

int64_t monotonic_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// One message type both ways: a query (routed) carries the origin's send time; an answer
// (direct) carries the hop count, the route delay and the emulated direct latency in µs.
class LookupProbe final : public overlay::AppMessage {
 public:
  bool answer = false;
  uint64_t nonce = 0;
  int64_t sent_ns = 0;     // query
  int64_t route_ns = 0;    // answer
  int64_t direct_us = -1;  // answer; -1 when not emulated
  uint16_t hops = 0;       // answer

  static constexpr uint16_t kType = 1;
  uint16_t app_id() const override { return kLookupServiceAppId; }
  uint16_t type() const override { return kType; }
  void encode(std::string& out) const override {
    out.push_back(answer ? 'A' : 'Q');
    for (uint64_t v : {nonce, static_cast<uint64_t>(sent_ns), static_cast<uint64_t>(route_ns),
                       static_cast<uint64_t>(direct_us), uint64_t{hops}})
      for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
  }
};

constexpr size_t kProbeBytes = 1 + 5 * 8;

}  // namespace

LookupService::LookupService(boost::asio::io_context& io, net::UdpRuntime& runtime)
    : io_(io), runtime_(runtime) {}

overlay::AppMessagePtr LookupService::decode(uint16_t type, std::string_view body) const {
  if (type != LookupProbe::kType || body.size() != kProbeBytes ||
      (body[0] != 'Q' && body[0] != 'A'))
    return nullptr;
  uint64_t v[5];
  for (size_t i = 0; i < 5; ++i) {
    v[i] = 0;
    for (size_t b = 0; b < 8; ++b) v[i] = (v[i] << 8) | static_cast<uint8_t>(body[1 + i * 8 + b]);
  }
  if (v[4] > 0xffff) return nullptr;
  auto p = std::make_shared<LookupProbe>();
  p->answer = body[0] == 'A';
  p->nonce = v[0];
  p->sent_ns = static_cast<int64_t>(v[1]);
  p->route_ns = static_cast<int64_t>(v[2]);
  p->direct_us = static_cast<int64_t>(v[3]);
  p->hops = static_cast<uint16_t>(v[4]);
  return p;
}

void LookupService::lookup(const overlay::NodeId& key, Duration timeout, Done done) {
  const uint64_t nonce = next_nonce_++;
  auto query = std::make_shared<LookupProbe>();
  query->nonce = nonce;
  query->sent_ns = monotonic_ns();
  Pending& p = pending_[nonce];
  p.done = std::move(done);
  p.sent_ns = query->sent_ns;
  p.timeout = std::make_unique<boost::asio::steady_timer>(io_, timeout);
  p.timeout->async_wait([this, nonce](const boost::system::error_code& ec) {
    if (!ec) finish(nonce, LookupResult{});
  });
  runtime_.with_node([&](overlay::PastryNode& node, Time now) { node.route(now, key, query); });
}

void LookupService::deliver(Time, const overlay::RouteInfo& info,
                            const overlay::AppMessagePtr& msg) {
  const auto* query = static_cast<const LookupProbe*>(msg.get());
  if (query->answer) return;
  auto answer = std::make_shared<LookupProbe>();
  answer->answer = true;
  answer->nonce = query->nonce;
  answer->route_ns = monotonic_ns() - query->sent_ns;
  answer->hops = static_cast<uint16_t>(info.hops);
  if (runtime_.emulation())
    answer->direct_us = runtime_.emulation()->latency_to(info.origin.id).count();
  // Answer after the core finished delivering: no call back into the node from inside it. A
  // datagram to ourselves would be dropped as claiming our id, so a local root answers here.
  if (info.origin.id == runtime_.id()) {
    boost::asio::post(io_, [this, origin = info.origin, answer] {
      receive_direct(runtime_.now(), origin, answer);
    });
    return;
  }
  boost::asio::post(io_, [this, origin = info.origin, answer] {
    runtime_.with_node(
        [&](overlay::PastryNode& node, Time now) { node.send_direct(now, origin, answer); });
  });
}

void LookupService::receive_direct(Time, const overlay::NodeHandle& from,
                                   const overlay::AppMessagePtr& msg) {
  const auto* answer = static_cast<const LookupProbe*>(msg.get());
  if (!answer->answer) return;
  const auto it = pending_.find(answer->nonce);
  if (it == pending_.end()) return;  // late, after the timeout
  LookupResult r;
  r.answered = true;
  r.root = from;
  r.hops = answer->hops;
  r.route_ms = static_cast<double>(answer->route_ns) / 1e6;
  r.round_trip_ms = static_cast<double>(monotonic_ns() - it->second.sent_ns) / 1e6;
  if (answer->direct_us >= 0) r.direct_ms = static_cast<double>(answer->direct_us) / 1e3;
  finish(answer->nonce, r);
}

void LookupService::finish(uint64_t nonce, const LookupResult& result) {
  const auto it = pending_.find(nonce);
  if (it == pending_.end()) return;
  Done done = std::move(it->second.done);
  pending_.erase(it);  // also cancels the timer
  done(result);
}

}  // namespace forestcast::node
