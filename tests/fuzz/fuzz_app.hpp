#pragma once
// The application every fuzz target registers, so that application payloads get past the
// codec's app lookup and reach an Application's decode(), forward(), deliver() and
// receive_direct(). Its bodies are plain bytes; a few magic bodies steer forward().
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "net/wire/codec.hpp"
#include "overlay/application.hpp"

namespace forestcast::fuzz {

inline constexpr uint16_t kFuzzAppId = 7;
inline constexpr size_t kFuzzAppMaxBody = 512;

class FuzzAppMessage : public overlay::AppMessage {
 public:
  explicit FuzzAppMessage(std::string body) : body_(std::move(body)) {}
  static constexpr uint16_t kType = 1;
  uint16_t app_id() const override { return kFuzzAppId; }
  uint16_t type() const override { return kType; }
  void encode(std::string& out) const override { out += body_; }
  const std::string& body() const { return body_; }

 private:
  std::string body_;
};

class FuzzApp : public overlay::Application {
 public:
  // "consume" stops the message at this hop; "here" delivers it here instead of forwarding.
  void forward(Time now, overlay::ForwardContext& ctx) override;
  void deliver(Time now, const overlay::RouteInfo& info,
               const overlay::AppMessagePtr& msg) override;
  void receive_direct(Time now, const overlay::NodeHandle& from,
                      const overlay::AppMessagePtr& msg) override;
  // Rejects bodies over kFuzzAppMaxBody and bodies starting with "reject", like a real
  // application whose own protobuf does not parse.
  overlay::AppMessagePtr decode(uint16_t type, std::string_view body) const override;

  uint64_t delivered = 0;
  uint64_t received_direct = 0;
};

// An AppDecoder that knows only `app` (as kFuzzAppId).
wire::AppDecoder decoder_for(const FuzzApp& app);

// Stops the process with a message, so libFuzzer records the input as a crash: for properties
// the targets check beyond "no sanitizer report".
[[noreturn]] void property_failed(const char* what);

}  // namespace forestcast::fuzz
