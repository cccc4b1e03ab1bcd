#pragma once
// Builds RTP packets for the media tests.
#include <cstdint>
#include <vector>

namespace forestcast::media::test {

inline std::vector<uint8_t> make_rtp(uint16_t seq, uint32_t ts, uint32_t ssrc, size_t payload,
                                     uint8_t pt = 96, uint8_t fill = 0) {
  std::vector<uint8_t> p{0x80,
                         pt,
                         static_cast<uint8_t>(seq >> 8),
                         static_cast<uint8_t>(seq),
                         static_cast<uint8_t>(ts >> 24),
                         static_cast<uint8_t>(ts >> 16),
                         static_cast<uint8_t>(ts >> 8),
                         static_cast<uint8_t>(ts),
                         static_cast<uint8_t>(ssrc >> 24),
                         static_cast<uint8_t>(ssrc >> 16),
                         static_cast<uint8_t>(ssrc >> 8),
                         static_cast<uint8_t>(ssrc)};
  for (size_t i = 0; i < payload; ++i) p.push_back(static_cast<uint8_t>(fill + seq * 7 + i));
  return p;
}

}  // namespace forestcast::media::test
