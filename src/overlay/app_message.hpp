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
  // Appends the wire body (protobuf bytes of the application's own message type).
  virtual void encode(std::string& out) const = 0;
};

using AppMessagePtr = std::shared_ptr<const AppMessage>;

}  // namespace forestcast::overlay
