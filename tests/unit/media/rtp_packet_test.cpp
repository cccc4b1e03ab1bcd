#include "media/rtp_packet.hpp"

#include <gtest/gtest.h>

#include "rtp_test_packets.hpp"

namespace forestcast::media {
namespace {

using test::make_rtp;

TEST(RtpPacket, ParsesFixedHeaderFields) {
  auto p = make_rtp(0xabcd, 0x01020304, 0xdeadbeef, 100, 96);
  p[1] |= 0x80;  // marker
  const auto r = parse_rtp(p);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.packet.sequence, 0xabcd);
  EXPECT_EQ(r.packet.timestamp, 0x01020304u);
  EXPECT_EQ(r.packet.ssrc, 0xdeadbeefu);
  EXPECT_EQ(r.packet.payload_type, 96);
  EXPECT_TRUE(r.packet.marker);
  EXPECT_EQ(r.packet.header_bytes, 12u);
  EXPECT_EQ(r.packet.payload().size(), 100u);
}

TEST(RtpPacket, CsrcsExtensionAndPaddingAreSkipped) {
  auto p = make_rtp(1, 2, 3, 0, 33);
  p[0] = 0x80 | 0x20 | 0x10 | 2;                              // padding, extension, 2 CSRCs
  for (int i = 0; i < 8; ++i) p.push_back(0xcc);              // CSRCs
  for (uint8_t b : {0xbe, 0xde, 0x00, 0x01}) p.push_back(b);  // extension header, 1 word
  for (int i = 0; i < 4; ++i) p.push_back(0xee);              // extension word
  for (int i = 0; i < 5; ++i) p.push_back(0x11);              // payload
  for (uint8_t b : {0x00, 0x00, 0x03}) p.push_back(b);        // 3 bytes of padding
  const auto r = parse_rtp(p);
  ASSERT_TRUE(r.ok) << to_string(r.error);
  EXPECT_EQ(r.packet.csrc_count, 2);
  EXPECT_TRUE(r.packet.has_extension);
  EXPECT_EQ(r.packet.header_bytes, 12u + 8 + 4 + 4);
  EXPECT_EQ(r.packet.padding_bytes, 3u);
  ASSERT_EQ(r.packet.payload().size(), 5u);
  EXPECT_EQ(r.packet.payload()[0], 0x11);
}

TEST(RtpPacket, EmptyDatagramIsNotRtp) {
  EXPECT_EQ(parse_rtp({}).error, RtpError::kNotRtp);
  EXPECT_FALSE(parse_rtp({}).ok);
}

TEST(RtpPacket, RtcpOnTheRtpPortIsNotRtp) {
  auto p = make_rtp(1, 2, 3, 20);
  p[1] = 200;  // sender report
  const auto r = parse_rtp(p);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, RtpError::kNotRtp);
}

TEST(RtpPacket, TextIsRefusedByVersion) {
  const std::string text = "GET / HTTP/1.1\r\n\r\n";
  const auto r = parse_rtp({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, RtpError::kBadVersion);
}

TEST(RtpPacket, VersionOtherThanTwoIsRefused) {
  for (uint8_t v : {0, 1, 3}) {
    auto p = make_rtp(1, 2, 3, 20);
    p[0] = static_cast<uint8_t>(v << 6);
    EXPECT_EQ(parse_rtp(p).error, RtpError::kBadVersion) << int(v);
  }
}

TEST(RtpPacket, TruncatedHeaderIsRefusedAtEveryLength) {
  const auto full = make_rtp(1, 2, 3, 0);
  for (size_t len = 1; len < 12; ++len) {
    const auto r = parse_rtp({full.data(), len});
    EXPECT_FALSE(r.ok);
    EXPECT_EQ(r.error, RtpError::kTruncatedHeader) << len;
  }
}

TEST(RtpPacket, CsrcCountPastThePacketIsRefused) {
  auto p = make_rtp(1, 2, 3, 8);  // room for 2 CSRCs, not 3
  p[0] = 0x80 | 3;
  EXPECT_EQ(parse_rtp(p).error, RtpError::kCsrcPastEnd);
  p[0] = 0x80 | 2;
  EXPECT_TRUE(parse_rtp(p).ok);
}

TEST(RtpPacket, ExtensionPastThePacketIsRefused) {
  auto p = make_rtp(1, 2, 3, 0);
  p[0] = 0x90;
  EXPECT_EQ(parse_rtp(p).error, RtpError::kExtensionPastEnd);  // no room for its header
  for (uint8_t b : {0xbe, 0xde, 0x00, 0x02}) p.push_back(b);   // says 2 words
  for (int i = 0; i < 4; ++i) p.push_back(0);                  // only 1 present
  EXPECT_EQ(parse_rtp(p).error, RtpError::kExtensionPastEnd);
  for (int i = 0; i < 4; ++i) p.push_back(0);
  EXPECT_TRUE(parse_rtp(p).ok);
}

TEST(RtpPacket, PaddingLongerThanThePayloadIsRefused) {
  auto p = make_rtp(1, 2, 3, 4);
  p[0] = 0xa0;
  p.back() = 5;  // 4 payload bytes cannot hold 5 of padding
  EXPECT_EQ(parse_rtp(p).error, RtpError::kPaddingPastPayload);
  p.back() = 0;  // a zero count is invalid too
  EXPECT_EQ(parse_rtp(p).error, RtpError::kPaddingPastPayload);
  p.back() = 4;
  ASSERT_TRUE(parse_rtp(p).ok);
  EXPECT_TRUE(parse_rtp(p).packet.payload().empty());
}

TEST(RtpPacket, DropCountersCountByReason) {
  RtpDropCounters c;
  c.count(RtpError::kBadVersion);
  c.count(RtpError::kBadVersion);
  c.count(RtpError::kCsrcPastEnd);
  EXPECT_EQ(c[RtpError::kBadVersion], 2u);
  EXPECT_EQ(c[RtpError::kCsrcPastEnd], 1u);
  EXPECT_EQ(c.total(), 3u);
}

}  // namespace
}  // namespace forestcast::media
