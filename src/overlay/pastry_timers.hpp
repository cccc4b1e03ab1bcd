#pragma once
// Every timer a Pastry node arms, one type each, so a timer carries exactly what its handler
// needs. PastryNode keeps them in one TimerQueue<PastryTimer> and dispatches on the type.
#include <cstdint>
#include <variant>

#include "base/time.hpp"
#include "overlay/app_message.hpp"
#include "overlay/node_id.hpp"

namespace forestcast::overlay {

// Periodic maintenance (maintenance.hpp), re-armed by its own handler.
struct HeartbeatTimer {};
struct LeafsetExchangeTimer {};
struct RoutingMaintenanceTimer {};
// The next proximity round after a join; `interval` doubles each round.
struct ProximityRoundTimer {
  Duration interval{0};
};
// A routed hop that has not been acknowledged (router.hpp).
struct AckTimeout {
  uint64_t hop_id = 0;
};
// A probe that has not been answered (peer_tracker.hpp); stale when the nonce moved on.
struct ProbeTimeout {
  NodeId node;
  uint64_t nonce = 0;
};
// One join attempt waiting for the root's leaf set (joiner.hpp).
struct JoinTimeout {
  int attempt = 0;
};
// An application's timer (Overlay::schedule_app_timer).
struct AppTimer {
  uint16_t app = 0;
  uint64_t token = 0;
};

// A send_direct() to this node itself, delivered to the application from the timer queue (never
// inside the caller's stack, never through the network, which drops datagrams claiming our id).
struct LocalDirect {
  AppMessagePtr msg;
};

using PastryTimer =
    std::variant<HeartbeatTimer, LeafsetExchangeTimer, RoutingMaintenanceTimer, ProximityRoundTimer,
                 AckTimeout, ProbeTimeout, JoinTimeout, AppTimer, LocalDirect>;

}  // namespace forestcast::overlay
