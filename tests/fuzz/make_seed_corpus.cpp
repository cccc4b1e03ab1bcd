// Writes the fuzz targets' seed corpora: valid datagrams of every message type (encoded by the
// codec itself) for the envelope target, and record sequences built from them for the
// receive-path target. The output is checked in under tests/fuzz/corpus/; re-run after a wire
// format change:
//   build-fuzz/tests/fuzz/make_seed_corpus tests/fuzz/corpus
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz_app.hpp"
#include "net/wire/codec.hpp"
#include "receive_path_harness.hpp"

namespace forestcast::fuzz {
namespace {

namespace fs = std::filesystem;
using overlay::Endpoint;
using overlay::NodeHandle;
using overlay::NodeId;

struct Sample {
  std::string name;
  std::string datagram;
};

NodeHandle stranger(uint64_t n) {
  return {NodeId::from_parts(0x5a5a5a5a00000000ULL, 0x1234 + (n << 8)),
          Endpoint::ipv4(0xc0000200 + static_cast<uint32_t>(n), 4000)};
}

NodeHandle v6_node(uint64_t n) {
  NodeHandle h{NodeId::from_parts(~0ULL - n, n), *Endpoint::parse("[2001:db8::1]:7000")};
  h.endpoint.port = static_cast<uint16_t>(7000 + n);
  return h;
}

overlay::AppMessagePtr app(std::string body) {
  return std::make_shared<FuzzAppMessage>(std::move(body));
}

// Valid envelopes of every message type, as the peer `from` would send them to the harness.
std::vector<Sample> samples(const NodeId& from) {
  std::vector<Sample> out;
  auto add = [&](std::string name, const overlay::Message& m) {
    out.push_back({std::move(name), wire::encode(from, m)});
  };
  add("ping", overlay::Ping{1, false});
  add("ping_joining", overlay::Ping{0xfedcba9876543210ULL, true});
  add("pong", overlay::Pong{1});
  add("pong_nonce_5", overlay::Pong{5});

  overlay::RouteMsg join;
  join.hop_id = 77;
  join.key = stranger(1).id;
  join.origin = stranger(1);
  join.join = true;
  add("route_join", join);

  overlay::RouteMsg routed;
  routed.hop_id = 78;
  routed.key = NodeId::from_parts(0x5a5a5a5a00000000ULL, 0x9999);
  routed.origin = known_peer(13);
  routed.hops = 2;
  routed.app = app("hello");
  add("route_app", routed);
  routed.key = NodeId::from_parts(0x1111111111111111ULL, 1);
  routed.app = app("consume");
  add("route_app_consume", routed);
  routed.app = app("here");
  routed.origin = v6_node(3);
  add("route_app_here_v6", routed);

  add("route_ack", overlay::RouteAck{1});

  overlay::StateTransfer leaves;
  leaves.kind = overlay::StateKind::kLeafSet;
  for (uint64_t n = 1; n <= 6; ++n) leaves.nodes.push_back(stranger(n));
  add("state_leaf_set", leaves);
  leaves.for_join = true;
  leaves.last = false;
  for (uint64_t n = 0; n < 6; ++n) leaves.rtt_us.push_back(static_cast<uint32_t>(1000 * n));
  add("state_leaf_set_join_rtt", leaves);

  overlay::StateTransfer row;
  row.kind = overlay::StateKind::kRoutingRow;
  row.row = 1;
  for (uint64_t n = 0; n < overlay::kMaxHandlesPerMessage; ++n) row.nodes.push_back(v6_node(n));
  add("state_row_full_v6", row);

  overlay::StateTransfer hood;
  hood.kind = overlay::StateKind::kNeighborhood;
  for (size_t i = 12; i < 20; ++i) hood.nodes.push_back(known_peer(i));
  add("state_neighborhood", hood);

  add("request_leaf_set", overlay::StateRequest{overlay::StateKind::kLeafSet, 0});
  add("request_row_0", overlay::StateRequest{overlay::StateKind::kRoutingRow, 0});
  add("request_row_31", overlay::StateRequest{overlay::StateKind::kRoutingRow, 31});
  add("request_neighborhood", overlay::StateRequest{overlay::StateKind::kNeighborhood, 0});
  add("announce", overlay::Announce{});
  add("leave", overlay::Leave{});
  add("leaf_heartbeat", overlay::LeafHeartbeat{});
  add("direct", overlay::DirectMsg{app("direct")});
  return out;
}

void write(const fs::path& file, const std::string& bytes) {
  std::ofstream(file, std::ios::binary) << bytes;
}

Record rec(uint8_t sender, std::string datagram, uint8_t advance = 0, bool answer = false) {
  Record r;
  r.sender = sender;
  r.datagram = std::move(datagram);
  r.advance_10ms = advance;
  r.answer_pings = answer;
  return r;
}

void write_receive_path(const fs::path& dir) {
  fs::create_directories(dir);
  const NodeHandle peer = known_peer(2);  // a leaf
  // Each message type alone, from the known peer it claims to be.
  for (const Sample& s : samples(peer.id))
    write(dir / s.name, serialize_records({rec(2, s.datagram, 1, true)}));
  // From strangers: a joiner and a node announcing itself.
  const NodeHandle joiner = stranger(1);
  for (const Sample& s : samples(joiner.id))
    if (s.name == "route_join" || s.name == "announce" || s.name == "ping")
      write(dir / ("stranger_" + s.name), serialize_records({rec(31, s.datagram, 5, true)}));
  // A leaf falls silent: heartbeats from everyone else while the clock runs for 12 s.
  std::vector<Record> silence;
  for (int i = 0; i < 12; ++i)
    silence.push_back(rec(static_cast<uint8_t>(1 + i % 8),
                          wire::encode(known_peer(1 + i % 8).id, overlay::LeafHeartbeat{}), 100,
                          true));
  write(dir / "sequence_leaf_dies", serialize_records(silence));
  // A routed message whose next hop never acks, with a local route on top.
  Record local = rec(3, wire::encode(known_peer(3).id, overlay::Ping{9, false}), 30);
  local.route_local = true;
  write(dir / "sequence_route_retries",
        serialize_records({local, rec(4, wire::encode(known_peer(4).id, overlay::Pong{1}), 250)}));
  // A graceful leave, then traffic that must be ignored.
  Record leave = rec(5, wire::encode(known_peer(5).id, overlay::LeafHeartbeat{}));
  leave.leave = true;
  write(
      dir / "sequence_leave",
      serialize_records({leave, rec(6, wire::encode(known_peer(6).id, overlay::Announce{}), 50)}));
}

void write_envelopes(const fs::path& dir) {
  fs::create_directories(dir);
  for (const Sample& s : samples(known_peer(2).id)) write(dir / s.name, s.datagram);
}

}  // namespace
}  // namespace forestcast::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_ROOT (writes CORPUS_ROOT/envelope, .../receive_path)\n",
                 argv[0]);
    return 2;
  }
  const std::filesystem::path root(argv[1]);
  forestcast::fuzz::write_envelopes(root / "envelope");
  forestcast::fuzz::write_receive_path(root / "receive_path");
  return 0;
}
