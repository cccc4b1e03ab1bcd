// Wire codec: every message type round-trips, and every kind of bad datagram is rejected with a
// reason instead of crashing (DESIGN.md §1, STYLE.md 7).
#include <gtest/gtest.h>

#include <random>

#include "base/random.hpp"
#include "forestcast.pb.h"
#include "net/wire/codec.hpp"

namespace forestcast::wire {
namespace {

using overlay::Endpoint;
using overlay::NodeHandle;
using overlay::NodeId;

constexpr uint16_t kTestApp = 7;

class TextMessage : public overlay::AppMessage {
 public:
  explicit TextMessage(std::string text) : text_(std::move(text)) {}
  uint16_t app_id() const override { return kTestApp; }
  uint16_t type() const override { return 5; }
  void encode(std::string& out) const override { out += text_; }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
};

class TextApp : public overlay::Application {
 public:
  void deliver(Time, const overlay::RouteInfo&, const overlay::AppMessagePtr&) override {}
  overlay::AppMessagePtr decode(uint16_t type, std::string_view body) const override {
    if (type != 5 || body == "reject") return nullptr;
    return std::make_shared<TextMessage>(std::string(body));
  }
};

class WireCodecTest : public ::testing::Test {
 protected:
  AppDecoder apps() const {
    return [this](uint16_t id) -> const overlay::Application* {
      return id == kTestApp ? &app_ : nullptr;
    };
  }
  DecodeResult round_trip(const overlay::Message& msg) const {
    return decode(encode(sender_, msg), apps());
  }

  NodeId sender_ = NodeId::from_parts(0x0123456789abcdefULL, 0xfedcba9876543210ULL);
  TextApp app_;
};

NodeHandle v4_handle(uint64_t lo, uint16_t port) {
  return {NodeId::from_parts(0xabcdef, lo), Endpoint::ipv4(0x7f000001, port)};
}

NodeHandle v6_handle(uint64_t lo, uint16_t port) {
  NodeHandle h{NodeId::from_parts(~0ULL, lo), Endpoint{}};
  h.endpoint = *Endpoint::parse("[2001:db8:ffff:ffff:ffff:ffff:ffff:ffff]:1");
  h.endpoint.port = port;
  return h;
}

std::string text_of(const overlay::AppMessagePtr& p) {
  const auto* t = dynamic_cast<const TextMessage*>(p.get());
  return t ? t->text() : "<not a TextMessage>";
}

TEST_F(WireCodecTest, PingPongRoundTrip) {
  auto r = round_trip(overlay::Ping{0xdeadbeefcafef00dULL, true, 0});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value().sender, sender_);
  const auto& ping = std::get<overlay::Ping>(r.value().msg);
  EXPECT_EQ(ping.nonce, 0xdeadbeefcafef00dULL);
  EXPECT_TRUE(ping.joining);

  r = round_trip(overlay::Pong{42, nullptr});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<overlay::Pong>(r.value().msg).nonce, 42u);
}

TEST_F(WireCodecTest, RouteMsgWithAppRoundTrip) {
  overlay::RouteMsg m;
  m.hop_id = ~0ULL;
  m.msg_id = 0x0123456789abcdefULL;
  m.key = NodeId::from_parts(1, 2);
  m.origin = v6_handle(9, 65535);
  m.hops = 17;
  m.app = std::make_shared<TextMessage>("hello");
  auto r = round_trip(m);
  ASSERT_TRUE(r.ok()) << to_string(r.error());
  const auto& got = std::get<overlay::RouteMsg>(r.value().msg);
  EXPECT_EQ(got.hop_id, m.hop_id);
  EXPECT_EQ(got.msg_id, m.msg_id);
  EXPECT_EQ(got.key, m.key);
  EXPECT_EQ(got.origin, m.origin);
  EXPECT_EQ(got.hops, 17);
  EXPECT_FALSE(got.join);
  EXPECT_EQ(text_of(got.app), "hello");
}

TEST_F(WireCodecTest, JoinRouteMsgRoundTrip) {
  overlay::RouteMsg m;
  m.hop_id = 5;
  m.key = NodeId::from_parts(3, 4);
  m.origin = v4_handle(3, 7001);
  m.join = true;
  auto r = round_trip(m);
  ASSERT_TRUE(r.ok()) << to_string(r.error());
  const auto& got = std::get<overlay::RouteMsg>(r.value().msg);
  EXPECT_TRUE(got.join);
  EXPECT_EQ(got.app, nullptr);
  EXPECT_EQ(got.origin, m.origin);
  EXPECT_TRUE(got.origin.endpoint.is_v4());
}

TEST_F(WireCodecTest, RouteAckRoundTrip) {
  auto r = round_trip(overlay::RouteAck{123456789});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<overlay::RouteAck>(r.value().msg).hop_id, 123456789u);
}

TEST_F(WireCodecTest, StateTransferRoundTrip) {
  for (auto kind : {overlay::StateKind::kRoutingRow, overlay::StateKind::kLeafSet,
                    overlay::StateKind::kNeighborhood}) {
    overlay::StateTransfer m;
    m.kind = kind;
    m.row = 31;
    m.for_join = true;
    m.last = false;
    for (uint16_t i = 0; i < 12; ++i) m.nodes.push_back(v4_handle(i, uint16_t(1000 + i)));
    for (uint16_t i = 0; i < 12; ++i) m.nodes.push_back(v6_handle(i, uint16_t(2000 + i)));
    for (uint32_t i = 0; i < 24; ++i) m.rtt_us.push_back(i * 1000);
    auto r = round_trip(m);
    ASSERT_TRUE(r.ok()) << to_string(r.error());
    const auto& got = std::get<overlay::StateTransfer>(r.value().msg);
    EXPECT_EQ(got.kind, kind);
    EXPECT_EQ(got.row, 31);
    EXPECT_TRUE(got.for_join);
    EXPECT_FALSE(got.last);
    EXPECT_EQ(got.nodes, m.nodes);
    EXPECT_EQ(got.rtt_us, m.rtt_us);
  }
}

TEST_F(WireCodecTest, StateTransferRttHintsMustMatchNodesAndStayBounded) {
  overlay::StateTransfer m;
  m.nodes = {v4_handle(1, 1000), v4_handle(2, 1001)};
  m.rtt_us = {5000};  // one hint for two nodes
  auto r = round_trip(m);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), DecodeError::kBadField);
  m.rtt_us = {5000, overlay::kMaxRttHintUs + 1};
  r = round_trip(m);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), DecodeError::kBadField);
  m.rtt_us = {};
  EXPECT_TRUE(round_trip(m).ok());
}

TEST_F(WireCodecTest, StateRequestRoundTrip) {
  auto r = round_trip(overlay::StateRequest{overlay::StateKind::kRoutingRow, 3});
  ASSERT_TRUE(r.ok());
  const auto& got = std::get<overlay::StateRequest>(r.value().msg);
  EXPECT_EQ(got.kind, overlay::StateKind::kRoutingRow);
  EXPECT_EQ(got.row, 3);
}

TEST_F(WireCodecTest, EmptyMessagesRoundTrip) {
  EXPECT_TRUE(
      std::holds_alternative<overlay::Announce>(round_trip(overlay::Announce{}).value().msg));
  EXPECT_TRUE(std::holds_alternative<overlay::Leave>(round_trip(overlay::Leave{}).value().msg));
  EXPECT_TRUE(std::holds_alternative<overlay::LeafHeartbeat>(
      round_trip(overlay::LeafHeartbeat{}).value().msg));
}

TEST_F(WireCodecTest, DirectMsgRoundTrip) {
  auto r = round_trip(overlay::DirectMsg{std::make_shared<TextMessage>(std::string(300, 'x'))});
  ASSERT_TRUE(r.ok()) << to_string(r.error());
  EXPECT_EQ(text_of(std::get<overlay::DirectMsg>(r.value().msg).app), std::string(300, 'x'));
}

TEST_F(WireCodecTest, LargestLegalMessageFitsInOneDatagram) {
  // 24 IPv6 handles with every varint at its widest: the worst case the core may send.
  overlay::StateTransfer m;
  m.kind = overlay::StateKind::kNeighborhood;
  m.row = 31;
  m.for_join = true;
  m.last = true;
  for (size_t i = 0; i < overlay::kMaxHandlesPerMessage; ++i)
    m.nodes.push_back(v6_handle(~0ULL - i, 65535));
  const std::string bytes = encode(NodeId(~overlay::u128{0}), m);
  EXPECT_LT(bytes.size(), overlay::kMaxDatagramBytes) << bytes.size();
  EXPECT_TRUE(decode(bytes, apps()).ok());

  overlay::RouteMsg join;
  join.hop_id = ~0ULL;
  join.key = NodeId(~overlay::u128{0});
  join.origin = v6_handle(~0ULL, 65535);
  join.hops = 65535;
  join.join = true;
  EXPECT_LT(encode(join.key, join).size(), 100u);
}

// ---- rejection ------------------------------------------------------------------------------

TEST_F(WireCodecTest, RejectsOversize) {
  std::string big = encode(sender_, overlay::DirectMsg{std::make_shared<TextMessage>(
                                        std::string(overlay::kMaxDatagramBytes, 'a'))});
  ASSERT_GT(big.size(), overlay::kMaxDatagramBytes);
  auto r = decode(big, apps());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), DecodeError::kOversize);
}

TEST_F(WireCodecTest, ChallengeAndProofRoundTrip) {
  auto r = round_trip(overlay::Ping{7, false, 0x1122334455667788ULL});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(std::get<overlay::Ping>(r.value().msg).challenge, 0x1122334455667788ULL);
  auto proof = std::make_shared<overlay::IdProof>();
  for (size_t i = 0; i < proof->public_key.size(); ++i) proof->public_key[i] = uint8_t(i + 1);
  for (size_t i = 0; i < proof->signature.size(); ++i) proof->signature[i] = uint8_t(200 - i);
  r = round_trip(overlay::Pong{9, proof});
  ASSERT_TRUE(r.ok());
  const auto& pong = std::get<overlay::Pong>(r.value().msg);
  ASSERT_TRUE(pong.proof);
  EXPECT_EQ(*pong.proof, *proof);
  EXPECT_FALSE(std::get<overlay::Pong>(round_trip(overlay::Pong{9, nullptr}).value().msg).proof);
}

// A proof is a 32-byte key and a 64-byte signature, both or neither.
TEST_F(WireCodecTest, RejectsMalformedProofs) {
  Envelope env;
  env.ParseFromString(encode(sender_, overlay::Pong{1, nullptr}));
  const std::pair<size_t, size_t> bad[] = {{31, 64}, {33, 64}, {32, 63}, {32, 65},
                                           {32, 0},  {0, 64},  {16, 0},  {64, 32}};
  for (const auto& [key, sig] : bad) {
    env.mutable_pong()->set_public_key(std::string(key, 'k'));
    env.mutable_pong()->set_signature(std::string(sig, 's'));
    auto r = decode(env.SerializeAsString(), apps());
    ASSERT_FALSE(r.ok()) << key << "/" << sig;
    EXPECT_EQ(r.error(), DecodeError::kBadProof);
  }
  EXPECT_EQ(to_string(DecodeError::kBadProof), "bad_proof");
}

TEST_F(WireCodecTest, RejectsWrongVersion) {
  Envelope env;
  env.ParseFromString(encode(sender_, overlay::Pong{1, nullptr}));
  for (uint32_t v : {0u, 2u, 0xffffffffu}) {
    env.set_version(v);
    auto r = decode(env.SerializeAsString(), apps());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), DecodeError::kBadVersion);
  }
}

TEST_F(WireCodecTest, RejectsBadSenderId) {
  Envelope env;
  env.ParseFromString(encode(sender_, overlay::Pong{1, nullptr}));
  for (size_t len : {0, 15, 17, 32}) {
    env.set_sender_id(std::string(len, 'a'));
    auto r = decode(env.SerializeAsString(), apps());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), DecodeError::kBadSenderId);
  }
}

TEST_F(WireCodecTest, RejectsMissingBody) {
  Envelope env;
  env.set_version(overlay::kWireVersion);
  env.set_sender_id(sender_.to_byte_string());
  auto r = decode(env.SerializeAsString(), apps());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), DecodeError::kNoBody);
}

TEST_F(WireCodecTest, RejectsBadHandles) {
  overlay::StateTransfer m;
  m.nodes.push_back(v4_handle(1, 7000));
  Envelope good;
  good.ParseFromString(encode(sender_, m));

  auto expect_error = [&](auto mutate, DecodeError want) {
    Envelope env = good;
    mutate(*env.mutable_state_transfer()->mutable_nodes(0));
    auto r = decode(env.SerializeAsString(), apps());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error(), want) << to_string(r.error());
  };
  expect_error([](::forestcast::wire::NodeHandle& h) { h.set_id("short"); },
               DecodeError::kBadNodeId);
  expect_error([](::forestcast::wire::NodeHandle& h) { h.clear_id(); }, DecodeError::kBadNodeId);
  expect_error([](::forestcast::wire::NodeHandle& h) { h.set_ip("12345"); },
               DecodeError::kBadAddress);
  expect_error([](::forestcast::wire::NodeHandle& h) { h.clear_ip(); }, DecodeError::kBadAddress);
  expect_error([](::forestcast::wire::NodeHandle& h) { h.set_port(0); }, DecodeError::kBadAddress);
  expect_error([](::forestcast::wire::NodeHandle& h) { h.set_port(65536); },
               DecodeError::kBadAddress);
}

TEST_F(WireCodecTest, RejectsBadStateFields) {
  overlay::StateTransfer m;
  Envelope good;
  good.ParseFromString(encode(sender_, m));

  Envelope env = good;
  env.mutable_state_transfer()->set_row(32);
  EXPECT_EQ(decode(env.SerializeAsString(), apps()).error(), DecodeError::kBadRow);

  env = good;
  env.mutable_state_transfer()->set_kind(static_cast<StateKind>(3));
  EXPECT_EQ(decode(env.SerializeAsString(), apps()).error(), DecodeError::kBadEnum);

  env = good;
  for (size_t i = 0; i <= overlay::kMaxHandlesPerMessage; ++i) {
    auto* h = env.mutable_state_transfer()->add_nodes();
    h->set_id(std::string(16, 'i'));
    h->set_ip(std::string(4, '\x7f'));
    h->set_port(7000);
  }
  EXPECT_EQ(decode(env.SerializeAsString(), apps()).error(), DecodeError::kTooManyHandles);

  Envelope req;
  req.ParseFromString(encode(sender_, overlay::StateRequest{}));
  req.mutable_state_request()->set_row(1000);
  EXPECT_EQ(decode(req.SerializeAsString(), apps()).error(), DecodeError::kBadRow);
  req.mutable_state_request()->set_row(0);
  req.mutable_state_request()->set_kind(static_cast<StateKind>(-1));
  EXPECT_EQ(decode(req.SerializeAsString(), apps()).error(), DecodeError::kBadEnum);
}

TEST_F(WireCodecTest, RejectsBadRouteFields) {
  overlay::RouteMsg m;
  m.key = NodeId::from_parts(1, 1);
  m.origin = v4_handle(1, 7000);
  m.app = std::make_shared<TextMessage>("x");
  Envelope good;
  good.ParseFromString(encode(sender_, m));
  ASSERT_TRUE(decode(good.SerializeAsString(), apps()).ok());

  Envelope env = good;
  env.mutable_route()->set_key("k");
  EXPECT_EQ(decode(env.SerializeAsString(), apps()).error(), DecodeError::kBadNodeId);

  env = good;
  env.mutable_route()->clear_origin();
  EXPECT_EQ(decode(env.SerializeAsString(), apps()).error(), DecodeError::kBadAddress);

  env = good;
  env.mutable_route()->set_hops(70000);
  EXPECT_EQ(decode(env.SerializeAsString(), apps()).error(), DecodeError::kBadField);

  env = good;
  env.mutable_route()->set_join(true);  // a join must not carry an app message
  EXPECT_EQ(decode(env.SerializeAsString(), apps()).error(), DecodeError::kBadField);

  env = good;
  env.mutable_route()->mutable_app()->set_app_id(8);
  EXPECT_EQ(decode(env.SerializeAsString(), apps()).error(), DecodeError::kUnknownApp);

  env = good;
  env.mutable_route()->mutable_app()->set_app_id(0x10000 + kTestApp);
  EXPECT_EQ(decode(env.SerializeAsString(), apps()).error(), DecodeError::kUnknownApp);

  env = good;
  env.mutable_route()->mutable_app()->set_body("reject");
  EXPECT_EQ(decode(env.SerializeAsString(), apps()).error(), DecodeError::kBadAppBody);

  // No application registered at all.
  EXPECT_EQ(decode(good.SerializeAsString(), AppDecoder{}).error(), DecodeError::kUnknownApp);
}

TEST_F(WireCodecTest, AppTypeTravelsAndTheApplicationJudgesIt) {
  overlay::DirectMsg d{std::make_shared<TextMessage>("typed")};
  Envelope env;
  ASSERT_TRUE(env.ParseFromString(encode(sender_, d)));
  EXPECT_EQ(env.direct().app().type(), 5u);          // TextMessage::type()
  env.mutable_direct()->mutable_app()->set_type(6);  // a type TextApp does not know
  EXPECT_EQ(decode(env.SerializeAsString(), apps()).error(), DecodeError::kBadAppBody);
  env.mutable_direct()->mutable_app()->set_type(0x10005);  // past uint16: not truncated to 5
  EXPECT_EQ(decode(env.SerializeAsString(), apps()).error(), DecodeError::kBadAppBody);
}

TEST_F(WireCodecTest, RejectsDirectWithoutApp) {
  auto r = decode(encode(sender_, overlay::DirectMsg{}), apps());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), DecodeError::kBadField);
}

std::vector<std::string> sample_datagrams(const NodeId& sender) {
  overlay::RouteMsg route;
  route.hop_id = 99;
  route.key = NodeId::from_parts(5, 5);
  route.origin = v6_handle(5, 5);
  route.app = std::make_shared<TextMessage>("payload");
  overlay::StateTransfer st;
  for (uint16_t i = 1; i < 6; ++i) st.nodes.push_back(v4_handle(i, i));
  return {encode(sender, overlay::Ping{1, false, 0}),
          encode(sender, route),
          encode(sender, st),
          encode(sender, overlay::StateRequest{overlay::StateKind::kRoutingRow, 2}),
          encode(sender, overlay::Leave{}),
          encode(sender, overlay::DirectMsg{std::make_shared<TextMessage>("d")})};
}

TEST_F(WireCodecTest, RejectsEveryTruncation) {
  for (const std::string& full : sample_datagrams(sender_)) {
    ASSERT_TRUE(decode(full, apps()).ok());
    for (size_t len = 0; len < full.size(); ++len)
      EXPECT_FALSE(decode(std::string_view(full).substr(0, len), apps()).ok())
          << "prefix " << len << " of " << full.size();
  }
}

TEST_F(WireCodecTest, SurvivesRandomBytes) {
  Rng rng(20240601);
  size_t accepted = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string buf(rng.below(1500), '\0');
    for (char& c : buf) c = static_cast<char>(rng.below(256));
    if (decode(buf, apps()).ok()) ++accepted;
  }
  // Random bytes practically never form a valid envelope with a 16-byte id and a body.
  EXPECT_LT(accepted, 5u);
}

TEST_F(WireCodecTest, SurvivesMutatedValidDatagrams) {
  // Bit flips inside valid datagrams reach the deeper field checks, not only the parser.
  Rng rng(7);
  const auto samples = sample_datagrams(sender_);
  for (int i = 0; i < 20000; ++i) {
    std::string buf = samples[rng.below(samples.size())];
    const int flips = 1 + static_cast<int>(rng.below(4));
    for (int f = 0; f < flips; ++f)
      buf[rng.below(buf.size())] ^= static_cast<char>(1u << rng.below(8));
    auto r = decode(buf, apps());
    if (!r.ok()) {
      EXPECT_FALSE(to_string(r.error()).empty());
    }
  }
}

}  // namespace
}  // namespace forestcast::wire
