#pragma once
// RTSP/1.0 (RFC 2326) requests as the viewer's `--rtsp` server reads them, sans-IO: bytes in,
// one parsed request (or "need more", or one clear error) out. Nothing is trusted: the header
// block and any body are bounded, and the server answers a bad request with 400 and closes.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace forestcast::media {

inline constexpr size_t kMaxRtspHeaderBytes = 8 * 1024;
inline constexpr size_t kMaxRtspBodyBytes = 16 * 1024;

struct RtspRequest {
  std::string method;
  std::string uri;
  std::optional<uint32_t> cseq;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased, values trimmed

  std::optional<std::string> header(std::string_view lowercase_name) const;
};

enum class RtspParseStatus : uint8_t { kNeedMore, kOk, kBad };

struct RtspParseResult {
  RtspParseStatus status = RtspParseStatus::kNeedMore;
  RtspRequest request;
  size_t consumed = 0;  // bytes of `buffer` the request (and its body) took
  std::string error;    // one line when kBad
};

// Parses the request at the start of `buffer` (CRLF or bare LF line ends).
RtspParseResult parse_rtsp_request(std::string_view buffer);

// "rtsp://host[:port]/NAME[/trackID=N]" (or a bare "/NAME..."): the stream name and track.
struct RtspTarget {
  std::string stream;
  std::optional<unsigned> track;
};
std::optional<RtspTarget> parse_rtsp_target(std::string_view uri);

// The first transport in a SETUP's Transport header this server can do: unicast RTP/AVP over
// UDP with client_port=A-B, or RTP/AVP/TCP interleaved (channels default to 0-1).
struct RtspTransport {
  bool tcp = false;
  uint16_t client_rtp = 0, client_rtcp = 0;
  uint8_t channel_rtp = 0, channel_rtcp = 1;
};
std::optional<RtspTransport> parse_rtsp_transport(std::string_view header);

// "RTSP/1.0 <code> <reason>" with CSeq (when known), the extra header lines and a body.
std::string rtsp_response(int code, std::optional<uint32_t> cseq,
                          const std::vector<std::pair<std::string, std::string>>& headers = {},
                          std::string_view body = {});

}  // namespace forestcast::media
