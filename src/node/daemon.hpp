#pragma once
// `forestcast node`: assembles identity, UDP runtime, admin API, logging and signal handling
// around one PastryNode, and runs them on one io_context thread (DESIGN.md §7).
#include "node/node_config.hpp"

namespace forestcast::node {

// Everything that can fail because of the configuration (key file, binding the UDP and admin
// sockets) is checked before the ring is started or joined, and throws ConfigError/NodeKeyError
// with one clear line. Returns the exit code: 0 after a signal-initiated leave, 1 when the
// join failed.
int run_node(const NodeConfig& config);

}  // namespace forestcast::node
