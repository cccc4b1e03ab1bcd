// Scribe's periodic tick (part of class Scribe; see scribe.cpp): one timer per node every
// heartbeat interval sends the heartbeats data did not replace, refreshes parents, drops silent
// children, notices silent parents and retries joins with back-off.
#include <algorithm>
#include <map>

#include "multicast/scribe.hpp"

namespace forestcast::multicast {

namespace {

constexpr uint64_t kTickToken = 1;
constexpr uint64_t kDeadlineToken = 2;
constexpr uint64_t kRootWatchToken = 3;

Duration backoff(const ScribeConfig& c, int attempts) {
  Duration d = c.join_timeout;
  for (int i = 1; i < attempts && d < c.join_backoff_cap; ++i) d *= 2;
  return std::min(d, c.join_backoff_cap);
}

}  // namespace

void Scribe::arm_tick(Time now) {
  if (tick_armed_) return;
  tick_armed_ = true;
  // Spread nodes' ticks over the interval so heartbeats don't leave in bursts.
  const auto interval = config_.heartbeat_interval.count();
  const Duration first{
      interval > 0 ? static_cast<int64_t>(overlay_.random() % static_cast<uint64_t>(interval)) : 0};
  overlay_.schedule_app_timer(kMulticastAppId, now + first + Duration{1}, kTickToken);
}

void Scribe::on_timer(Time now, uint64_t token) {
  if (left_) return;
  if (token == kRootWatchToken) {
    root_watch_armed_ = false;
    on_root_watch(now);
    return;
  }
  if (token == kDeadlineToken) {
    if (deadline_at_ == now) deadline_at_.reset();
    check_deadlines(now);
    return;
  }
  if (token != kTickToken) return;
  tick_armed_ = false;
  const std::optional<Time> parent_deadline = tick(now);
  if (!topics_.empty() && !tick_armed_) {
    tick_armed_ = true;
    overlay_.schedule_app_timer(kMulticastAppId, now + config_.heartbeat_interval, kTickToken);
  }
  arm_deadline(now, parent_deadline);
}

Duration Scribe::parent_failure(const TopicState& t) const {
  return (t.slow ? config_.slow_heartbeat_interval : config_.heartbeat_interval) *
         config_.failure_intervals;
}

Duration Scribe::root_failure() const {
  return config_.root_watch_interval * config_.failure_intervals;
}

bool Scribe::holds_root(Time now, const TopicState& t) const {
  if (!t.root) return false;
  // Pastry may have learned of a closer node (or a JOIN was delivered here while routing was in
  // flux). A root we replaced that Pastry still routes to long after our take-over answered its
  // probe is alive: we step down below it, but not before takeover_hold.
  const auto hop = overlay_.next_hop(t.id);
  const bool hold =
      t.replaced && hop && *t.replaced == hop->id && now - t.replaced_at <= config_.takeover_hold;
  return !hop || hold;
}

void Scribe::arm_root_watch(Time now) {
  if (root_watch_armed_) return;
  root_watch_armed_ = true;
  overlay_.schedule_app_timer(kMulticastAppId, now + config_.root_watch_interval, kRootWatchToken);
}

void Scribe::on_root_watch(Time now) {
  // The roots' pings to their successors, at their own interval (the tick steps down a root
  // Pastry no longer routes to).
  bool any = false;
  for (auto& [id, t] : topics_) {
    if (!t.root) continue;
    any = true;
    if (holds_root(now, t)) ping_successor(now, t);
  }
  if (any) arm_root_watch(now);
}

bool Scribe::parent_silent(const TopicState& t, Time now) const {
  return !t.source && t.parent && now - t.last_from_parent > parent_failure(t);
}

void Scribe::arm_deadline(Time now, std::optional<Time> parent_deadline) {
  // A parent's or a watched root's failure timeout that ends before the next tick gets a timer
  // of its own: acted on at the tick, a death is noticed up to a whole interval late, which is a
  // fifth of a 500 ms playout (the real-process video test lost frames to it on a slow box). In
  // steady state data or pings arrive every interval, so no timeout ends within the next one and
  // nothing is armed. The parents' deadlines come from the tick's own pass over the topics.
  const Time horizon = now + config_.heartbeat_interval;
  std::optional<Time> first;
  auto consider = [&](Time at) {
    if (at > now && at < horizon && (!first || at < *first)) first = at;
  };
  if (parent_deadline) consider(*parent_deadline);
  for (const auto& [id, w] : watches_)
    if (w.heard) consider(*w.heard + root_failure() + Duration{1});
  if (!first || (deadline_at_ && *deadline_at_ > now && *deadline_at_ <= *first)) return;
  deadline_at_ = first;
  overlay_.schedule_app_timer(kMulticastAppId, *first, kDeadlineToken);
}

void Scribe::check_deadlines(Time now) {
  // The tick's first branch and check_watches' take-over, without the rest of the tick. Ids
  // first: repairing can deliver a JOIN to ourselves, which inserts into topics_.
  std::vector<NodeId> silent;
  for (const auto& [id, t] : topics_)
    if (parent_silent(t, now)) silent.push_back(id);
  for (const NodeId& id : silent) {
    TopicState* t = topic(id);
    if (t == nullptr || !t->parent) continue;
    ++counters_.parents_lost_at_deadline;
    lose_parent(now, *t, true);
  }
  silent.clear();
  for (const auto& [id, w] : watches_)
    if (root_silent(now, id)) silent.push_back(id);
  for (const NodeId& id : silent) take_over_if_evident(now, id);
}

std::optional<Time> Scribe::tick(Time now) {
  const Duration expiry = config_.refresh_interval * config_.refresh_misses;
  // Pointers, not ids: elements of an unordered_map keep their address when others are inserted
  // (a JOIN delivered to ourselves during the loop), and nothing in the loop erases one, so each
  // topic is looked up once per tick instead of twice (the lookups were 6 % of a 1,000-node run).
  std::vector<TopicState*> ts;
  ts.reserve(topics_.size());
  for (auto& [id, t] : topics_) ts.push_back(&t);
  std::vector<NodeId> prune;
  std::optional<Time> parent_deadline;
  for (TopicState* t : ts) {
    const NodeId& id = t->id;
    if (t->source) {
      // The publisher's own stripe: it is the data, it joins nothing.
    } else if (parent_silent(*t, now)) {
      lose_parent(now, *t, true);
    } else if (t->parent && t->cut_off && t->cut_off_since &&
               now - *t->cut_off_since > config_.cut_off_grace) {
      // The parent did not get back to the root in time: repair around it, and free its slot.
      ++counters_.cut_off_leaves;
      send(now, *t->parent, std::make_shared<const LeaveMsg>(TopicBody{id}));
      lose_parent(now, *t, false);
    } else if (!t->root && !t->parent && t->walk_sent && t->avoid &&
               now - *t->walk_sent > config_.walk_timeout) {
      // Repairing around a lost parent (`avoid`: members of the group died with it), and no
      // ACCEPT or ANYCAST_FAIL came: the walk most likely died with a member it was passed to.
      // (While the forest forms nobody dies, and a walk of a tight forest's group may take 1-2 s
      // of network time: it is not timed out.) Once the re-issues are spent, the join back-off
      // takes over as before.
      ++counters_.anycasts_lost;
      if (t->walk_reissues < config_.walk_reissues) {
        ++t->walk_reissues;
        send_anycast(now, t->walk_group, id, t->walk_single_pass);
      } else {
        t->walk_sent.reset();
      }
    } else if (!t->root && !t->parent && t->joining && t->join_target && t->avoid &&
               now - t->join_sent > config_.ancestor_timeout) {
      // Repairing, and the node asked directly (an ancestor, a push-down candidate) did not
      // answer: the next ancestor, or a routed JOIN when none is left.
      t->note(now, 'T');
      t->note_unanswered(*t->join_target);
      next_repair_attempt(now, *t);
    } else if (!t->root && !t->parent && t->joining &&
               now - t->join_sent > (t->join_target ? config_.join_timeout
                                                    : backoff(config_, t->join_attempts))) {
      // A direct JOIN (a push-down candidate) unanswered for the join timeout: no back-off, the
      // next attempt goes elsewhere, and the silent node is not taken again from a refusal.
      t->note(now, 'O');
      if (t->join_target) t->note_unanswered(*t->join_target);
      if (t->join_target && !t->fallbacks.empty()) {
        next_repair_attempt(now, *t);  // the ancestor asked did not answer: the next one
      } else {
        ++t->join_attempts;
        route_join(now, *t);
      }
    } else if (!t->root && !t->parent && !t->joining && (t->member || !t->children.empty())) {
      route_join(now, *t);  // detached without a pending attempt (e.g. after a cycle)
    }
    // No longer the root: hang our tree below the real root instead of starving it. (Roots
    // ping their successors at their own interval: on_root_watch.)
    if (t->root && !holds_root(now, *t)) step_down(now, *t);
    bool changed = false;
    for (size_t i = 0; i < t->children.size();) {
      if (now - t->children[i].last_refresh > expiry) {
        ++counters_.children_expired;
        t->children.erase(t->children.begin() + static_cast<std::ptrdiff_t>(i));
        changed = true;
      } else {
        ++i;
      }
    }
    if (changed && client_) client_->children_changed(now, *t);
    overlay::AppMessagePtr hb;
    const Duration interval =
        t->slow ? config_.slow_heartbeat_interval : config_.heartbeat_interval;
    for (Child& c : t->children) {
      if (now - c.last_sent < interval) continue;
      if (!hb) {
        PathBody p = path_for_children(*t);
        hb = std::make_shared<const HeartbeatMsg>(std::move(p));
      }
      c.last_sent = now;
      ++counters_.heartbeats_sent;
      send(now, c.node, hb);
    }
    hand_over_control_children(now, *t);  // left while it had no parent to hand them to
    if (!t->source && t->parent) {
      const Time at = t->last_from_parent + parent_failure(*t) + Duration{1};
      if (!parent_deadline || at < *parent_deadline) parent_deadline = at;
    }
    if (!t->member && !t->root && !t->source && t->children.empty()) prune.push_back(id);
  }
  for (const NodeId& id : prune) {
    TopicState* t = topic(id);
    if (t->parent && !t->left_parent)
      send(now, *t->parent, std::make_shared<const LeaveMsg>(TopicBody{id}));
    topics_.erase(id);
  }
  if (now >= next_refresh_) {
    next_refresh_ = now + config_.refresh_interval;
    std::map<NodeId, std::pair<NodeHandle, std::vector<NodeId>>> by_parent;
    for (const auto& [id, t] : topics_)
      if (t.parent) {
        auto& e = by_parent[t.parent->id];
        e.first = *t.parent;
        e.second.push_back(id);
      }
    for (auto& [pid, e] : by_parent) {
      std::sort(e.second.begin(), e.second.end());
      for (size_t i = 0; i < e.second.size(); i += kMaxRefreshTopics) {
        RefreshBody r;
        if (client_) r.spare = client_->spare();
        r.topics.assign(e.second.begin() + static_cast<std::ptrdiff_t>(i),
                        e.second.begin() + static_cast<std::ptrdiff_t>(
                                               std::min(e.second.size(), i + kMaxRefreshTopics)));
        send(now, e.first, std::make_shared<const RefreshMsg>(std::move(r)));
      }
    }
  }
  send_replays(now);
  check_watches(now);
  if (client_) client_->on_tick(now);
  return parent_deadline;
}

}  // namespace forestcast::multicast
