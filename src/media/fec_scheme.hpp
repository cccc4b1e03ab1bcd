#pragma once
// How a stream's groups are coded: k data symbols + m parity symbols, each on its own stripe,
// so k + m <= stripes. "off" is k = stripes, m = 0: the same framing, no parity.
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

namespace forestcast::media {

// A `--fec` value or a scheme that does not fit the stripes: a start-up configuration error.
class FecConfigError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct FecScheme {
  static constexpr unsigned kMaxSymbols = 32;

  unsigned data = 14;   // k
  unsigned parity = 2;  // m

  unsigned total() const { return data + parity; }
  bool enabled() const { return parity > 0; }

  // "K+M" (e.g. "14+2") or "off". Throws FecConfigError when it does not parse, k == 0, or
  // k + m exceeds `stripes`.
  static FecScheme parse(std::string_view text, unsigned stripes = 16);
  // k = stripes, m = 0.
  static FecScheme off(unsigned stripes = 16) { return FecScheme{stripes, 0}; }
  std::string to_string() const;

  bool operator==(const FecScheme&) const = default;
};

}  // namespace forestcast::media
