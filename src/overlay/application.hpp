#pragma once
// The upward interface of Pastry (DESIGN.md §3): what Scribe and every other layer implement.
#include <optional>
#include <string_view>

#include "base/time.hpp"
#include "overlay/app_message.hpp"
#include "overlay/node_handle.hpp"

namespace forestcast::overlay {

class PastryNode;

struct RouteInfo {
  NodeId key;
  NodeHandle origin;
  int hops = 0;  // overlay hops taken (0 when the origin is the root)
};

// What forward() decides for a routed message at this hop.
struct ForwardContext {
  NodeId key;
  NodeHandle origin;
  int hops = 0;
  // Where Pastry intends to send it next; nullopt means this node is the key's root and
  // deliver() follows. An application may set another next hop.
  std::optional<NodeHandle> next_hop;
  // The message; an application may replace it (e.g. Scribe rewriting a JOIN).
  AppMessagePtr message;
  // Set to true to stop the message here (neither forwarded nor delivered).
  bool consumed = false;
};

class Application {
 public:
  virtual ~Application() = default;

  // Called at every node a routed message passes through, including the origin and the root,
  // before Pastry forwards or delivers it.
  virtual void forward(ForwardContext& ctx) { (void)ctx; }
  // The message reached the live node numerically closest to `info.key`.
  virtual void deliver(const RouteInfo& info, const AppMessagePtr& msg) = 0;
  // A message sent with PastryNode::send_direct().
  virtual void receive_direct(const NodeHandle& from, const AppMessagePtr& msg) {
    (void)from;
    (void)msg;
  }
  // A node entered (joined = true) or left this node's leaf set.
  virtual void leafset_changed(const NodeHandle& node, bool joined) {
    (void)node;
    (void)joined;
  }
  // A timer this application scheduled with PastryNode::schedule_app_timer() is due.
  virtual void on_timer(Time now, uint64_t token) {
    (void)now;
    (void)token;
  }
  // Wire decoding of this application's messages (the UDP runtime calls it); null on bad input.
  virtual AppMessagePtr decode(std::string_view body) const = 0;
};

}  // namespace forestcast::overlay
