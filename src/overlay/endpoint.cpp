#include "overlay/endpoint.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace forestcast::overlay {

Endpoint Endpoint::ipv4(uint32_t addr, uint16_t port) {
  Endpoint e;
  e.ip[10] = 0xff;
  e.ip[11] = 0xff;
  e.ip[12] = static_cast<uint8_t>(addr >> 24);
  e.ip[13] = static_cast<uint8_t>(addr >> 16);
  e.ip[14] = static_cast<uint8_t>(addr >> 8);
  e.ip[15] = static_cast<uint8_t>(addr);
  e.port = port;
  return e;
}

bool Endpoint::is_v4() const {
  for (int i = 0; i < 10; ++i)
    if (ip[i] != 0) return false;
  return ip[10] == 0xff && ip[11] == 0xff;
}

uint32_t Endpoint::v4() const {
  return (uint32_t{ip[12]} << 24) | (uint32_t{ip[13]} << 16) | (uint32_t{ip[14]} << 8) | ip[15];
}

std::optional<Endpoint> Endpoint::parse(std::string_view text) {
  std::string_view host, port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return std::nullopt;
    host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon) return std::nullopt;
    host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535)
    return std::nullopt;
  if (host == "localhost") host = "127.0.0.1";
  const std::string host_z(host);
  Endpoint e;
  in_addr v4{};
  if (inet_pton(AF_INET, host_z.c_str(), &v4) == 1) {
    e = ipv4(ntohl(v4.s_addr), static_cast<uint16_t>(port));
  } else if (in6_addr v6{}; inet_pton(AF_INET6, host_z.c_str(), &v6) == 1) {
    std::memcpy(e.ip.data(), &v6, 16);
    e.port = static_cast<uint16_t>(port);
  } else {
    return std::nullopt;
  }
  return e;
}

std::string Endpoint::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (is_v4()) {
    in_addr v4{htonl(this->v4())};
    inet_ntop(AF_INET, &v4, buf, sizeof buf);
    return std::string(buf) + ":" + std::to_string(port);
  }
  inet_ntop(AF_INET6, ip.data(), buf, sizeof buf);
  return "[" + std::string(buf) + "]:" + std::to_string(port);
}

}  // namespace forestcast::overlay
