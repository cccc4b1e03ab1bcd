#pragma once
// The upward interface of Pastry (DESIGN.md §3): what Scribe and every other layer implement to
// hear from the overlay. What they call in the other direction is overlay/overlay.hpp. Every
// upcall carries the time: applications are sans-IO cores too and never read a clock.
#include <optional>
#include <string_view>

#include "base/time.hpp"
#include "overlay/app_message.hpp"
#include "overlay/node_handle.hpp"

namespace forestcast::overlay {

// A routed message that reached its root (deliver()).
struct RouteInfo {
  NodeId key;
  NodeHandle origin;
  // The node that handed the message to us; our own handle when we are the origin.
  NodeHandle previous_hop;
  int hops = 0;  // overlay hops taken (0 when the origin is the root)
};

// What forward() decides for a routed message at this hop.
struct ForwardContext {
  NodeId key;
  NodeHandle origin;
  // The node that handed the message to us (a Scribe JOIN adds it as a child); our own handle
  // at the origin.
  NodeHandle previous_hop;
  int hops = 0;
  // Where Pastry intends to send it next; nullopt means this node is the key's root and
  // deliver() follows. An application may set another next hop.
  std::optional<NodeHandle> next_hop;
  // The message; an application may replace it (e.g. Scribe rewriting a JOIN).
  AppMessagePtr message;
  // Set to true to stop the message here (neither forwarded nor delivered).
  bool consumed = false;
  // True when forward() is called again for the same message at the same hop because the next
  // hop it chose did not acknowledge: next_hop is then Pastry's next choice around the silent
  // node (or nullopt), and the application decides again.
  bool reroute = false;
};

class Application {
 public:
  virtual ~Application() = default;

  // Called at every node a routed message passes through, including the origin and the root,
  // before Pastry forwards or delivers it; again at the same node after an unacknowledged hop.
  virtual void forward(Time now, ForwardContext& ctx) {
    (void)now;
    (void)ctx;
  }
  // The message reached the live node numerically closest to `info.key`. Called at most once
  // per route() call: a lost acknowledgement never delivers a message twice.
  virtual void deliver(Time now, const RouteInfo& info, const AppMessagePtr& msg) = 0;
  // A message sent with Overlay::send_direct().
  virtual void receive_direct(Time now, const NodeHandle& from, const AppMessagePtr& msg) {
    (void)now;
    (void)from;
    (void)msg;
  }
  // A node entered (joined = true) or left this node's leaf set. Called after the change is
  // complete (leaf_set() already shows it), and `joined` only for nodes proven alive.
  virtual void leafset_changed(Time now, const NodeHandle& node, bool joined) {
    (void)now;
    (void)node;
    (void)joined;
  }
  // Pastry found `node` dead: a probe went unanswered (Overlay::check_alive() asks for one), or
  // it left the ring gracefully. Every node Pastry declares dead is reported, not only leaves.
  virtual void node_dead(Time now, const NodeHandle& node) {
    (void)now;
    (void)node;
  }
  // This node has joined the ring (or started one): route() now works.
  virtual void became_active(Time now) { (void)now; }
  // A timer this application scheduled with Overlay::schedule_app_timer() is due.
  virtual void on_timer(Time now, uint64_t token) {
    (void)now;
    (void)token;
  }
  // Wire decoding of this application's messages (the UDP runtime calls it); null on bad input.
  // `type` is the sender's AppMessage::type().
  virtual AppMessagePtr decode(uint16_t type, std::string_view body) const = 0;
};

}  // namespace forestcast::overlay
