#include "receive_path_harness.hpp"

#include <algorithm>

#include "net/wire/codec.hpp"

namespace forestcast::fuzz {
namespace {

using overlay::Endpoint;
using overlay::NodeHandle;
using overlay::NodeId;

constexpr size_t kMaxDirectory = 1024;
constexpr int kMaxTimerRounds = 2000;  // per advance: bounds a timer storm, far above normal

uint64_t splitmix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

const NodeId kSelfId = NodeId::from_parts(0x5a5a5a5a00000000ULL, 0x1234);

}  // namespace

// ---- record format --------------------------------------------------------------------------

std::vector<Record> parse_records(std::span<const uint8_t> input) {
  std::vector<Record> out;
  size_t pos = 0;
  while (input.size() - pos >= 4 && out.size() < kMaxRecords) {
    Record r;
    const uint8_t control = input[pos];
    r.sender = control & 0x1f;
    r.answer_pings = (control & 0x20) != 0;
    r.route_local = (control & 0x40) != 0;
    r.leave = (control & 0x80) != 0;
    r.advance_10ms = input[pos + 1];
    const size_t length = input[pos + 2] | (size_t{input[pos + 3]} << 8);
    pos += 4;
    const size_t take = std::min(length, input.size() - pos);
    r.datagram.assign(reinterpret_cast<const char*>(input.data() + pos), take);
    pos += take;
    out.push_back(std::move(r));
  }
  return out;
}

std::string serialize_records(const std::vector<Record>& records) {
  std::string out;
  for (const Record& r : records) {
    const auto control = static_cast<uint8_t>((r.sender & 0x1f) | (r.answer_pings ? 0x20 : 0) |
                                              (r.route_local ? 0x40 : 0) | (r.leave ? 0x80 : 0));
    const size_t length = std::min<size_t>(r.datagram.size(), 0xffff);
    out += static_cast<char>(control);
    out += static_cast<char>(r.advance_10ms);
    out += static_cast<char>(length & 0xff);
    out += static_cast<char>(length >> 8);
    out.append(r.datagram, 0, length);
  }
  return out;
}

// ---- the cast -------------------------------------------------------------------------------

NodeHandle harness_self() { return {kSelfId, Endpoint::ipv4(0x0a000001, 7000)}; }

NodeHandle known_peer(size_t i) {
  // Half close to us on the ring (leaf set candidates, on both sides), half spread over it with
  // every first digit used (routing table row 0) and some sharing our first digit (row 1).
  const uint64_t r = splitmix(i + 1);
  NodeId id;
  if (i < kKnownPeers / 2) {
    const uint64_t offset = (r >> 20) + 1;
    id = (i % 2 == 0) ? NodeId(kSelfId.value() + offset) : NodeId(kSelfId.value() - offset);
  } else if (i < kKnownPeers - 4) {
    id = NodeId::from_parts((uint64_t{i % 16} << 60) | (r >> 4), splitmix(r));
  } else {
    id = NodeId::from_parts((kSelfId.hi() & 0xf000000000000000ULL) | (r >> 8), splitmix(r));
  }
  return {id, Endpoint::ipv4(0x0a000100 + static_cast<uint32_t>(i), 7000)};
}

Endpoint sender_endpoint(uint8_t sender) {
  if (sender < kKnownPeers) return known_peer(sender).endpoint;
  return Endpoint::ipv4(0xc0000200 + sender, 4000);  // TEST-NET-1: strangers
}

// ---- environment ----------------------------------------------------------------------------

RecordingEnvironment::RecordingEnvironment(const FuzzApp& app)
    : apps_(decoder_for(app)), proofs_(harness_self().id, model_) {}

std::shared_ptr<const overlay::IdProof> RecordingEnvironment::proof_of(const NodeHandle& peer,
                                                                       const SentPing& ping) {
  sim::ModelledProofs signer(peer.id, model_);
  return std::make_shared<overlay::IdProof>(signer.prove(
      overlay::proof_statement(ping.nonce, ping.challenge, harness_self().id, peer)));
}

void RecordingEnvironment::send(const Endpoint& to, const overlay::Message& msg) {
  ++sent_;
  if (!to.valid()) property_failed("the core sent to an invalid address");
  const std::string bytes = wire::encode(harness_self().id, msg);
  const bool carries_app =
      (std::holds_alternative<overlay::RouteMsg>(msg) && std::get<overlay::RouteMsg>(msg).app) ||
      std::holds_alternative<overlay::DirectMsg>(msg);
  if (bytes.size() > overlay::kMaxDatagramBytes) {
    // The runtime drops (and counts) an oversize application message; Pastry's own must fit.
    if (!carries_app) property_failed("the core built an oversize datagram");
  } else if (!wire::decode(bytes, apps_)) {
    property_failed("the core sent a message the wire format rejects");
  }
  if (const auto* ping = std::get_if<overlay::Ping>(&msg); ping && pings_.size() < kMaxRemembered)
    pings_.push_back({to, ping->nonce, ping->challenge});
}

// ---- harness --------------------------------------------------------------------------------

ReceivePathHarness::ReceivePathHarness()
    : env_(app_), node_(harness_self(), overlay::PastryConfig{}, env_, /*seed=*/1) {
  node_.register_app(kFuzzAppId, &app_);
  for (size_t i = 0; i < kKnownPeers; ++i) remember(known_peer(i));
  node_.start_ring(now_);
  // Peer 0 tells us about the others, as a neighbour's leaf set exchange would; everyone
  // answers our probes, so they enter the leaf set and routing table with a measured RTT.
  overlay::StateTransfer st;
  st.kind = overlay::StateKind::kLeafSet;
  for (size_t i = 1; i < kKnownPeers; ++i) st.nodes.push_back(known_peer(i));
  deliver(known_peer(0), st);
  for (int round = 0; round < 3; ++round) {
    advance(ms(5));
    answer_pings();
  }
  advance(ms(100));
}

void ReceivePathHarness::feed(const Record& r) {
  receive(sender_endpoint(r.sender), r.datagram);
  if (r.answer_pings) answer_pings();
  if (r.route_local)
    node_.route(now_, NodeId::sha1_of(std::string_view(r.datagram)),
                std::make_shared<FuzzAppMessage>("local"));
  if (r.leave) node_.leave(now_);
  advance(ms(10) * r.advance_10ms);
}

// What UdpRuntime::on_datagram does after its rate limits.
void ReceivePathHarness::receive(const Endpoint& from, const std::string& datagram) {
  const wire::DecodeResult decoded = wire::decode(datagram, decoder_for(app_));
  if (!decoded || decoded.value().sender == node_.self().id) return;
  if (node_.join_state() == overlay::JoinState::kLeft) return;
  remember_handles(decoded.value().msg);
  deliver(NodeHandle{decoded.value().sender, from}, decoded.value().msg);
}

void ReceivePathHarness::deliver(const NodeHandle& from, const overlay::Message& msg) {
  node_.on_message(now_, from, msg);
}

void ReceivePathHarness::answer_pings() {
  for (const auto& ping : env_.take_pings()) {
    auto it = directory_.find(ping.to);
    if (it == directory_.end() || node_.join_state() == overlay::JoinState::kLeft) continue;
    const NodeHandle peer{it->second, ping.to};
    deliver(peer, overlay::Pong{ping.nonce, ping.challenge != 0 ? env_.proof_of(peer, ping)
                                                                 : nullptr});
  }
}

// As the runtime's one steady_timer: fire at every deadline on the way, not just at the end.
void ReceivePathHarness::advance(Duration d) {
  const Time until = now_ + d;
  for (int round = 0; round < kMaxTimerRounds; ++round) {
    const Time deadline = node_.next_deadline();
    if (deadline > until) break;
    now_ = std::max(now_, deadline);
    node_.on_timer(now_);
  }
  now_ = until;
}

void ReceivePathHarness::remember(const NodeHandle& h) {
  if (directory_.size() < kMaxDirectory) directory_.emplace(h.endpoint, h.id);
}

void ReceivePathHarness::remember_handles(const overlay::Message& msg) {
  if (const auto* st = std::get_if<overlay::StateTransfer>(&msg))
    for (const auto& h : st->nodes) remember(h);
  if (const auto* route = std::get_if<overlay::RouteMsg>(&msg)) remember(route->origin);
}

}  // namespace forestcast::fuzz
