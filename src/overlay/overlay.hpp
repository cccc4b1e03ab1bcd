#pragma once
// What an application (Scribe, SplitStream, lookups) may ask of the overlay beneath it. Pastry
// implements it (PastryNode); unit tests of an application implement it with a fake that
// records what the application did. Applications hear back through overlay/application.hpp.
#include <cstdint>
#include <optional>
#include <vector>

#include "base/time.hpp"
#include "base/timer_queue.hpp"
#include "overlay/app_message.hpp"
#include "overlay/node_handle.hpp"

namespace forestcast::overlay {

class Overlay {
 public:
  virtual ~Overlay() = default;

  virtual const NodeHandle& self() const = 0;
  // Joined (or started) the ring: route() reaches the key's root.
  virtual bool active() const = 0;

  // Routes `msg` toward `key`: forward() runs at every hop, deliver() at the live node
  // numerically closest to the key. Acknowledged hop by hop; never delivered twice.
  virtual void route(Time now, const NodeId& key, AppMessagePtr msg) = 0;
  // One unacknowledged datagram to `to` (receive_direct() there). May be lost.
  virtual void send_direct(Time now, const NodeHandle& to, AppMessagePtr msg) = 0;

  // A timer for application `app_id` (its on_timer(now, token) runs at `at`). An application
  // can cancel only its own timers.
  virtual TimerId schedule_app_timer(uint16_t app_id, Time at, uint64_t token) = 0;
  virtual void cancel_app_timer(uint16_t app_id, TimerId id) = 0;

  // The k live nodes numerically closest to `key` among those this node knows (itself
  // included), closest first: where to replicate state that belongs to the key's root.
  virtual std::vector<NodeHandle> replica_set(const NodeId& key, size_t k) const = 0;
  // The routing decision for `key` right now: the next hop, or nullopt when this node is the
  // key's root as far as it knows.
  virtual std::optional<NodeHandle> next_hop(const NodeId& key) const = 0;

  // Asks Pastry to probe `node` (an application suspects it, e.g. a silent parent). If it does
  // not answer, node_dead() follows for every application.
  virtual void check_alive(Time now, const NodeHandle& node) = 0;

  // This node's random stream (seeded by its driver, so simulations replay exactly).
  virtual uint64_t random() = 0;
};

}  // namespace forestcast::overlay
