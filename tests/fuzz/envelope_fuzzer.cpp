// libFuzzer target: the envelope decoder (wire::decode) on arbitrary bytes. Beyond "no crash,
// no sanitizer report", every accepted datagram must survive a round trip: what decode()
// accepted, encode() must turn into bytes that decode() accepts again and that re-encode to the
// very same bytes (a codec that drops or bends a field would break a node that relays it).
#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz_app.hpp"
#include "net/wire/codec.hpp"

using namespace forestcast;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const fuzz::FuzzApp app;
  static const wire::AppDecoder apps = fuzz::decoder_for(app);

  const wire::DecodeResult first = wire::decode(std::span<const uint8_t>(data, size), apps);
  if (!first) {
    if (wire::to_string(first.error()) == "unknown") fuzz::property_failed("unnamed error");
    return 0;
  }
  if (size > overlay::kMaxDatagramBytes) fuzz::property_failed("oversize datagram accepted");
  const std::string encoded = wire::encode(first.value().sender, first.value().msg);
  // Canonical re-encoding is almost always shorter, but a one-element unpacked repeated field
  // grows by a byte when packed: such an input may legitimately re-encode over the limit.
  if (encoded.size() > overlay::kMaxDatagramBytes) return 0;
  const wire::DecodeResult second = wire::decode(encoded, apps);
  if (!second) fuzz::property_failed("re-encoded datagram rejected");
  if (second.value().sender != first.value().sender) fuzz::property_failed("sender changed");
  if (second.value().msg.index() != first.value().msg.index())
    fuzz::property_failed("message type changed");
  if (wire::encode(second.value().sender, second.value().msg) != encoded)
    fuzz::property_failed("encode(decode(encode(m))) != encode(m)");
  return 0;
}
