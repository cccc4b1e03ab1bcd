#pragma once
#include "overlay/endpoint.hpp"
#include "overlay/node_id.hpp"

namespace forestcast::overlay {

// A node as others know it: its id and where to reach it.
struct NodeHandle {
  NodeId id;
  Endpoint endpoint;
  bool operator==(const NodeHandle&) const = default;
};

}  // namespace forestcast::overlay
