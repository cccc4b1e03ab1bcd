#pragma once
// A synthetic stream (`--synthetic-kbps K`): packets of ~1,200 bytes at K kbit/s, round-robin
// over the stripes. The media layer replaces it with RTP + FEC behind the same calls: a driver
// asks when the next packet is due and hands SplitStream::send() its stripe and size. In the
// simulator the payload stays null (only the size travels); a real daemon passes one shared
// buffer, never one allocation per packet.
#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>

#include "base/time.hpp"

namespace forestcast::multicast {

class SyntheticSource {
 public:
  static constexpr uint32_t kPacketBytes = 1200;

  SyntheticSource(double kbps, uint32_t stripes, uint32_t packet_bytes = kPacketBytes)
      : stripes_(std::max<uint32_t>(stripes, 1)), bytes_(packet_bytes) {
    const double packets_per_s = kbps * 1000.0 / (8.0 * packet_bytes);
    interval_ = Duration{packets_per_s > 0 ? static_cast<int64_t>(1e6 / packets_per_s) : 0};
  }

  Duration interval() const { return interval_; }
  uint32_t packet_bytes() const { return bytes_; }
  uint32_t stripes() const { return stripes_; }
  // Stripe of the next packet; advances the round robin.
  uint32_t next_stripe() {
    const uint32_t s = next_;
    next_ = (next_ + 1) % stripes_;
    return s;
  }
  // The one buffer every packet of a real synthetic stream shares.
  std::shared_ptr<const std::string> shared_payload() const {
    return std::make_shared<const std::string>(bytes_, '\0');
  }

 private:
  uint32_t stripes_;
  uint32_t bytes_;
  Duration interval_{0};
  uint32_t next_ = 0;
};

}  // namespace forestcast::multicast
