#pragma once
// The routing failure test (Castro et al., "Secure routing for structured peer-to-peer overlay
// networks", OSDI 2002, §5.1): node ids are uniform, so the claimed root's leaf set must be about
// as dense in id space as our own. Colluders that answer for a key they do not own can only name
// each other, and a fraction f of the ring is 1/f times sparser than the whole ring: their
// "replica set" fails the density test. Pure functions: no state, no I/O.
#include <cstddef>
#include <optional>
#include <vector>

#include "overlay/node_handle.hpp"

namespace forestcast::secure {

enum class FailureReason {
  kNone,         // the claim passed every check
  kTooFew,       // fewer ids than our own leaf set holds: not a full leaf set
  kNotClosest,   // a member the claim itself names is closer to the key than the claimed root
  kKnownCloser,  // we know a node closer to the key than the claimed root
  kSparse,       // mean spacing above gamma times our own
};

const char* to_string(FailureReason reason);

struct FailureVerdict {
  FailureReason reason = FailureReason::kNone;
  // Mean id spacing of the claim divided by our own (0 when not computed).
  double spacing_ratio = 0;
  bool passed() const { return reason == FailureReason::kNone; }
};

// Mean distance between neighbouring ids of a set that lies on one arc of the ring (a leaf set
// and its owner): the arc's length over (n - 1). The arc is the ring minus the largest gap.
// nullopt with fewer than 2 distinct ids.
std::optional<long double> mean_spacing(std::vector<overlay::NodeId> ids);

// `own`: this node and its leaf set. `root` and `members`: the claimed root and its claimed leaf
// set. `known_closest`: the node closest to the key that this node knows of (itself included).
FailureVerdict routing_failure_test(const overlay::NodeId& key,
                                    const std::vector<overlay::NodeId>& own,
                                    const overlay::NodeId& root,
                                    const std::vector<overlay::NodeId>& members,
                                    const overlay::NodeId& known_closest, double gamma);

}  // namespace forestcast::secure
