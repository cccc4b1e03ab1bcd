#include "media/fec_scheme.hpp"

#include <charconv>

namespace forestcast::media {

namespace {
unsigned parse_count(std::string_view s, std::string_view whole) {
  unsigned v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) {
    throw FecConfigError("--fec: '" + std::string(whole) + "' is not K+M (e.g. 14+2) or off");
  }
  return v;
}
}  // namespace

FecScheme FecScheme::parse(std::string_view text, unsigned stripes) {
  if (stripes == 0 || stripes > kMaxSymbols) {
    throw FecConfigError("stripes must be 1.." + std::to_string(kMaxSymbols));
  }
  if (text == "off") return off(stripes);
  const auto plus = text.find('+');
  if (plus == std::string_view::npos) parse_count("", text);
  FecScheme s{parse_count(text.substr(0, plus), text), parse_count(text.substr(plus + 1), text)};
  if (s.data == 0) throw FecConfigError("--fec: K must be at least 1");
  if (s.total() > stripes) {
    throw FecConfigError("--fec " + s.to_string() + ": K+M exceeds the " + std::to_string(stripes) +
                         " stripes");
  }
  return s;
}

std::string FecScheme::to_string() const {
  if (parity == 0) return "off";
  return std::to_string(data) + "+" + std::to_string(parity);
}

}  // namespace forestcast::media
