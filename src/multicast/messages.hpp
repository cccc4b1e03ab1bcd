#pragma once
// The multicast layer's messages (Scribe and SplitStream). Each is a plain body struct wrapped in
// one AppMessage class per type; in the simulator the object travels as is (a data packet is one
// shared object forwarded down the whole tree, never copied per hop), the UDP runtime encodes it
// as the protobuf of proto/multicast.proto and calls decode_message() on arrival, which checks
// every field and names the first thing wrong.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "overlay/app_message.hpp"
#include "overlay/node_handle.hpp"

namespace forestcast::multicast {

using overlay::NodeHandle;
using overlay::NodeId;

// PastryNode::register_app id of the multicast layer (one Application for Scribe + SplitStream).
inline constexpr uint16_t kMulticastAppId = 2;

// Bounds on everything a peer can make us store or walk.
inline constexpr size_t kMaxPathLength = 48;      // ids from a topic root down to a parent
inline constexpr size_t kMaxVisited = 64;         // anycast walk: members visited
inline constexpr uint32_t kMaxAnycastHops = 256;  // anycast walk: messages, backtracking included
inline constexpr size_t kMaxCandidates = 16;      // push-down siblings offered to an orphan
inline constexpr size_t kMaxAncestors = 3;        // handles above the parent in a path message
inline constexpr size_t kMaxRootChildren = 24;    // a root's children listed to its successors
inline constexpr size_t kMaxRefreshTopics = 128;  // topics refreshed in one message
inline constexpr size_t kMaxFetchMissing = 64;    // holes named in one FETCH
inline constexpr size_t kMaxPayloadBytes = 1300;  // data payload, under the 1400-byte datagram
inline constexpr size_t kMaxNameBytes = 200;
inline constexpr uint32_t kMaxStripes = 16;
inline constexpr size_t kPublicKeyBytes = 32;
inline constexpr size_t kSignatureBytes = 64;

enum class MsgType : uint16_t {
  kCreate = 1,       // routed to a topic: creator credentials
  kReplicate = 2,    // root -> replica set: the same credentials
  kJoin = 3,         // routed (Scribe JOIN) or direct (push-down, re-join)
  kAccept = 4,       // parent -> new child, with the parent's path to the root
  kHeartbeat = 5,    // parent -> child when no data went out for an interval; carries the path
  kRefuse = 6,       // parent -> refused or orphaned child, with push-down candidates
  kLeave = 7,        // child -> parent
  kRefresh = 8,      // child -> parent, low rate, all topics with that parent at once
  kData = 9,         // publisher -> root (routed first, then direct), parent -> children
  kRootAck = 10,     // root -> publisher: "I am the root and have your packets"
  kAnycast = 11,     // routed to the group's topic, then walked through its tree
  kAnycastFail = 12,  // last member of a walk -> requester
  kResume = 13,       // child -> new parent: the newest sequence it holds (gap repair)
  kFetch = 14         // viewer -> peer: packets of a stripe it misses (peer fetch)
};

struct CreateBody {
  NodeId topic;
  NodeId group;
  uint32_t stripe = 0;
  uint32_t stripes = 1;
  std::string name;
  std::array<uint8_t, kPublicKeyBytes> public_key{};
  uint64_t nonce = 0;
  std::array<uint8_t, kSignatureBytes> signature{};
  NodeId creator;  // node allowed to publish into the topic
};

struct JoinBody {
  NodeId topic;
  bool has_avoid = false;
  NodeId avoid{};  // the dead parent: it must not take the child back
  uint32_t pushdown_left = 0;
  // Set by a hop that could not adopt the joiner and passed the JOIN on: whom the next member
  // adopts (otherwise the previous hop).
  bool has_child = false;
  NodeHandle child{};
  // A control group (no data: adopting costs no upload, liveness at the slow interval).
  bool control = false;
  // The joiner's unused outdegree when it sent the JOIN (SplitStream; 0 for plain Scribe).
  uint32_t spare = 0;
  // Sent alongside a JOIN to a nearer ancestor (the orphan's grandparent): adopt only with room
  // to spare, never push a child down for it, and send no refusal (the joiner would not act on
  // it). Whichever ancestor accepts first keeps the joiner, the other gets its LEAVE.
  bool backup = false;
  // The newest sequence number the joiner holds of the topic (0: none, and always 0 in a control
  // group): whoever adopts it replays what it has after it at once, behind its ACCEPT, instead
  // of a round trip later when the RESUME arrives (gap repair, bounded by ReplayConfig).
  uint64_t have_seq = 0;
};

struct PathBody {  // kAccept and kHeartbeat
  NodeId topic;
  std::vector<NodeId> path;  // root first, the sender last
  // The sender's parent (the receiver's grandparent), where the receiver re-joins first if the
  // sender dies; absent at the root's children.
  bool has_parent = false;
  NodeHandle parent{};
  // The sender's ancestors above `parent`, nearest first (at most kMaxAncestors): where the
  // receiver re-joins when parent and grandparent died together (a quarter of the ring at once),
  // one round trip instead of a JOIN routed through dead hops.
  std::vector<NodeHandle> ancestors{};
  // The sender is cut off from the root (repairing, or below a node that is): `path` then ends
  // at the sender but starts at the repairing node, not at the root (see Scribe::on_path).
  bool detached = false;
};

struct RefuseBody {
  NodeId topic;
  std::vector<NodeHandle> candidates;
  uint32_t pushdown_left = 0;
};

struct TopicBody {  // kLeave, kAnycastFail
  NodeId topic;
};

struct RefreshBody {
  std::vector<NodeId> topics;
  uint32_t spare = 0;  // the child's unused outdegree (push-down targets, SplitStream)
};

struct DataBody {
  NodeId topic;
  uint64_t seq = 0;
  uint32_t stripe = 0;
  int64_t sent_at_us = 0;
  // Real bytes (the media layer) or null with only a size (the simulator's synthetic stream):
  // a 10,000-node simulation never allocates a payload per packet.
  std::shared_ptr<const std::string> payload{};
  uint32_t payload_size = 0;
  // Publisher -> the root's successor when the root went silent: whom the successor replaces.
  bool has_dead_root = false;
  NodeId dead_root{};
  // Replayed from a parent's stripe history to fill a child's gap (StripeHistory), not live.
  bool replayed = false;
};

struct ResumeBody {
  NodeId topic;
  uint64_t seq = 0;  // the newest sequence number the child holds
};

struct FetchBody {
  NodeId topic;
  uint64_t after = 0;             // every packet after this one (0: the whole history)
  std::vector<uint64_t> missing;  // and these holes below it
};

struct RootAckBody {
  NodeId topic;
  uint64_t seq = 0;
  bool not_root = false;  // "I am no longer the root: route again"
  bool has_successor = false;
  NodeHandle successor{};  // who takes over if this root dies
  // Root -> successors: the publisher feeding it, whom a successor that takes over tells at once.
  bool has_publisher = false;
  NodeHandle publisher{};
  // Root -> successors, when they changed (and once a refresh interval): its children, which the
  // successor that takes over adopts at once instead of waiting for their JOINs (root_failover.cpp).
  std::vector<NodeHandle> children{};
};

struct AnycastBody {
  NodeId topic;  // the group walked (SplitStream: the spare capacity group)
  NodeHandle requester;
  NodeId want;  // what the requester asks for (SplitStream: the stripe id)
  // Members already asked, each once, in the order first visited: the walk is depth-first over
  // the group's tree and a member passes it to its first unvisited child, else back to its
  // parent.
  std::vector<NodeId> visited;
  // Messages the walk took, backtracking and detours included: bounds a walk that stale lists
  // of children keep sending around.
  uint32_t hops = 0;
  // Set when a first walk covered the whole tree without an acceptor: the walk starts over and
  // the client may accept what it deferred the first time (SplitStream: foreign stripes).
  bool relaxed = false;
  // The requester's newest sequence number of `want` (0: none), as JoinBody::have_seq: the
  // member that adopts it replays from there.
  uint64_t have_seq = 0;
};

template <MsgType T, typename Body>
class Message final : public overlay::AppMessage {
 public:
  static constexpr MsgType kType = T;
  explicit Message(Body b) : body(std::move(b)) {}
  uint16_t app_id() const override { return kMulticastAppId; }
  uint16_t type() const override { return static_cast<uint16_t>(T); }
  void encode(std::string& out) const override;
  size_t encoded_size() const override;
  Body body;
};

using CreateMsg = Message<MsgType::kCreate, CreateBody>;
using ReplicateMsg = Message<MsgType::kReplicate, CreateBody>;
using JoinMsg = Message<MsgType::kJoin, JoinBody>;
using AcceptMsg = Message<MsgType::kAccept, PathBody>;
using HeartbeatMsg = Message<MsgType::kHeartbeat, PathBody>;
using RefuseMsg = Message<MsgType::kRefuse, RefuseBody>;
using LeaveMsg = Message<MsgType::kLeave, TopicBody>;
using RefreshMsg = Message<MsgType::kRefresh, RefreshBody>;
using DataMsg = Message<MsgType::kData, DataBody>;
using RootAckMsg = Message<MsgType::kRootAck, RootAckBody>;
using AnycastMsg = Message<MsgType::kAnycast, AnycastBody>;
using AnycastFailMsg = Message<MsgType::kAnycastFail, TopicBody>;
using ResumeMsg = Message<MsgType::kResume, ResumeBody>;
using FetchMsg = Message<MsgType::kFetch, FetchBody>;

// Why decode_message() refused a body. Counted per reason by the receiving core.
enum class DecodeError : uint8_t {
  kNone = 0,
  kUnknownType,
  kUnparsable,
  kBadId,
  kBadAddress,
  kTooMany,  // a list longer than its bound
  kBadStripe,
  kBadCredentials,  // wrong key/signature sizes, name too long, topic not derived from group
  kPayloadTooLarge,
  // A FETCH hole that is zero or above what it asks for in full; a have_seq on a control
  // group's JOIN (no data there) or at the top of the range (nothing can follow it).
  kBadSeq,
  kCount
};
const char* to_string(DecodeError e);

// Parses and validates one message body; null with `error` set on bad input.
overlay::AppMessagePtr decode_message(uint16_t type, std::string_view body, DecodeError& error);

// The exact bytes a creator signs for a topic: topic id, creator id and nonce.
std::string create_signed_bytes(const NodeId& topic, const NodeId& creator, uint64_t nonce);

}  // namespace forestcast::multicast
