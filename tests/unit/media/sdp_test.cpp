#include "media/sdp.hpp"

#include <gtest/gtest.h>

namespace forestcast::media {
namespace {

// What `ffmpeg ... -f rtp -sdp_file in.sdp` writes for H.264.
constexpr const char* kFfmpegSdp =
    "v=0\n"
    "o=- 0 0 IN IP4 127.0.0.1\n"
    "s=No Name\n"
    "c=IN IP4 127.0.0.1\n"
    "t=0 0\n"
    "a=tool:libavformat 59.27.100\n"
    "m=video 5004 RTP/AVP 96\n"
    "b=AS:1500\n"
    "a=rtpmap:96 H264/90000\n"
    "a=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z2QAHqzZQKAv+XARAAADAAEAAAMAPA8WLZY=,"
    "aOvjyyLA; profile-level-id=64001E\n";

TEST(Sdp, ParsesFfmpegsH264Description) {
  const auto r = parse_sdp(kFfmpegSdp);
  ASSERT_TRUE(r.sdp) << r.error;
  ASSERT_EQ(r.sdp->media.size(), 1u);
  const auto& m = r.sdp->media[0];
  EXPECT_EQ(m.type, "video");
  EXPECT_EQ(m.port, 5004);
  EXPECT_EQ(m.payload_types, std::vector<uint8_t>{96});
  ASSERT_EQ(m.attributes.size(), 2u);
  EXPECT_EQ(m.attributes[0], "rtpmap:96 H264/90000");
}

TEST(Sdp, ViewerSdpKeepsPayloadTypesAndFormatLinesAndPointsAtRtpOut) {
  const auto r = parse_sdp(kFfmpegSdp);
  ASSERT_TRUE(r.sdp);
  const std::string out = write_viewer_sdp(*r.sdp, "127.0.0.1", 6000);
  EXPECT_NE(out.find("c=IN IP4 127.0.0.1\r\n"), std::string::npos);
  EXPECT_NE(out.find("m=video 6000 RTP/AVP 96\r\n"), std::string::npos);
  EXPECT_NE(out.find("a=rtpmap:96 H264/90000\r\n"), std::string::npos);
  EXPECT_NE(out.find("a=fmtp:96 packetization-mode=1; sprop-parameter-sets="), std::string::npos);
  const auto again = parse_sdp(out);  // what we write, we can read
  ASSERT_TRUE(again.sdp) << again.error;
  EXPECT_EQ(again.sdp->media[0].attributes, r.sdp->media[0].attributes);
  EXPECT_NE(write_viewer_sdp(*r.sdp, "::1", 6000).find("c=IN IP6 ::1"), std::string::npos);
}

TEST(Sdp, MpegTsNeedsNoSourceDescription) {
  const std::string out = write_viewer_sdp(mpegts_sdp(), "127.0.0.1", 7000);
  EXPECT_NE(out.find("m=video 7000 RTP/AVP 33\r\n"), std::string::npos);
  EXPECT_NE(out.find("a=rtpmap:33 MP2T/90000\r\n"), std::string::npos);
  EXPECT_TRUE(parse_sdp(out).sdp);
}

TEST(Sdp, BrokenFilesAreRefusedWithOneClearLine) {
  const std::string good = kFfmpegSdp;
  struct Case {
    std::string text;
    const char* says;
  };
  const Case cases[] = {
      {"", "empty"},
      {"hello world\n", "line 1"},
      {"o=- 0 0 IN IP4 1.2.3.4\nv=0\n", "v=0"},
      {"v=1\n", "v=0"},
      {"v=0\ns=x\nc=IN IP4 1.2.3.4\nm=video 5004 RTP/AVP 96\na=rtpmap:96 H264/90000\n", "o="},
      {"v=0\no=- 0 0 IN IP4 a\ns=x\nc=IN IP4 a\n", "m="},
      {"v=0\no=- 0 0 IN IP4 a\ns=x\nc=IN IP4 a\nm=video 99999 RTP/AVP 96\n", "port"},
      {"v=0\no=- 0 0 IN IP4 a\ns=x\nc=IN IP4 a\nm=video 5004 udp 96\n", "not RTP"},
      {"v=0\no=- 0 0 IN IP4 a\ns=x\nc=IN IP4 a\nm=video 5004 RTP/AVP 200\n", "0..127"},
      {"v=0\no=- 0 0 IN IP4 a\ns=x\nc=IN IP4 a\nm=video 5004 RTP/AVP 96\n", "rtpmap"},
      {"v=0\no=- 0 0 IN IP4 a\ns=x\nm=video 5004 RTP/AVP 33\n", "c="},
      {"v=0\no=- 0 0 IN IP4 a\ns=x\nc=IN IP4 a\nm=video 5004 RTP/AVP 96\na=rtpmap:97 X/1\n",
       "not on the m= line"},
      {"v=0\no=- 0 0 IN IP4 a\ns=x\nc=IN IP9 a\n", "c="},
      {std::string(kMaxSdpBytes + 1, 'a'), "64 KiB"},
  };
  for (const auto& c : cases) {
    const auto r = parse_sdp(c.text);
    EXPECT_FALSE(r.sdp) << c.text;
    EXPECT_NE(r.error.find(c.says), std::string::npos) << r.error << " <- " << c.text;
    EXPECT_EQ(r.error.find('\n'), std::string::npos);
  }
  EXPECT_TRUE(parse_sdp(good).sdp);
}

}  // namespace
}  // namespace forestcast::media
