// DataMsg::encode writes pb::Data with protobuf's wire primitives, not through a pb::Data (no
// payload copy, issue 12's forwarding cost): the oracle is protobuf's own serialisation.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "multicast.pb.h"
#include "multicast/messages.hpp"

namespace forestcast::multicast {
namespace {

std::string protobuf_bytes(const DataBody& b) {
  wire::multicast::Data m;
  m.set_topic(b.topic.to_byte_string());
  m.set_seq(b.seq);
  m.set_stripe(b.stripe);
  m.set_sent_at_us(b.sent_at_us);
  m.set_payload(b.payload ? *b.payload : std::string(b.payload_size, '\0'));
  if (b.has_dead_root) m.set_dead_root(b.dead_root.to_byte_string());
  m.set_replayed(b.replayed);
  return m.SerializeAsString();
}

std::vector<DataBody> bodies() {
  std::vector<DataBody> out;
  DataBody live;
  live.topic = NodeId::from_parts(0x0123456789abcdefULL, 0xfedcba9876543210ULL);
  live.seq = 123456789012ULL;
  live.stripe = 15;
  live.sent_at_us = 1'700'000'000'000'000;
  live.payload = std::make_shared<const std::string>(std::string(1200, 'x') + '\0' + "tail");
  live.payload_size = static_cast<uint32_t>(live.payload->size());
  out.push_back(live);
  DataBody zeros;  // every field at its default but the topic: protobuf leaves them out
  zeros.topic = NodeId::from_parts(1, 2);
  out.push_back(zeros);
  DataBody synthetic = live;  // the simulator's stream: a size, no bytes
  synthetic.payload = nullptr;
  synthetic.payload_size = 300;
  synthetic.stripe = 200;  // two-byte varint (refused on decode, but encoded as protobuf does)
  out.push_back(synthetic);
  DataBody extras = live;
  extras.sent_at_us = -5;
  extras.has_dead_root = true;
  extras.dead_root = NodeId::from_parts(7, 8);
  extras.replayed = true;
  extras.payload = std::make_shared<const std::string>("");
  extras.payload_size = 0;
  out.push_back(extras);
  return out;
}

TEST(DataEncodingTest, DirectEncodingIsProtobufsByteForByte) {
  for (const DataBody& b : bodies()) {
    std::string out = "prefix";  // encode appends
    DataMsg(b).encode(out);
    EXPECT_EQ(out, "prefix" + protobuf_bytes(b)) << "seq " << b.seq << " stripe " << b.stripe;
  }
}

TEST(DataEncodingTest, DecodeGivesBackEveryField) {
  for (const DataBody& b : bodies()) {
    std::string bytes;
    DataMsg(b).encode(bytes);
    DecodeError err = DecodeError::kNone;
    auto msg = decode_message(static_cast<uint16_t>(MsgType::kData), bytes, err);
    if (b.stripe >= kMaxStripes) {  // beyond the stripe bound: refused, not crashed
      EXPECT_EQ(msg, nullptr);
      EXPECT_EQ(err, DecodeError::kBadStripe);
      continue;
    }
    ASSERT_NE(msg, nullptr) << to_string(err);
    const auto& d = static_cast<const DataMsg&>(*msg).body;
    EXPECT_EQ(d.topic, b.topic);
    EXPECT_EQ(d.seq, b.seq);
    EXPECT_EQ(d.stripe, b.stripe);
    EXPECT_EQ(d.sent_at_us, b.sent_at_us);
    const std::string want = b.payload ? *b.payload : std::string(b.payload_size, '\0');
    ASSERT_NE(d.payload, nullptr);
    EXPECT_EQ(*d.payload, want);
    EXPECT_EQ(d.payload_size, want.size());
    EXPECT_EQ(d.has_dead_root, b.has_dead_root);
    if (b.has_dead_root) {
      EXPECT_EQ(d.dead_root, b.dead_root);
    }
    EXPECT_EQ(d.replayed, b.replayed);
  }
}

}  // namespace
}  // namespace forestcast::multicast
