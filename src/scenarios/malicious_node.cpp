#include "scenarios/malicious_node.hpp"

#include <algorithm>

#include "secure/secure_messages.hpp"

namespace forestcast::sim {

using overlay::NodeHandle;
using overlay::NodeId;
using overlay::u128;

namespace {

bool by_id(const NodeHandle& a, const NodeHandle& b) { return a.id.value() < b.id.value(); }

}  // namespace

void Colluders::add(const NodeHandle& handle) {
  sorted_.insert(std::upper_bound(sorted_.begin(), sorted_.end(), handle, by_id), handle);
}

std::vector<NodeHandle> Colluders::closest(const NodeId& key, size_t count) const {
  std::vector<NodeHandle> out;
  if (sorted_.empty()) return out;
  count = std::min(count, sorted_.size());
  // The closest lie within `count` places on either side of the key's position (wrapping).
  const auto at = std::lower_bound(sorted_.begin(), sorted_.end(), NodeHandle{key, {}}, by_id);
  const size_t n = sorted_.size();
  const size_t start = static_cast<size_t>(at - sorted_.begin());
  for (size_t k = 0; k < std::min(n, 2 * count); ++k)
    out.push_back(sorted_[(start + n - count + k) % n]);
  std::sort(out.begin(), out.end(),
            [&](const NodeHandle& a, const NodeHandle& b) { return key.closer(a.id, b.id); });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  out.resize(std::min(out.size(), count));
  return out;
}

std::vector<NodeHandle> Colluders::row_for(const NodeId& receiver, int row) const {
  std::vector<NodeHandle> out;
  if (row < 0 || row >= NodeId::kDigits) return out;
  const int low_bits = NodeId::kBits - NodeId::kDigitBits * (row + 1);
  const u128 prefix_mask =
      row == 0 ? u128{0} : ~u128{0} << (NodeId::kBits - NodeId::kDigitBits * row);
  for (int d = 0; d < NodeId::kBase; ++d) {
    if (d == receiver.digit(row)) continue;
    const u128 lo = (receiver.value() & prefix_mask) | (u128(d) << low_bits);
    const u128 hi = lo | ((u128{1} << low_bits) - 1);
    const auto it =
        std::lower_bound(sorted_.begin(), sorted_.end(), NodeHandle{NodeId(lo), {}}, by_id);
    if (it != sorted_.end() && it->id.value() <= hi) out.push_back(*it);
  }
  return out;
}

std::optional<overlay::Message> Colluders::poison(const NodeId& sender, const NodeId& receiver,
                                                  const overlay::Message& msg) const {
  const auto* st = std::get_if<overlay::StateTransfer>(&msg);
  if (st == nullptr) return std::nullopt;
  overlay::StateTransfer lie = *st;
  lie.rtt_us.clear();
  switch (st->kind) {
    case overlay::StateKind::kRoutingRow:
      lie.nodes = row_for(receiver, st->row);
      break;
    case overlay::StateKind::kLeafSet:
      // A plausible leaf set: the colluders around the sender itself.
      lie.nodes = closest(sender, st->nodes.size() + 1);
      break;
    case overlay::StateKind::kNeighborhood:
      lie.nodes = closest(receiver, st->nodes.size());
      break;
  }
  std::erase_if(lie.nodes, [&](const NodeHandle& h) { return h.id == sender || h.id == receiver; });
  if (lie.nodes.size() > overlay::kMaxHandlesPerMessage)
    lie.nodes.resize(overlay::kMaxHandlesPerMessage);
  return lie;
}

// --- plain lookups ---------------------------------------------------------------------------

void MaliciousLookupApp::forward(Time now, overlay::ForwardContext& ctx) {
  if (!ctx.message || ctx.message->type() != LookupMessage::kType) return;
  ctx.consumed = true;
  if (!rng_.chance(config_.answer_probability)) return;  // dropped
  // "I am the root": the lookup ends here, as if delivered to the right node.
  log_.delivered(static_cast<const LookupMessage&>(*ctx.message).index(), node_, now, ctx.hops);
}

void MaliciousLookupApp::deliver(Time now, const overlay::RouteInfo& info,
                                 const overlay::AppMessagePtr& msg) {
  if (msg->type() != LookupMessage::kType) return;
  log_.delivered(static_cast<const LookupMessage&>(*msg).index(), node_, now, info.hops);
}

overlay::AppMessagePtr MaliciousLookupApp::decode(uint16_t type, std::string_view body) const {
  return LookupApp(node_, log_).decode(type, body);
}

// --- secure lookups --------------------------------------------------------------------------

void MaliciousSecureApp::lie(Time now, const NodeHandle& to, const overlay::AppMessagePtr& msg,
                             bool may_drop) {
  const auto& q = static_cast<const secure::SecureQuery&>(*msg);
  if (may_drop && !rng_.chance(config_.answer_probability)) {
    ++drops_;
    return;
  }
  ++lies_;
  // The best lie: the colluder closest to the key as its root, the next ones as its leaf set.
  std::vector<NodeHandle> named = colluders_.closest(q.key(), config_.reply_members + 1);
  if (named.empty()) named.push_back(overlay_.self());
  const NodeHandle root = named.front();
  named.erase(named.begin());
  overlay_.send_direct(now, to,
                       std::make_shared<secure::SecureReply>(q.lookup_id(), q.copy(), root,
                                                             std::move(named), app_id_));
}

void MaliciousSecureApp::forward(Time now, overlay::ForwardContext& ctx) {
  if (ctx.origin.id == overlay_.self().id && ctx.hops == 0) return;
  if (!ctx.message || ctx.message->type() != static_cast<uint16_t>(secure::SecureType::kQuery))
    return;
  ctx.consumed = true;
  lie(now, ctx.origin, ctx.message, true);
}

void MaliciousSecureApp::deliver(Time now, const overlay::RouteInfo& info,
                                 const overlay::AppMessagePtr& msg) {
  // The true root, and a liar still: it names colluders instead of its real leaf set.
  if (msg->type() == static_cast<uint16_t>(secure::SecureType::kQuery))
    lie(now, info.origin, msg, false);
}

void MaliciousSecureApp::receive_direct(Time now, const NodeHandle& from,
                                        const overlay::AppMessagePtr& msg) {
  // Asked to relay a copy, or which nodes it knows near a key: colluders, or silence.
  const auto type = static_cast<secure::SecureType>(msg->type());
  if (type == secure::SecureType::kRelay || type == secure::SecureType::kNear)
    lie(now, from, msg, true);
}

overlay::AppMessagePtr MaliciousSecureApp::decode(uint16_t type, std::string_view body) const {
  return secure::decode_secure(app_id_, type, body);
}

}  // namespace forestcast::sim
