#pragma once
// What the layers above Pastry (Scribe, SplitStream, lookups) put inside routed and direct
// messages. In the simulator the object itself travels (shared, never copied per hop); the UDP
// runtime calls encode() and the owning Application's decode() at the wire boundary.
#include <cstdint>
#include <memory>
#include <string>

namespace forestcast::overlay {

class AppMessage {
 public:
  virtual ~AppMessage() = default;
  // Which registered Application handles this message (see PastryNode::register_app).
  virtual uint16_t app_id() const = 0;
  // The message's type within its application. It travels on the wire next to the body, so an
  // application decodes and dispatches on it (a switch and a static_cast), never by trying
  // casts.
  virtual uint16_t type() const = 0;
  // Appends the wire body (protobuf bytes of the application's own message type).
  virtual void encode(std::string& out) const = 0;
  // Length of encode()'s output. Counters of bytes per application and the simulator's check
  // against the datagram limit call it for every message: override it where encoding is costly.
  virtual size_t encoded_size() const {
    std::string body;
    encode(body);
    return body.size();
  }
};

using AppMessagePtr = std::shared_ptr<const AppMessage>;

}  // namespace forestcast::overlay
