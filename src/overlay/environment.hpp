#pragma once
// The only way a Pastry core touches the world. Two implementations: the UDP runtime
// (src/net/udp) and the simulator (src/net/sim). Time is not here: it is an argument of every
// PastryNode entry point. Timers are not here either: the node keeps its own TimerQueue and the
// driver arms one real timer for PastryNode::next_deadline().
#include "overlay/endpoint.hpp"
#include "overlay/key_proofs.hpp"
#include "overlay/messages.hpp"

namespace forestcast::overlay {

class Environment {
 public:
  virtual ~Environment() = default;
  // Fire-and-forget datagram to `to`, stamped by the transport with this node's id. May be
  // lost; the core never assumes delivery.
  virtual void send(const Endpoint& to, const Message& msg) = 0;
  // Signing and checking id proofs (key_proofs.hpp); null: proofs are off.
  virtual KeyProofs* key_proofs() { return nullptr; }
};

}  // namespace forestcast::overlay
