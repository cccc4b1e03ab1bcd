#pragma once
// The wire codec: one overlay::Message <-> one protobuf Envelope per datagram. Decoding never
// trusts its input: every field is checked and a bad datagram yields a DecodeError naming the
// first problem found, so the runtime can count drops per reason. Nothing here throws.
#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "overlay/application.hpp"
#include "overlay/messages.hpp"
#include "overlay/node_id.hpp"

namespace forestcast::wire {

enum class DecodeError : uint8_t {
  kOversize,        // datagram longer than overlay::kMaxDatagramBytes
  kMalformed,       // not a parsable Envelope ("unparsable" in counters)
  kBadVersion,      // version != overlay::kWireVersion
  kBadSenderId,     // sender_id not 16 bytes
  kNoBody,          // no message in the oneof (or one this build does not know)
  kBadNodeId,       // a key or handle id not 16 bytes
  kBadAddress,      // handle ip not 4/16 bytes, port outside 1..65535, or missing handle
  kBadRow,          // routing table row >= 32
  kTooManyHandles,  // more than overlay::kMaxHandlesPerMessage handles
  kBadEnum,         // unknown StateKind
  kBadField,        // a numeric field out of range, or join with an app payload
  kUnknownApp,      // app id not registered on this node
  kBadAppBody,      // the application rejected its body
  kBadProof,        // a Pong's public key not 32 bytes or signature not 64, or only one of them
};
inline constexpr size_t kDecodeErrorCount = 14;

// Stable snake_case name, used in counters and metrics.
std::string_view to_string(DecodeError e);

struct Decoded {
  overlay::NodeId sender;
  overlay::Message msg;
};

// An expected-style result (std::expected is C++23).
class DecodeResult {
 public:
  DecodeResult(Decoded d) : v_(std::move(d)) {}  // NOLINT: implicit on purpose
  DecodeResult(DecodeError e) : v_(e) {}         // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  const Decoded& value() const { return std::get<0>(v_); }
  Decoded& value() { return std::get<0>(v_); }
  DecodeError error() const { return std::get<1>(v_); }

 private:
  std::variant<Decoded, DecodeError> v_;
};

// Maps an app id to the application that decodes its payloads (PastryNode::app); null when no
// such application is registered here.
using AppDecoder = std::function<const overlay::Application*(uint16_t app_id)>;

// Serializes `msg` stamped with `sender`. The result may exceed overlay::kMaxDatagramBytes if
// an application payload is too big; the caller checks and drops such messages.
std::string encode(const overlay::NodeId& sender, const overlay::Message& msg);
// The same into `out`, replacing its contents and reusing its capacity (the UDP runtime's send
// buffers).
void encode(const overlay::NodeId& sender, const overlay::Message& msg, std::string& out);

DecodeResult decode(std::span<const uint8_t> datagram, const AppDecoder& apps);
DecodeResult decode(std::string_view datagram, const AppDecoder& apps);

}  // namespace forestcast::wire
