// libFuzzer target: the secure-routing decoder (secure::decode_secure: Query, Relay, Near,
// Reply, under the lookups' and the guard's app ids). An input is one byte choosing the app id
// (bit 0: the guard's), a little-endian u16 message type, then the body. Beyond "no crash, no
// sanitizer report": an accepted body keeps its type and app id and survives a round trip.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_app.hpp"
#include "secure/secure_messages.hpp"

using namespace forestcast;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const uint16_t app = (data[0] & 1) != 0 ? secure::kNeighbourhoodGuardAppId
                                          : secure::kSecureLookupAppId;
  const auto type = static_cast<uint16_t>(data[1] | data[2] << 8);
  const std::string_view body(reinterpret_cast<const char*>(data + 3), size - 3);
  const overlay::AppMessagePtr msg = secure::decode_secure(app, type, body);
  if (!msg) return 0;
  if (msg->type() != type || msg->app_id() != app) fuzz::property_failed("type or app changed");
  std::string encoded;
  msg->encode(encoded);
  if (encoded.size() != msg->encoded_size()) fuzz::property_failed("encoded_size() is wrong");
  const overlay::AppMessagePtr again = secure::decode_secure(app, type, encoded);
  if (!again) fuzz::property_failed("re-encoded body rejected");
  std::string twice;
  again->encode(twice);
  if (twice != encoded) fuzz::property_failed("encode(decode(encode(m))) != encode(m)");
  return 0;
}
