#include "media/sdp.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>

namespace forestcast::media {

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t end = s.find(sep, start);
    if (end == std::string_view::npos) {
      out.push_back(s.substr(start));
      break;
    }
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

template <typename T>
bool parse_number(std::string_view s, T& out, T max) {
  unsigned long v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || v > max) return false;
  out = static_cast<T>(v);
  return true;
}

SdpParseResult fail(size_t line, const std::string& why) {
  return SdpParseResult{std::nullopt, "SDP line " + std::to_string(line) + ": " + why};
}

bool valid_connection(std::string_view value) {
  const auto f = split(value, ' ');
  return f.size() == 3 && f[0] == "IN" && (f[1] == "IP4" || f[1] == "IP6") && !f[2].empty();
}

}  // namespace

SdpParseResult parse_sdp(std::string_view text) {
  if (text.size() > kMaxSdpBytes) return {std::nullopt, "SDP larger than 64 KiB"};
  if (text.empty()) return {std::nullopt, "SDP is empty"};
  Sdp sdp;
  bool version = false, origin = false, name = false, session_connection = false;
  std::vector<bool> media_connection;
  size_t line_no = 0;
  for (std::string_view line : split(text, '\n')) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line.size() < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z') {
      return fail(line_no, "not a 'x=value' line");
    }
    const char type = line[0];
    const std::string_view value = line.substr(2);
    if (!version && type != 'v') return fail(line_no, "the first line must be v=0");
    const bool in_media = !sdp.media.empty();
    switch (type) {
      case 'v':
        if (version || value != "0") return fail(line_no, "expected a single v=0");
        version = true;
        break;
      case 'o':
        if (split(value, ' ').size() != 6) return fail(line_no, "o= needs 6 fields");
        origin = true;
        break;
      case 's':
        sdp.session_name = std::string(value);
        name = true;
        break;
      case 'c':
        if (!valid_connection(value)) return fail(line_no, "c= must be 'IN IP4|IP6 ADDRESS'");
        if (in_media) {
          media_connection.back() = true;
        } else {
          session_connection = true;
        }
        break;
      case 'b':
        if (in_media) sdp.media.back().bandwidth.emplace_back(value);
        break;
      case 'm': {
        const auto f = split(value, ' ');
        SdpMedia m;
        if (f.size() < 4) return fail(line_no, "m= needs media, port, proto and formats");
        m.type = std::string(f[0]);
        if (!parse_number<uint16_t>(f[1], m.port, 65535)) return fail(line_no, "bad m= port");
        m.proto = std::string(f[2]);
        if (m.proto.rfind("RTP/", 0) != 0) return fail(line_no, "m= transport is not RTP");
        for (size_t i = 3; i < f.size(); ++i) {
          uint8_t pt = 0;
          if (!parse_number<uint8_t>(f[i], pt, 127)) {
            return fail(line_no, "payload type '" + std::string(f[i]) + "' is not 0..127");
          }
          m.payload_types.push_back(pt);
        }
        sdp.media.push_back(std::move(m));
        media_connection.push_back(false);
        break;
      }
      case 'a':
        if (in_media) {
          if (value.rfind("rtpmap:", 0) == 0 || value.rfind("fmtp:", 0) == 0) {
            const auto colon = value.find(':');
            const auto space = value.find(' ');
            uint8_t pt = 0;
            if (space == std::string_view::npos ||
                !parse_number<uint8_t>(value.substr(colon + 1, space - colon - 1), pt, 127)) {
              return fail(line_no, "a=rtpmap/fmtp needs 'PT VALUE'");
            }
            const auto& pts = sdp.media.back().payload_types;
            if (std::find(pts.begin(), pts.end(), pt) == pts.end()) {
              return fail(line_no, "payload type " + std::to_string(pt) + " is not on the m= line");
            }
          }
          sdp.media.back().attributes.emplace_back(value);
        }
        break;
      default:
        break;  // t=, i=, u=, e=, p=, z=, k=, r=: allowed, not needed
    }
  }
  if (!version) return {std::nullopt, "SDP has no v= line"};
  if (!origin) return {std::nullopt, "SDP has no o= line"};
  if (!name) return {std::nullopt, "SDP has no s= line"};
  if (sdp.media.empty()) return {std::nullopt, "SDP has no m= (media) line"};
  for (size_t i = 0; i < sdp.media.size(); ++i) {
    if (!session_connection && !media_connection[i]) {
      return {std::nullopt, "SDP media " + std::to_string(i + 1) + " has no c= connection"};
    }
    // Dynamic payload types mean nothing without their rtpmap.
    for (uint8_t pt : sdp.media[i].payload_types) {
      if (pt < 96) continue;
      const std::string want = "rtpmap:" + std::to_string(pt) + " ";
      const auto& a = sdp.media[i].attributes;
      if (std::none_of(a.begin(), a.end(),
                       [&](const std::string& s) { return s.rfind(want, 0) == 0; })) {
        return {std::nullopt, "SDP payload type " + std::to_string(pt) + " has no a=rtpmap"};
      }
    }
  }
  return {std::move(sdp), ""};
}

std::string write_viewer_sdp(const Sdp& source, std::string_view host, uint16_t port) {
  const char* family = host.find(':') != std::string_view::npos ? "IP6" : "IP4";
  std::ostringstream o;
  o << "v=0\r\n"
    << "o=- 0 0 IN " << family << ' ' << host << "\r\n"
    << "s=" << (source.session_name.empty() ? "forestcast" : source.session_name) << "\r\n"
    << "c=IN " << family << ' ' << host << "\r\n"
    << "t=0 0\r\n";
  for (size_t i = 0; i < source.media.size(); ++i) {
    const auto& m = source.media[i];
    o << "m=" << m.type << ' ' << (port + 2 * i) << ' ' << m.proto;
    for (uint8_t pt : m.payload_types) o << ' ' << int{pt};
    o << "\r\n";
    for (const auto& b : m.bandwidth) o << "b=" << b << "\r\n";
    for (const auto& a : m.attributes) {
      // The source's control URLs and RTCP ports describe the source, not this viewer.
      if (a.rfind("control:", 0) == 0 || a.rfind("rtcp:", 0) == 0) continue;
      o << "a=" << a << "\r\n";
    }
  }
  return o.str();
}

Sdp mpegts_sdp(std::string_view session_name) {
  Sdp s;
  s.session_name = std::string(session_name);
  SdpMedia m;
  m.type = "video";
  m.proto = "RTP/AVP";
  m.payload_types = {33};
  m.attributes = {"rtpmap:33 MP2T/90000"};
  s.media.push_back(std::move(m));
  return s;
}

}  // namespace forestcast::media
