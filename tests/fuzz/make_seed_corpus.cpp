// Writes the fuzz targets' seed corpora: valid datagrams of every message type (encoded by the
// codec itself) for the envelope target, record sequences built from them for the receive-path
// target, and valid bodies of every multicast and directory message and of every media format
// for the layer targets (encoded by the layers' own encoders). The output is checked in under
// tests/fuzz/corpus/; re-run after a wire or format change:
//   build-fuzz/tests/fuzz/make_seed_corpus tests/fuzz/corpus
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "directory/directory_messages.hpp"
#include "fuzz_app.hpp"
#include "media/group_format.hpp"
#include "multicast/messages.hpp"
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
  add("ping", overlay::Ping{1, false, 0});
  add("ping_joining", overlay::Ping{0xfedcba9876543210ULL, true, 0});
  add("pong", overlay::Pong{1, nullptr});
  add("pong_nonce_5", overlay::Pong{5, nullptr});
  // Id proofs (docs/security.md §3): a challenge, and an answer with key and signature (not a
  // valid one for any challenge of the harness: the proof path's refusal).
  add("ping_challenge", overlay::Ping{2, false, 0x0123456789abcdefULL});
  auto proof = std::make_shared<overlay::IdProof>();
  for (size_t i = 0; i < proof->public_key.size(); ++i) proof->public_key[i] = uint8_t(i);
  for (size_t i = 0; i < proof->signature.size(); ++i) proof->signature[i] = uint8_t(0xa0 + i);
  add("pong_proof", overlay::Pong{3, proof});

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
  // A stranger's routed and direct messages, held until it proves its id (the harness answers
  // the challenge for it), then used.
  const NodeHandle newcomer = stranger(2);
  overlay::RouteMsg first;
  first.hop_id = 91;
  first.msg_id = 92;
  first.key = harness_self().id;
  first.origin = newcomer;
  first.hops = 1;
  first.app = app("first contact");
  write(dir / "sequence_unproven_held",
        serialize_records({rec(31, wire::encode(newcomer.id, first), 1),
                           rec(31, wire::encode(newcomer.id, overlay::DirectMsg{app("hi")}), 5,
                               true)}));
  // A routed message whose next hop never acks, with a local route on top.
  Record local = rec(3, wire::encode(known_peer(3).id, overlay::Ping{9, false, 0}), 30);
  local.route_local = true;
  write(dir / "sequence_route_retries",
        serialize_records(
          {local, rec(4, wire::encode(known_peer(4).id, overlay::Pong{1, nullptr}), 250)}));
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

// --- the layers above Pastry: u16 type (little endian) + body -------------------------------

std::string typed(const overlay::AppMessage& m) {
  std::string out;
  out += static_cast<char>(m.type() & 0xff);
  out += static_cast<char>(m.type() >> 8);
  m.encode(out);
  return out;
}

void write_multicast(const fs::path& dir) {
  using namespace multicast;
  fs::create_directories(dir);
  const NodeId group = NodeId::from_parts(0x0123456789abcdefULL, 0xfedcba9876543210ULL);
  const NodeId topic = group.with_digit(0, 3);
  CreateBody create;
  create.topic = topic;
  create.group = group;
  create.stripe = 3;
  create.stripes = 16;
  create.name = "camera-one";
  create.public_key.fill(0x42);
  create.nonce = 99;
  create.signature.fill(0x17);
  create.creator = known_peer(4).id;
  write(dir / "create", typed(CreateMsg(create)));
  write(dir / "replicate", typed(ReplicateMsg(create)));
  JoinBody join;
  join.topic = topic;
  write(dir / "join", typed(JoinMsg(join)));
  join.have_seq = 12344;  // an orphan re-joining: what it holds (the adopter replays after it)
  write(dir / "join_have_seq", typed(JoinMsg(join)));
  join.have_seq = 0;  // a control group's JOIN (join_full below) never carries one
  join.has_avoid = true;
  join.avoid = known_peer(5).id;
  join.pushdown_left = 3;
  join.has_child = true;
  join.child = v6_node(2);
  join.control = true;
  join.spare = 7;
  write(dir / "join_full", typed(JoinMsg(join)));
  join.backup = true;
  write(dir / "join_backup", typed(JoinMsg(join)));
  PathBody path;
  path.topic = topic;
  for (size_t i = 0; i < 4; ++i) path.path.push_back(known_peer(i).id);
  write(dir / "accept", typed(AcceptMsg(path)));
  path.has_parent = true;
  path.parent = known_peer(9);
  write(dir / "heartbeat", typed(HeartbeatMsg(path)));
  for (size_t i = 0; i < kMaxAncestors; ++i) path.ancestors.push_back(known_peer(10 + i));
  path.ancestors.back() = v6_node(3);
  write(dir / "heartbeat_ancestors", typed(HeartbeatMsg(path)));
  RefuseBody refuse;
  refuse.topic = topic;
  for (size_t i = 0; i < kMaxCandidates; ++i) refuse.candidates.push_back(known_peer(i));
  refuse.pushdown_left = 2;
  write(dir / "refuse", typed(RefuseMsg(refuse)));
  write(dir / "leave", typed(LeaveMsg(TopicBody{topic})));
  write(dir / "anycast_fail", typed(AnycastFailMsg(TopicBody{topic})));
  RefreshBody refresh;
  for (uint32_t i = 0; i < 16; ++i) refresh.topics.push_back(group.with_digit(0, int(i)));
  refresh.spare = 3;
  write(dir / "refresh", typed(RefreshMsg(refresh)));
  DataBody data;
  data.topic = topic;
  data.seq = 12345;
  data.stripe = 3;
  data.sent_at_us = 1'000'000;
  data.payload = std::make_shared<const std::string>(std::string(300, 'v'));
  data.payload_size = 300;
  write(dir / "data", typed(DataMsg(data)));
  data.has_dead_root = true;
  data.dead_root = known_peer(7).id;
  write(dir / "data_dead_root", typed(DataMsg(data)));
  data.has_dead_root = false;
  data.replayed = true;
  write(dir / "data_replayed", typed(DataMsg(data)));
  write(dir / "resume", typed(ResumeMsg(ResumeBody{topic, 12344})));
  write(dir / "fetch", typed(FetchMsg(FetchBody{topic, 12344, {12301, 12302, 12340}})));
  RootAckBody ack;
  ack.topic = topic;
  ack.seq = 12345;
  write(dir / "root_ack", typed(RootAckMsg(ack)));
  ack.not_root = true;
  ack.has_successor = true;
  ack.successor = known_peer(8);
  write(dir / "root_ack_successor", typed(RootAckMsg(ack)));
  ack.not_root = false;
  ack.children = {known_peer(11), known_peer(12)};
  write(dir / "root_ack_children", typed(RootAckMsg(ack)));
  AnycastBody any;
  any.topic = group;
  any.requester = known_peer(10);
  any.want = topic;
  for (size_t i = 0; i < 5; ++i) any.visited.push_back(known_peer(i).id);
  any.relaxed = true;
  write(dir / "anycast", typed(AnycastMsg(any)));
  any.have_seq = 12344;
  write(dir / "anycast_have_seq", typed(AnycastMsg(any)));
}

void write_directory(const fs::path& dir) {
  using namespace directory;
  fs::create_directories(dir);
  NameRecord record;
  record.name = "camera-one";
  record.publisher_key.fill(0x42);
  record.fec_data = 4;
  record.fec_parity = 2;
  record.bitrate_kbps = 1000;
  record.sdp = "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=cam\r\nm=video 5004 RTP/AVP 96\r\n";
  record.version = 3;
  record.signature.fill(0x17);
  write(dir / "store", typed(StoreMessage(record, false)));
  write(dir / "store_replica", typed(StoreMessage(record, true)));
  write(dir / "lookup", typed(LookupMessage("camera-one", 77)));
  write(dir / "lookup_reply", typed(LookupReplyMessage(77, record, 2)));
  write(dir / "lookup_reply_none", typed(LookupReplyMessage(78, std::nullopt, 0)));
}

// First byte: which parser (see media_fuzzer.cpp).
void write_media(const fs::path& dir) {
  fs::create_directories(dir);
  auto put = [&](const std::string& name, uint8_t parser, const std::vector<uint8_t>& bytes) {
    std::string out(1, static_cast<char>(parser));
    out.append(bytes.begin(), bytes.end());
    write(dir / name, out);
  };
  std::vector<uint8_t> rtp = {0x80, 0xe0, 0x12, 0x34, 0, 0, 0x10, 0, 0xde, 0xad, 0xbe, 0xef};
  for (int i = 0; i < 40; ++i) rtp.push_back(static_cast<uint8_t>(i));
  put("rtp", 0, rtp);
  // CSRC count 1, extension (1 word), padding 4.
  std::vector<uint8_t> rtp_full = {0xb1, 0x60, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3,
                                   0xbe, 0xde, 0, 1, 1, 2, 3, 4};
  for (int i = 0; i < 20; ++i) rtp_full.push_back(static_cast<uint8_t>(i));
  rtp_full.insert(rtp_full.end(), {0, 0, 0, 4});
  put("rtp_csrc_ext_padding", 0, rtp_full);

  media::GroupHeader h;
  h.stream.fill(0x33);
  h.group = 41;
  h.publisher_time_us = 5'000'000;
  h.first_packet = 1000;
  h.packet_count = 3;
  h.data_symbols = 4;
  h.parity_symbols = 2;
  h.symbol_bytes = 64;
  h.data_bytes = 200;
  std::vector<uint8_t> symbol(64, 0x5c);
  put("symbol_data", 1, media::encode_symbol_item(h, 0, symbol));
  put("symbol_parity", 1, media::encode_symbol_item(h, 5, symbol));
  media::GroupAuth auth;
  auth.header = h;
  for (uint8_t i = 0; i < 6; ++i) {
    media::SymbolHash hash{};
    hash.fill(i);
    auth.hashes.push_back(hash);
  }
  auth.signature.fill(0x17);
  put("auth", 2, media::encode_auth_item(auth));
  std::vector<uint8_t> stream = {3};  // expected packet count
  for (uint16_t i = 0; i < 3; ++i) {
    const std::vector<uint8_t> packet(50 + i * 10, static_cast<uint8_t>(i));
    media::append_framed_packet(stream, packet, static_cast<uint16_t>(i * 100));
  }
  put("framed_packets", 3, stream);
  const std::string sdp =
      "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=camera\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
      "m=video 5004 RTP/AVP 96\r\nb=AS:1500\r\na=rtpmap:96 H264/90000\r\n"
      "a=fmtp:96 packetization-mode=1\r\nm=audio 5006 RTP/AVP 97\r\na=rtpmap:97 opus/48000/2\r\n";
  put("sdp", 4, std::vector<uint8_t>(sdp.begin(), sdp.end()));
}

}  // namespace
}  // namespace forestcast::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr,
                 "usage: %s CORPUS_ROOT (writes CORPUS_ROOT/envelope, .../receive_path, "
                 ".../multicast, .../directory, .../media)\n",
                 argv[0]);
    return 2;
  }
  const std::filesystem::path root(argv[1]);
  forestcast::fuzz::write_envelopes(root / "envelope");
  forestcast::fuzz::write_receive_path(root / "receive_path");
  forestcast::fuzz::write_multicast(root / "multicast");
  forestcast::fuzz::write_directory(root / "directory");
  forestcast::fuzz::write_media(root / "media");
  return 0;
}
