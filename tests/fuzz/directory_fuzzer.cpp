// libFuzzer target: the stream directory's decoder (directory::decode_directory_message: name
// records, lookups, replies). An input is a little-endian u16 message type, then the body.
// Beyond "no crash, no sanitizer report": an accepted body keeps its type and survives a round
// trip (decode(encode(m)) re-encodes to the same bytes), since replicas pass records on.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "directory/directory_messages.hpp"
#include "fuzz_app.hpp"

using namespace forestcast;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const auto type = static_cast<uint16_t>(data[0] | data[1] << 8);
  const std::string_view body(reinterpret_cast<const char*>(data + 2), size - 2);
  const overlay::AppMessagePtr msg = directory::decode_directory_message(type, body);
  if (!msg) return 0;
  if (msg->type() != type || msg->app_id() != directory::kDirectoryAppId)
    fuzz::property_failed("type changed");
  std::string encoded;
  msg->encode(encoded);
  const overlay::AppMessagePtr again = directory::decode_directory_message(type, encoded);
  if (!again) fuzz::property_failed("re-encoded body rejected");
  std::string twice;
  again->encode(twice);
  if (twice != encoded) fuzz::property_failed("encode(decode(encode(m))) != encode(m)");
  return 0;
}
