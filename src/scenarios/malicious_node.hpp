#pragma once
// Lying nodes for `forestcast sim --scenario routing --malicious F` (docs/security.md "Secure
// routing"). A malicious node runs the honest Pastry core (it joins, keeps its state, answers
// probes: that is how it stays in everyone's tables) and lies everywhere a lie pays:
//   - a lookup passing through it: it claims to be the key's root (answers it itself) or drops
//     it, by a coin per message;
//   - a secure lookup's Query or Relay: it answers with a fake replica set naming only colluders
//     (the ones closest to the key, the best lie they have), or drops it;
//   - every routing row, leaf set and neighbourhood set it sends names only colluders
//     (Simulator::set_tamper rewrites its StateTransfers).
// The colluders share one view (Colluders): every liar knows every other liar. They cannot
// invent ids: node ids are key-proven (docs/security.md), so they name real colluders only.
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "base/random.hpp"
#include "overlay/application.hpp"
#include "overlay/messages.hpp"
#include "overlay/overlay.hpp"
#include "scenarios/lookup_app.hpp"

namespace forestcast::sim {

// Every colluder's handle, sorted by id, for lies that look plausible.
class Colluders {
 public:
  void add(const overlay::NodeHandle& handle);
  bool empty() const { return sorted_.empty(); }
  size_t size() const { return sorted_.size(); }
  // Up to `count` colluders numerically closest to `key`, closest first.
  std::vector<overlay::NodeHandle> closest(const overlay::NodeId& key, size_t count) const;
  // For `receiver`'s routing row `row`: one colluder per column that fits the slot (shares
  // exactly `row` digits with the receiver), where there is one.
  std::vector<overlay::NodeHandle> row_for(const overlay::NodeId& receiver, int row) const;
  // What a colluder sends instead of `msg` (a StateTransfer naming colluders only), or nullopt
  // when it sends `msg` as is. `sender` and `receiver` are the two ends' ids.
  std::optional<overlay::Message> poison(const overlay::NodeId& sender,
                                         const overlay::NodeId& receiver,
                                         const overlay::Message& msg) const;

 private:
  std::vector<overlay::NodeHandle> sorted_;  // ascending id
};

struct MaliciousConfig {
  double answer_probability = 0.5;  // a message it should forward: answered, else dropped
  size_t reply_members = 16;        // colluders named in a fake secure Reply
};

// Sits on a malicious node under kLookupAppId: claims the root of every key it sees.
class MaliciousLookupApp final : public overlay::Application {
 public:
  MaliciousLookupApp(uint32_t node, LookupLog& log, MaliciousConfig config, uint64_t seed)
      : node_(node), log_(log), config_(config), rng_(seed) {}
  void forward(Time now, overlay::ForwardContext& ctx) override;
  void deliver(Time now, const overlay::RouteInfo& info,
               const overlay::AppMessagePtr& msg) override;
  overlay::AppMessagePtr decode(uint16_t type, std::string_view body) const override;

 private:
  uint32_t node_;
  LookupLog& log_;
  MaliciousConfig config_;
  Rng rng_;
};

// Sits on a malicious node under secure::kSecureLookupAppId or kNeighbourhoodGuardAppId (one
// instance each): every Query, Relay or Near it gets is answered with colluders only, or dropped.
class MaliciousSecureApp final : public overlay::Application {
 public:
  MaliciousSecureApp(uint16_t app_id, overlay::Overlay& overlay, const Colluders& colluders,
                     MaliciousConfig config, uint64_t seed)
      : app_id_(app_id), overlay_(overlay), colluders_(colluders), config_(config), rng_(seed) {}
  void forward(Time now, overlay::ForwardContext& ctx) override;
  void deliver(Time now, const overlay::RouteInfo& info,
               const overlay::AppMessagePtr& msg) override;
  void receive_direct(Time now, const overlay::NodeHandle& from,
                      const overlay::AppMessagePtr& msg) override;
  overlay::AppMessagePtr decode(uint16_t type, std::string_view body) const override;
  uint64_t lies() const { return lies_; }
  uint64_t drops() const { return drops_; }

 private:
  // Answers `to` for the Query or Relay in `msg` with a fake replica set (or drops it).
  void lie(Time now, const overlay::NodeHandle& to, const overlay::AppMessagePtr& msg,
           bool may_drop);

  uint16_t app_id_;
  overlay::Overlay& overlay_;
  const Colluders& colluders_;
  MaliciousConfig config_;
  Rng rng_;
  uint64_t lies_ = 0;
  uint64_t drops_ = 0;
};

}  // namespace forestcast::sim
