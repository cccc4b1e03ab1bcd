// RTSP requests as the viewer's server reads them: whole requests, pieces, pipelined requests,
// bodies, and everything malformed a client or an attacker can send.
#include "media/rtsp_message.hpp"

#include <gtest/gtest.h>

namespace forestcast::media {
namespace {

TEST(RtspMessage, ParsesARequestAndItsHeaders) {
  const std::string req =
      "SETUP rtsp://127.0.0.1:8554/tv/trackID=0 RTSP/1.0\r\nCSeq: 3\r\n"
      "Transport:  RTP/AVP/UDP;unicast;client_port=5000-5001 \r\nUser-Agent: x\r\n\r\n";
  const auto r = parse_rtsp_request(req);
  ASSERT_EQ(r.status, RtspParseStatus::kOk) << r.error;
  EXPECT_EQ(r.consumed, req.size());
  EXPECT_EQ(r.request.method, "SETUP");
  EXPECT_EQ(r.request.uri, "rtsp://127.0.0.1:8554/tv/trackID=0");
  EXPECT_EQ(r.request.cseq, 3u);
  EXPECT_EQ(r.request.header("transport"), "RTP/AVP/UDP;unicast;client_port=5000-5001");
  EXPECT_FALSE(r.request.header("session"));
}

TEST(RtspMessage, EveryPrefixNeedsMoreAndPipelinedRequestsComeOneAtATime) {
  const std::string one = "OPTIONS * RTSP/1.0\nCSeq: 1\n\n";
  const std::string two = "DESCRIBE rtsp://h/tv RTSP/1.0\r\nCSeq: 2\r\nContent-Length: 4\r\n\r\nabcd";
  for (size_t n = 0; n < two.size(); ++n)
    EXPECT_EQ(parse_rtsp_request(two.substr(0, n)).status, RtspParseStatus::kNeedMore) << n;
  const std::string both = "\r\n" + one + two;  // a keep-alive CRLF first
  auto r = parse_rtsp_request(both);
  ASSERT_EQ(r.status, RtspParseStatus::kOk);
  EXPECT_EQ(r.request.method, "OPTIONS");
  EXPECT_EQ(r.consumed, 2 + one.size());
  r = parse_rtsp_request(std::string_view(both).substr(r.consumed));
  ASSERT_EQ(r.status, RtspParseStatus::kOk);
  EXPECT_EQ(r.request.cseq, 2u);
  EXPECT_EQ(r.consumed, two.size());  // the body is consumed with its request
}

TEST(RtspMessage, MalformedRequestsAreOneClearError) {
  for (const std::string bad : {
           "HELLO\r\n\r\n",                                    // no URI, no version
           "OPTIONS * HTTP/1.1\r\nCSeq: 1\r\n\r\n",            // wrong protocol
           "options * RTSP/1.0\r\nCSeq: 1\r\n\r\n",            // method must be a token
           "OPTIONS * RTSP/1.0\r\nCSeq: x\r\n\r\n",            // CSeq not a number
           "OPTIONS * RTSP/1.0\r\nCSeq: 99999999999\r\n\r\n",  // past 32 bits
           "OPTIONS * RTSP/1.0\r\nno colon\r\n\r\n",
           "OPTIONS * RTSP/1.0\r\n: empty name\r\n\r\n",
           "OPTIONS * RTSP/1.0\r\nContent-Length: -1\r\n\r\n",
           "OPTIONS * RTSP/1.0\r\nContent-Length: 999999\r\n\r\n",
       }) {
    const auto r = parse_rtsp_request(bad);
    EXPECT_EQ(r.status, RtspParseStatus::kBad) << bad;
    EXPECT_FALSE(r.error.empty());
    EXPECT_EQ(r.error.find('\n'), std::string::npos);
  }
  // A header block that never ends is refused once it passes the bound, not buffered forever.
  const std::string endless = "OPTIONS * RTSP/1.0\r\nX: " + std::string(kMaxRtspHeaderBytes, 'y');
  EXPECT_EQ(parse_rtsp_request(endless).status, RtspParseStatus::kBad);
}

TEST(RtspMessage, TargetsNameAStreamAndATrack) {
  auto t = parse_rtsp_target("rtsp://127.0.0.1:8554/tv");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->stream, "tv");
  EXPECT_FALSE(t->track);
  t = parse_rtsp_target("rtsp://h/tv/trackID=1/");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->track, 1u);
  EXPECT_EQ(parse_rtsp_target("/tv?x=1")->stream, "tv");
  for (const char* bad : {"rtsp://h", "rtsp://h/", "*", "tv", "rtsp://h/tv/track=1",
                          "rtsp://h/tv/trackID=x"})
    EXPECT_FALSE(parse_rtsp_target(bad)) << bad;
}

TEST(RtspMessage, TransportTakesTheFirstUsableOption) {
  auto t = parse_rtsp_transport("RTP/AVP;unicast;client_port=5000-5001");
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->tcp);
  EXPECT_EQ(t->client_rtp, 5000);
  EXPECT_EQ(t->client_rtcp, 5001);
  t = parse_rtsp_transport("RTP/AVP/TCP;unicast;interleaved=2-3");
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->tcp);
  EXPECT_EQ(t->channel_rtp, 2);
  EXPECT_EQ(t->channel_rtcp, 3);
  t = parse_rtsp_transport("RTP/SAVP;unicast;client_port=1-2, RTP/AVP/TCP");
  ASSERT_TRUE(t);  // the second option, with default channels
  EXPECT_TRUE(t->tcp);
  EXPECT_EQ(t->channel_rtp, 0);
  for (const char* bad : {"", "RTP/AVP;unicast", "RTP/AVP;multicast;client_port=1-2",
                          "RTP/AVP;client_port=0-1", "RTP/AVP;client_port=70000-70001",
                          "RTP/AVP/TCP;interleaved=300-301", "RAW/RAW/UDP;client_port=1-2"})
    EXPECT_FALSE(parse_rtsp_transport(bad)) << bad;
}

TEST(RtspMessage, ResponsesEchoCSeqAndSizeTheBody) {
  const std::string r = rtsp_response(200, 7, {{"Public", "OPTIONS"}}, "v=0\r\n");
  EXPECT_EQ(r.rfind("RTSP/1.0 200 OK\r\nCSeq: 7\r\n", 0), 0u);
  EXPECT_NE(r.find("Public: OPTIONS\r\n"), std::string::npos);
  EXPECT_NE(r.find("Content-Length: 5\r\n\r\nv=0\r\n"), std::string::npos);
  EXPECT_EQ(rtsp_response(454, std::nullopt).rfind("RTSP/1.0 454 Session Not Found\r\n", 0), 0u);
}

}  // namespace
}  // namespace forestcast::media
