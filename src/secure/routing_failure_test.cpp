#include "secure/routing_failure_test.hpp"

#include <algorithm>

namespace forestcast::secure {

using overlay::NodeId;
using overlay::u128;

const char* to_string(FailureReason reason) {
  switch (reason) {
    case FailureReason::kNone:
      return "none";
    case FailureReason::kTooFew:
      return "too_few";
    case FailureReason::kNotClosest:
      return "not_closest";
    case FailureReason::kKnownCloser:
      return "known_closer";
    case FailureReason::kSparse:
      return "sparse";
  }
  return "unknown";
}

std::optional<long double> mean_spacing(std::vector<NodeId> ids) {
  std::sort(ids.begin(), ids.end(),
            [](const NodeId& a, const NodeId& b) { return a.value() < b.value(); });
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  if (ids.size() < 2) return std::nullopt;
  u128 largest_gap = ids.front().value() - ids.back().value();  // the wrap-around gap (mod 2^128)
  for (size_t k = 1; k < ids.size(); ++k)
    largest_gap = std::max(largest_gap, ids[k].value() - ids[k - 1].value());
  // The arc holding every id is the whole ring minus its largest gap: 2^128 - gap, computed as
  // (0 - gap) in 128-bit arithmetic (a single id per ring position keeps gap > 0).
  const u128 arc = u128{0} - largest_gap;
  return static_cast<long double>(arc) / static_cast<long double>(ids.size() - 1);
}

FailureVerdict routing_failure_test(const NodeId& key, const std::vector<NodeId>& own,
                                    const NodeId& root, const std::vector<NodeId>& members,
                                    const NodeId& known_closest, double gamma) {
  FailureVerdict v;
  std::vector<NodeId> claimed = members;
  claimed.push_back(root);
  std::sort(claimed.begin(), claimed.end(),
            [](const NodeId& a, const NodeId& b) { return a.value() < b.value(); });
  claimed.erase(std::unique(claimed.begin(), claimed.end()), claimed.end());
  if (claimed.size() < own.size()) {
    v.reason = FailureReason::kTooFew;
    return v;
  }
  for (const auto& m : claimed)
    if (key.closer(m, root)) {
      v.reason = FailureReason::kNotClosest;
      return v;
    }
  if (key.closer(known_closest, root)) {
    v.reason = FailureReason::kKnownCloser;
    return v;
  }
  const auto theirs = mean_spacing(claimed);
  const auto ours = mean_spacing(own);
  // A ring of one or two nodes has nothing to compare: the earlier checks are all there is.
  if (!theirs || !ours || *ours <= 0) return v;
  v.spacing_ratio = static_cast<double>(*theirs / *ours);
  if (v.spacing_ratio > gamma) v.reason = FailureReason::kSparse;
  return v;
}

}  // namespace forestcast::secure
