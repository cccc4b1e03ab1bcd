#include "fuzz_app.hpp"

#include <cstdio>
#include <cstdlib>

namespace forestcast::fuzz {
namespace {

const FuzzAppMessage* as_fuzz(const overlay::AppMessagePtr& msg) {
  if (msg->app_id() != kFuzzAppId || msg->type() != FuzzAppMessage::kType)
    property_failed("an application message reached the wrong application");
  return static_cast<const FuzzAppMessage*>(msg.get());
}

}  // namespace

void FuzzApp::forward(Time, overlay::ForwardContext& ctx) {
  const std::string& body = as_fuzz(ctx.message)->body();
  if (body == "consume") ctx.consumed = true;
  if (body == "here") ctx.next_hop.reset();
}

void FuzzApp::deliver(Time, const overlay::RouteInfo&, const overlay::AppMessagePtr& msg) {
  as_fuzz(msg);
  ++delivered;
}

void FuzzApp::receive_direct(Time, const overlay::NodeHandle&, const overlay::AppMessagePtr& msg) {
  as_fuzz(msg);
  ++received_direct;
}

overlay::AppMessagePtr FuzzApp::decode(uint16_t type, std::string_view body) const {
  if (type != FuzzAppMessage::kType || body.size() > kFuzzAppMaxBody || body.starts_with("reject")) return nullptr;
  return std::make_shared<FuzzAppMessage>(std::string(body));
}

wire::AppDecoder decoder_for(const FuzzApp& app) {
  return [&app](uint16_t id) -> const overlay::Application* {
    return id == kFuzzAppId ? &app : nullptr;
  };
}

void property_failed(const char* what) {
  std::fprintf(stderr, "fuzz property failed: %s\n", what);
  std::abort();
}

}  // namespace forestcast::fuzz
