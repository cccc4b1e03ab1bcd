#include "media/rtsp_message.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace forestcast::media {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

template <typename T>
std::optional<T> number(std::string_view s) {
  T v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// "A-B" or "A".
std::optional<std::pair<unsigned, unsigned>> range(std::string_view s) {
  const auto dash = s.find('-');
  auto a = number<unsigned>(s.substr(0, dash));
  if (!a) return std::nullopt;
  if (dash == std::string_view::npos) return std::pair{*a, *a + 1};
  auto b = number<unsigned>(s.substr(dash + 1));
  if (!b) return std::nullopt;
  return std::pair{*a, *b};
}

const char* reason(int code) {
  switch (code) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 454: return "Session Not Found";
    case 455: return "Method Not Valid in This State";
    case 459: return "Aggregate Operation Not Allowed";
    case 461: return "Unsupported Transport";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "RTSP Version Not Supported";
  }
  return "Error";
}

}  // namespace

std::optional<std::string> RtspRequest::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return v;
  return std::nullopt;
}

RtspParseResult parse_rtsp_request(std::string_view buffer) {
  RtspParseResult r;
  auto bad = [&](std::string e) {
    r.status = RtspParseStatus::kBad;
    r.error = std::move(e);
    return r;
  };
  // Clients may send empty lines between requests (RFC 2326 §15.1 keep-alives): skip them.
  size_t start = 0;
  while (start < buffer.size() && (buffer[start] == '\r' || buffer[start] == '\n')) ++start;
  size_t end = buffer.find("\n\r\n", start);
  size_t header_end = end == std::string_view::npos ? end : end + 3;
  if (const size_t lf = buffer.find("\n\n", start);
      lf != std::string_view::npos && (end == std::string_view::npos || lf < end))
    header_end = lf + 2;
  if (header_end == std::string_view::npos) {
    if (buffer.size() - start > kMaxRtspHeaderBytes) return bad("header block too long");
    r.consumed = 0;
    return r;  // need more
  }
  if (header_end - start > kMaxRtspHeaderBytes) return bad("header block too long");
  std::string_view block = buffer.substr(start, header_end - start);

  size_t pos = 0;
  bool first = true;
  while (pos < block.size()) {
    size_t nl = block.find('\n', pos);
    if (nl == std::string_view::npos) nl = block.size();
    std::string_view line = trim(block.substr(pos, nl - pos));
    pos = nl + 1;
    if (line.empty()) break;
    if (first) {
      first = false;
      const auto s1 = line.find(' ');
      const auto s2 = s1 == std::string_view::npos ? s1 : line.find(' ', s1 + 1);
      if (s2 == std::string_view::npos) return bad("request line is not METHOD URI RTSP/1.0");
      r.request.method = std::string(line.substr(0, s1));
      r.request.uri = std::string(line.substr(s1 + 1, s2 - s1 - 1));
      const std::string_view version = line.substr(s2 + 1);
      if (r.request.method.empty() || r.request.uri.empty() ||
          !std::all_of(r.request.method.begin(), r.request.method.end(),
                       [](char c) { return c >= 'A' && c <= 'Z'; }))
        return bad("request line is not METHOD URI RTSP/1.0");
      if (version != "RTSP/1.0") return bad("version '" + std::string(version) + "'");
      continue;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return bad("header line without a name");
    r.request.headers.emplace_back(lower(trim(line.substr(0, colon))),
                                   std::string(trim(line.substr(colon + 1))));
  }
  if (first) return bad("empty request");
  if (auto cseq = r.request.header("cseq")) {
    r.request.cseq = number<uint32_t>(*cseq);
    if (!r.request.cseq) return bad("CSeq is not a number");
  }
  size_t body = 0;
  if (auto length = r.request.header("content-length")) {
    auto n = number<size_t>(*length);
    if (!n || *n > kMaxRtspBodyBytes) return bad("bad Content-Length");
    body = *n;
  }
  if (buffer.size() < header_end + body) return RtspParseResult{};  // need the body
  r.consumed = header_end + body;
  r.status = RtspParseStatus::kOk;
  return r;
}

std::optional<RtspTarget> parse_rtsp_target(std::string_view uri) {
  if (uri.rfind("rtsp://", 0) == 0) {
    uri.remove_prefix(7);
    const auto slash = uri.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    uri.remove_prefix(slash);
  }
  if (uri.empty() || uri.front() != '/') return std::nullopt;
  uri.remove_prefix(1);
  if (const auto q = uri.find('?'); q != std::string_view::npos) uri = uri.substr(0, q);
  while (!uri.empty() && uri.back() == '/') uri.remove_suffix(1);
  RtspTarget t;
  const auto slash = uri.find('/');
  t.stream = std::string(uri.substr(0, slash));
  if (t.stream.empty()) return std::nullopt;
  if (slash != std::string_view::npos) {
    const std::string_view rest = uri.substr(slash + 1);
    if (rest.rfind("trackID=", 0) != 0) return std::nullopt;
    auto n = number<unsigned>(rest.substr(8));
    if (!n) return std::nullopt;
    t.track = *n;
  }
  return t;
}

std::optional<RtspTransport> parse_rtsp_transport(std::string_view header) {
  while (!header.empty()) {
    const auto comma = header.find(',');
    const std::string_view spec = trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    RtspTransport t;
    bool ok = true, have_ports = false, multicast = false;
    size_t pos = 0, n = 0;
    while (pos <= spec.size() && ok) {
      const auto semi = spec.find(';', pos);
      const std::string_view p = trim(spec.substr(pos, semi - pos));
      pos = semi == std::string_view::npos ? spec.size() + 1 : semi + 1;
      if (n++ == 0) {
        if (p == "RTP/AVP" || p == "RTP/AVP/UDP") t.tcp = false;
        else if (p == "RTP/AVP/TCP") t.tcp = true;
        else ok = false;
        continue;
      }
      if (p == "multicast") multicast = true;
      if (p.rfind("client_port=", 0) == 0) {
        auto r = range(p.substr(12));
        ok = r && r->first > 0 && r->first <= 65535 && r->second <= 65535;
        if (ok) t.client_rtp = uint16_t(r->first), t.client_rtcp = uint16_t(r->second);
        have_ports = ok;
      } else if (p.rfind("interleaved=", 0) == 0) {
        auto r = range(p.substr(12));
        ok = r && r->first <= 255 && r->second <= 255;
        if (ok) t.channel_rtp = uint8_t(r->first), t.channel_rtcp = uint8_t(r->second);
      }
    }
    if (ok && !multicast && (t.tcp || have_ports)) return t;
  }
  return std::nullopt;
}

std::string rtsp_response(int code, std::optional<uint32_t> cseq,
                          const std::vector<std::pair<std::string, std::string>>& headers,
                          std::string_view body) {
  std::string out = "RTSP/1.0 " + std::to_string(code) + " " + reason(code) + "\r\n";
  if (cseq) out += "CSeq: " + std::to_string(*cseq) + "\r\n";
  out += "Server: forestcast\r\n";
  for (const auto& [k, v] : headers) out += k + ": " + v + "\r\n";
  if (!body.empty()) out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  out += "\r\n";
  out.append(body);
  return out;
}

}  // namespace forestcast::media
