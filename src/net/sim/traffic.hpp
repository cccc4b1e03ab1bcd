#pragma once
// What each node's datagrams cost, per application: the forest's upload figures are bytes sent
// per node, and a stream's share of them is the bytes its application sent. Counted by the
// simulator on every send and every delivery (Simulator::traffic).
#include <array>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "overlay/messages.hpp"

namespace forestcast::sim {

struct TrafficCount {
  uint64_t sent_messages = 0;  // handed to the network, whether or not they arrive
  uint64_t sent_bytes = 0;
  uint64_t received_messages = 0;  // delivered to this (live) node
  uint64_t received_bytes = 0;

  TrafficCount& operator+=(const TrafficCount& o);
  bool operator==(const TrafficCount&) const = default;
};

// One node's traffic. A routed message carrying an application's message counts for that
// application at every hop (forwarding is the upload a routed stream costs); Pastry's own
// messages (joins, state transfer, probes, acks, heartbeats) count under `pastry`.
struct NodeTraffic {
  TrafficCount pastry;

  // Zero when this node never sent or received a message of app_id.
  TrafficCount app(uint16_t app_id) const;
  TrafficCount total() const;
  // The count `msg` belongs to, created on first use.
  TrafficCount& count_for(const overlay::Message& msg);

 private:
  // A node talks for a handful of applications: they live inside the node's record (no heap
  // block to miss in the cache on every send and delivery of a large run), in order of first
  // use; more than kInline spill into `more_`.
  static constexpr size_t kInline = 3;
  std::array<std::pair<uint16_t, TrafficCount>, kInline> inline_{};
  uint8_t inline_used_ = 0;
  std::vector<std::pair<uint16_t, TrafficCount>> more_;  // by app id, ascending
};

// The application a message belongs to, or nullopt for Pastry's own messages.
std::optional<uint16_t> app_id_of(const overlay::Message& msg);

// The size of wire::encode(sender, msg) computed without encoding: protobuf's field sizes for
// our Envelope (proto/forestcast.proto), with application bodies taken from
// AppMessage::encoded_size(). Exact as long as both agree with the codec; the simulator's
// check_wire_size mode encodes for real instead, and a test holds the two equal.
size_t estimated_wire_size(const overlay::Message& msg);

}  // namespace forestcast::sim
