#pragma once
// A transport address: IPv6 (IPv4 stored v4-mapped) and a UDP port. The core treats it as an
// opaque, comparable value; the UDP runtime maps it to sockets, the simulator to node indices.
#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace forestcast::overlay {

struct Endpoint {
  std::array<uint8_t, 16> ip{};
  uint16_t port = 0;

  static Endpoint ipv4(uint32_t host_order_addr, uint16_t port);
  bool is_v4() const;
  uint32_t v4() const;  // host order; meaningful when is_v4()
  bool valid() const { return port != 0; }

  // "1.2.3.4:5", "[::1]:5" or "localhost:5" (the only name accepted, as 127.0.0.1). No DNS
  // here: cores and config parsing stay free of I/O.
  static std::optional<Endpoint> parse(std::string_view text);
  std::string to_string() const;

  auto operator<=>(const Endpoint&) const = default;
};

}  // namespace forestcast::overlay

template <>
struct std::hash<forestcast::overlay::Endpoint> {
  size_t operator()(const forestcast::overlay::Endpoint& e) const noexcept {
    uint64_t h = 1469598103934665603ULL;
    for (uint8_t b : e.ip) h = (h ^ b) * 1099511628211ULL;
    return static_cast<size_t>((h ^ e.port) * 1099511628211ULL);
  }
};
