#include "media/rtp_packet.hpp"

namespace forestcast::media {

std::string_view to_string(RtpError e) {
  switch (e) {
    case RtpError::kNotRtp:
      return "not_rtp";
    case RtpError::kBadVersion:
      return "bad_version";
    case RtpError::kTruncatedHeader:
      return "truncated_header";
    case RtpError::kCsrcPastEnd:
      return "csrc_past_end";
    case RtpError::kExtensionPastEnd:
      return "extension_past_end";
    case RtpError::kPaddingPastPayload:
      return "padding_past_payload";
  }
  return "unknown";
}

namespace {
RtpParseResult refuse(RtpError e) { return RtpParseResult{{}, false, e}; }
}  // namespace

RtpParseResult parse_rtp(std::span<const uint8_t> d) {
  constexpr size_t kFixedHeader = 12;
  if (d.empty()) return refuse(RtpError::kNotRtp);
  if ((d[0] >> 6) != 2) return refuse(RtpError::kBadVersion);
  if (d.size() < kFixedHeader) return refuse(RtpError::kTruncatedHeader);
  // RTCP sharing the port: its packet types 200-204 read as marker + PT 72-76 (RFC 5761 §4).
  const uint8_t pt = d[1] & 0x7f;
  if (pt >= 72 && pt <= 76) return refuse(RtpError::kNotRtp);

  RtpPacketView p;
  p.bytes = d;
  p.payload_type = pt;
  p.marker = (d[1] & 0x80) != 0;
  p.sequence = static_cast<uint16_t>((d[2] << 8) | d[3]);
  p.timestamp = (uint32_t{d[4]} << 24) | (uint32_t{d[5]} << 16) | (uint32_t{d[6]} << 8) | d[7];
  p.ssrc = (uint32_t{d[8]} << 24) | (uint32_t{d[9]} << 16) | (uint32_t{d[10]} << 8) | d[11];
  p.csrc_count = d[0] & 0x0f;
  p.has_extension = (d[0] & 0x10) != 0;
  const bool has_padding = (d[0] & 0x20) != 0;

  size_t pos = kFixedHeader + 4 * size_t{p.csrc_count};
  if (pos > d.size()) return refuse(RtpError::kCsrcPastEnd);
  if (p.has_extension) {
    // 16-bit profile field, 16-bit length in 32-bit words, then the words (RFC 3550 §5.3.1).
    if (pos + 4 > d.size()) return refuse(RtpError::kExtensionPastEnd);
    const size_t words = (size_t{d[pos + 2]} << 8) | d[pos + 3];
    pos += 4 + 4 * words;
    if (pos > d.size()) return refuse(RtpError::kExtensionPastEnd);
  }
  p.header_bytes = pos;
  if (has_padding) {
    // The last octet counts the padding, itself included; 0 is invalid (RFC 3550 §5.1).
    const size_t pad = d.back();
    if (pad == 0 || pad > d.size() - pos) return refuse(RtpError::kPaddingPastPayload);
    p.padding_bytes = pad;
  }
  return RtpParseResult{p, true, RtpError::kNotRtp};
}

}  // namespace forestcast::media
