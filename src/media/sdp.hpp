#pragma once
// Session descriptions (RFC 4566) for the publisher's `--sdp FILE` and the viewer's
// `--sdp-out FILE`. Parsing validates the structure a player needs (version, origin, session
// name, connection, at least one RTP media section with its payload types and rtpmaps) and
// reports the first problem as one line. Writing keeps each media section's payload types and
// attribute lines and points the connection and ports at the viewer's --rtp-out address.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace forestcast::media {

struct SdpMedia {
  std::string type;   // video, audio, ...
  uint16_t port = 0;  // as announced by the source
  std::string proto;  // RTP/AVP, RTP/AVPF, ...
  std::vector<uint8_t> payload_types;
  std::vector<std::string> attributes;  // "rtpmap:96 H264/90000", "fmtp:96 ...", in order
  std::vector<std::string> bandwidth;   // "AS:1500"
};

struct Sdp {
  std::string session_name;
  std::vector<SdpMedia> media;
};

struct SdpParseResult {
  std::optional<Sdp> sdp;
  std::string error;  // one line, set when sdp is empty
};

inline constexpr size_t kMaxSdpBytes = 64 * 1024;

SdpParseResult parse_sdp(std::string_view text);

// The viewer's description: the source's media sections, media i on port + 2 i (RTP's even
// port, RTCP's odd one left free), connection at `host`. IPv6 when `host` contains ':'.
std::string write_viewer_sdp(const Sdp& source, std::string_view host, uint16_t port);

// MPEG-TS over RTP (RFC 2250, static payload type 33) needs no source SDP.
Sdp mpegts_sdp(std::string_view session_name = "forestcast");

}  // namespace forestcast::media
