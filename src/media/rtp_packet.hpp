#pragma once
// RTP fixed header parsing (RFC 3550 §5.1). The publisher forwards every accepted packet byte for
// byte, so parsing only validates and exposes the fields the media path needs (SSRC, sequence
// number, timestamp, payload type); it never rewrites a packet.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace forestcast::media {

// Why a datagram on the RTP port was not accepted. Each is counted, none is fatal.
enum class RtpError : uint8_t {
  kNotRtp,              // empty, or RTCP multiplexed on the port (RFC 5761 §4: PT 72-76)
  kBadVersion,          // version field != 2
  kTruncatedHeader,     // shorter than the 12-byte fixed header
  kCsrcPastEnd,         // CSRC count says more identifiers than the packet holds
  kExtensionPastEnd,    // header extension length runs past the packet
  kPaddingPastPayload,  // padding count is 0 or larger than what follows the header
};
inline constexpr size_t kRtpErrorCount = 6;

std::string_view to_string(RtpError e);

// A validated view into a datagram; valid only while the datagram's bytes live.
struct RtpPacketView {
  std::span<const uint8_t> bytes;  // the whole packet, unchanged
  uint8_t payload_type = 0;
  bool marker = false;
  uint16_t sequence = 0;
  uint32_t timestamp = 0;
  uint32_t ssrc = 0;
  uint8_t csrc_count = 0;
  bool has_extension = false;
  size_t header_bytes = 0;   // fixed header + CSRCs + extension
  size_t padding_bytes = 0;  // trailing padding, 0 when the P bit is clear

  std::span<const uint8_t> payload() const {
    return bytes.subspan(header_bytes, bytes.size() - header_bytes - padding_bytes);
  }
};

// Either a packet or the reason it was refused (a minimal expected<>; GCC 12 has no
// std::expected in C++20 mode).
struct RtpParseResult {
  RtpPacketView packet;
  bool ok = false;
  RtpError error = RtpError::kNotRtp;
};

RtpParseResult parse_rtp(std::span<const uint8_t> datagram);

// Drops per reason, for /status and /metrics.
struct RtpDropCounters {
  std::array<uint64_t, kRtpErrorCount> by_reason{};
  void count(RtpError e) { ++by_reason[static_cast<size_t>(e)]; }
  uint64_t operator[](RtpError e) const { return by_reason[static_cast<size_t>(e)]; }
  uint64_t total() const {
    uint64_t t = 0;
    for (auto v : by_reason) t += v;
    return t;
  }
};

}  // namespace forestcast::media
