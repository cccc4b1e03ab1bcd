#pragma once
// Pastry's messages as the core sees them. The wire codec (src/net/wire) maps each to one
// protobuf Envelope per datagram; the simulator moves them as they are. Every message has a
// sender, supplied by the transport next to the message (the envelope's sender id plus the
// address it came from), so the structs below carry only what differs per message.
#include <cstdint>
#include <memory>
#include <variant>
#include <vector>

#include "overlay/app_message.hpp"
#include "overlay/key_proofs.hpp"
#include "overlay/node_handle.hpp"

namespace forestcast::overlay {

// Sets of handles are sent in chunks of at most this many, which keeps every datagram under the
// 1400-byte limit even with IPv6 endpoints (about 45 bytes per encoded handle).
inline constexpr size_t kMaxHandlesPerMessage = 24;
// A whole leaf set fits one datagram, so a neighbour's view always arrives in one piece.
inline constexpr size_t kMaxLeafSetSize = kMaxHandlesPerMessage;
inline constexpr uint32_t kWireVersion = 1;
inline constexpr size_t kMaxDatagramBytes = 1400;

// Liveness and RTT probe. `joining` marks probes from a node that is not yet part of the ring:
// the receiver answers but does not insert the sender into its state. A non-zero `challenge`
// asks the receiver to prove its id (key_proofs.hpp): its Pong then carries the proof.
struct Ping {
  uint64_t nonce = 0;
  bool joining = false;
  uint64_t challenge = 0;
};
struct Pong {
  uint64_t nonce = 0;
  // Shared, so a Message stays small where it is copied (the simulator's in-flight slab).
  std::shared_ptr<const IdProof> proof;
};

// A message routed toward `key`, acknowledged hop by hop (RouteAck with the same hop_id).
// `origin` is the node that called route(); `hops` counts forwards so far.
struct RouteMsg {
  uint64_t hop_id = 0;  // fresh per transmission; the receiver echoes it in RouteAck
  // Random, set by the origin and kept across hops and retries, so a hop recognises a message it
  // has already handled (its RouteAck was lost) and does not handle it twice. 0: none.
  uint64_t msg_id = 0;
  NodeId key;
  NodeHandle origin;
  uint16_t hops = 0;
  // Join requests travel as routed messages: when set, the message is the join of `origin`
  // and `app` is null.
  bool join = false;
  AppMessagePtr app;
};
struct RouteAck {
  uint64_t hop_id = 0;
};

// A piece of one node's state sent to another: during a join (rows from each hop, the leaf set
// from the key's root, the neighborhood set from the bootstrap), in answer to a StateRequest, or
// unprompted (leaf set exchange between neighbours).
enum class StateKind : uint8_t { kRoutingRow = 0, kLeafSet = 1, kNeighborhood = 2 };
struct StateTransfer {
  StateKind kind = StateKind::kLeafSet;
  uint8_t row = 0;        // for kRoutingRow
  bool for_join = false;  // part of a join reply
  bool last = true;       // last chunk of this set
  std::vector<NodeHandle> nodes;
  // The sender's RTT to each node in µs, 0 when unmeasured; empty or nodes.size() long.
  std::vector<uint32_t> rtt_us;
};
inline constexpr uint32_t kMaxRttHintUs = 60'000'000;
struct StateRequest {
  StateKind kind = StateKind::kLeafSet;
  uint8_t row = 0;
};

// "I am here, consider me": sent by a node once it has joined, to every node in its state.
struct Announce {};

// Sent to every leaf set member on graceful shutdown: remove me now, don't wait for heartbeats.
struct Leave {};

// Periodic, unacknowledged "still alive" to leaf set members.
struct LeafHeartbeat {};

// A message for an application on this very node (send_direct), not routed.
struct DirectMsg {
  AppMessagePtr app;
};

using Message = std::variant<Ping, Pong, RouteMsg, RouteAck, StateTransfer, StateRequest, Announce,
                             Leave, LeafHeartbeat, DirectMsg>;

}  // namespace forestcast::overlay
