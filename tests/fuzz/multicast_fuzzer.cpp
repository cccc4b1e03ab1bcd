// libFuzzer target: the multicast decoder (multicast::decode_message, Scribe and SplitStream
// bodies). An input is a little-endian u16 message type, then the body. Beyond "no crash, no
// sanitizer report": a refusal names its reason; an accepted body keeps its type, its
// encoded_size() is never less than what encode() writes, and it survives a round trip
// (decode(encode(m)) re-encodes to the same bytes), since a node relays what it accepted.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_app.hpp"
#include "multicast/messages.hpp"

using namespace forestcast;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const auto type = static_cast<uint16_t>(data[0] | data[1] << 8);
  const std::string_view body(reinterpret_cast<const char*>(data + 2), size - 2);
  multicast::DecodeError error = multicast::DecodeError::kNone;
  const overlay::AppMessagePtr msg = multicast::decode_message(type, body, error);
  if (!msg) {
    if (error == multicast::DecodeError::kNone) fuzz::property_failed("refused without a reason");
    return 0;
  }
  if (error != multicast::DecodeError::kNone) fuzz::property_failed("accepted with an error");
  if (msg->type() != type || msg->app_id() != multicast::kMulticastAppId)
    fuzz::property_failed("type changed");
  std::string encoded;
  msg->encode(encoded);
  // Data's encoded_size() is a closed form that may overcount fields proto3 leaves out; it must
  // never undercount, or the simulator would pass datagrams the wire refuses.
  if (msg->encoded_size() < encoded.size()) fuzz::property_failed("encoded_size() undercounts");
  multicast::DecodeError again_error = multicast::DecodeError::kNone;
  const overlay::AppMessagePtr again = multicast::decode_message(type, encoded, again_error);
  if (!again) fuzz::property_failed("re-encoded body rejected");
  std::string twice;
  again->encode(twice);
  if (twice != encoded) fuzz::property_failed("encode(decode(encode(m))) != encode(m)");
  return 0;
}
