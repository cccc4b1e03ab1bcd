// Name records: what the signature covers, how ids derive, which names and queries are valid,
// and that the wire form refuses impossible shapes.
#include "directory/name_record.hpp"

#include <gtest/gtest.h>

#include "directory.pb.h"
#include "directory/directory_messages.hpp"
#include "node/node_key.hpp"

namespace forestcast::directory {
namespace {

// What ffmpeg's RTP muxer writes for H.264 (trimmed to one media section).
constexpr const char* kSdp =
    "v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=No Name\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
    "m=video 5004 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\n"
    "a=fmtp:96 packetization-mode=1\r\n";

NameRecord signed_record(const node::NodeKey& key, std::string name = "news") {
  NameRecord r;
  r.name = std::move(name);
  r.publisher_key = key.public_key();
  r.stripes = 16;
  r.fec_data = 14;
  r.fec_parity = 2;
  r.bitrate_kbps = 1500;
  r.sdp = kSdp;
  r.clock_domain = 0x1234;
  r.ttl_ms = 60'000;
  r.version = 7;
  r.signature = key.sign(r.signed_bytes());
  return r;
}

TEST(NameRecord, SignedRecordChecksAndEveryFieldIsCovered) {
  const auto key = node::NodeKey::generate();
  const NameRecord good = signed_record(key);
  EXPECT_FALSE(check(good));
  // Change any one field after signing: the signature no longer holds.
  std::vector<std::function<void(NameRecord&)>> tamper = {
      [](NameRecord& r) { r.name = "newz"; },
      [](NameRecord& r) { r.publisher_key[0] ^= 1; },
      [](NameRecord& r) { r.fec_data = 12, r.fec_parity = 4; },
      [](NameRecord& r) { r.bitrate_kbps += 1; },
      [](NameRecord& r) { r.sdp += "a=recvonly\r\n"; },
      [](NameRecord& r) { r.clock_domain += 1; },
      [](NameRecord& r) { r.ttl_ms += 1; },
      [](NameRecord& r) { r.version += 1; },
      [](NameRecord& r) { r.signature[10] ^= 0x80; },
  };
  for (size_t i = 0; i < tamper.size(); ++i) {
    NameRecord r = good;
    tamper[i](r);
    EXPECT_EQ(check(r), RecordError::kBadSignature) << "tamper " << i;
  }
}

TEST(NameRecord, FieldChecksComeBeforeTheSignature) {
  const auto key = node::NodeKey::generate();
  auto resigned = [&](auto change) {
    NameRecord r = signed_record(key);
    change(r);
    r.signature = key.sign(r.signed_bytes());
    return check(r);
  };
  EXPECT_EQ(resigned([](NameRecord& r) { r.name = ""; }), RecordError::kBadName);
  EXPECT_EQ(resigned([](NameRecord& r) { r.name = "a@b"; }), RecordError::kBadName);
  EXPECT_EQ(resigned([](NameRecord& r) { r.name = std::string(65, 'x'); }), RecordError::kBadName);
  EXPECT_EQ(resigned([](NameRecord& r) { r.stripes = 17; }), RecordError::kBadStripes);
  EXPECT_EQ(resigned([](NameRecord& r) { r.fec_parity = 3; }), RecordError::kBadFec);
  EXPECT_EQ(resigned([](NameRecord& r) { r.fec_data = 0; }), RecordError::kBadFec);
  EXPECT_EQ(resigned([](NameRecord& r) { r.sdp.assign(kMaxSdpBytes + 1, 'v'); }),
            RecordError::kSdpTooLong);
  EXPECT_EQ(resigned([](NameRecord& r) { r.ttl_ms = 10; }), RecordError::kBadTtl);
  // A media stream (an SDP) must parse and name its FEC; a synthetic one has neither.
  EXPECT_EQ(resigned([](NameRecord& r) { r.sdp = "v=0\r\nm=video 0 RTP/AVP 96\r\n"; }),
            RecordError::kBadSdp);
  EXPECT_EQ(resigned([](NameRecord& r) { r.sdp = "not an sdp"; }), RecordError::kBadSdp);
  EXPECT_EQ(resigned([](NameRecord& r) { r.fec_data = 0, r.fec_parity = 0; }),
            RecordError::kBadSdp);
  EXPECT_FALSE(resigned([](NameRecord& r) { r.fec_data = 0, r.fec_parity = 0, r.sdp.clear(); }));
  // FEC off: k = stripes, m = 0.
  EXPECT_FALSE(resigned([](NameRecord& r) { r.fec_data = 16, r.fec_parity = 0; }));
}

TEST(NameRecord, GroupIdBindsNameAndKey) {
  const auto a = node::NodeKey::generate(), b = node::NodeKey::generate();
  const NameRecord ra = signed_record(a), rb = signed_record(b);
  EXPECT_EQ(ra.key(), rb.key());  // stored at the same place
  EXPECT_NE(ra.group_id(), rb.group_id());
  std::string data = "news";
  data.append(reinterpret_cast<const char*>(a.public_key().data()), 32);
  EXPECT_EQ(ra.group_id(), overlay::NodeId::sha1_of(data));
  EXPECT_EQ(ra.key(), overlay::NodeId::sha1_of(std::string_view("news")));
}

TEST(StreamQuery, ParsesNameAndPinnedPublisher) {
  const auto key = node::NodeKey::generate();
  auto q = StreamQuery::parse("news");
  ASSERT_TRUE(q);
  EXPECT_FALSE(q->publisher);
  q = StreamQuery::parse("news@" + hex_of(key.public_key()));
  ASSERT_TRUE(q);
  ASSERT_TRUE(q->publisher);
  EXPECT_EQ(*q->publisher, key.public_key());
  EXPECT_TRUE(q->matches(signed_record(key)));
  EXPECT_FALSE(q->matches(signed_record(node::NodeKey::generate())));
  EXPECT_EQ(q->to_string(), "news@" + hex_of(key.public_key()));
  for (const char* bad : {"", "@abcd", "news@", "news@zz", "a b", "news@0123"})
    EXPECT_FALSE(StreamQuery::parse(bad)) << bad;
}

TEST(DirectoryMessages, RoundTripAndRefuseImpossibleShapes) {
  const auto key = node::NodeKey::generate();
  const NameRecord r = signed_record(key);
  std::string body;
  StoreMessage(r, true).encode(body);
  auto decoded =
      decode_directory_message(static_cast<uint16_t>(DirectoryMsgType::kStoreReplica), body);
  ASSERT_TRUE(decoded);
  const auto& store = static_cast<const StoreMessage&>(*decoded);
  EXPECT_EQ(store.type(), static_cast<uint16_t>(DirectoryMsgType::kStoreReplica));
  EXPECT_EQ(store.record().signed_bytes(), r.signed_bytes());
  EXPECT_EQ(store.record().signature, r.signature);
  EXPECT_EQ(store.record().sdp, r.sdp);
  EXPECT_EQ(store.record().clock_domain, r.clock_domain);
  EXPECT_FALSE(check(store.record()));

  wire::directory::Store pb;
  ASSERT_TRUE(pb.ParseFromString(body));
  pb.mutable_record()->set_publisher_key("short");
  EXPECT_FALSE(decode_directory_message(1, pb.SerializeAsString()));
  pb.mutable_record()->set_publisher_key(std::string(32, 'k'));
  pb.mutable_record()->set_signature(std::string(63, 's'));
  EXPECT_FALSE(decode_directory_message(1, pb.SerializeAsString()));
  EXPECT_FALSE(decode_directory_message(1, "\xff\xff garbage"));
  EXPECT_FALSE(decode_directory_message(99, body));
  EXPECT_FALSE(decode_directory_message(3, ""));  // a lookup needs a name

  // A record with the largest SDP still fits in one datagram with room for the envelope.
  NameRecord big = r;
  big.name.assign(kMaxNameBytes, 'n');
  big.sdp.assign(kMaxSdpBytes, 'v');
  std::string big_body;
  LookupReplyMessage(~0ULL, big, 1).encode(big_body);
  EXPECT_LT(big_body.size(), 1400u - 120u);
}

}  // namespace
}  // namespace forestcast::directory
