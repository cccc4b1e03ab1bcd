#include "multicast/scribe.hpp"

#include <algorithm>

namespace forestcast::multicast {

namespace {

template <typename M>
const M& as(const overlay::AppMessagePtr& msg) {
  return static_cast<const M&>(*msg);
}

bool contains(const std::vector<NodeId>& ids, const NodeId& id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

bool TopicState::has_child(const NodeId& node) const {
  return std::any_of(children.begin(), children.end(),
                     [&](const Child& c) { return c.node.id == node; });
}

Scribe::Scribe(overlay::Overlay& overlay, ScribeConfig config, Credentials& credentials)
    : overlay_(overlay), config_(config), credentials_(credentials) {}

TopicState* Scribe::topic(const NodeId& id) { return topics_.find(id); }

const TopicState* Scribe::topic(const NodeId& id) const { return topics_.find(id); }

TopicState* Scribe::ensure_topic(Time now, const NodeId& id) {
  if (TopicState* t = topic(id)) return t;
  if (topics_.size() >= config_.max_topics) {
    ++counters_.topics_refused;
    return nullptr;
  }
  TopicState& t = topics_[id];
  t.id = id;
  arm_tick(now);
  return &t;
}

void Scribe::send(Time now, const NodeHandle& to, overlay::AppMessagePtr msg) {
  if (msg->type() != static_cast<uint16_t>(MsgType::kData)) ++counters_.control_sent;
  overlay_.send_direct(now, to, std::move(msg));
}

PathBody Scribe::path_for_children(const TopicState& t) const {
  PathBody p{t.id, t.path};
  p.path.push_back(self().id);
  if (t.parent) {
    p.has_parent = true;
    p.parent = *t.parent;
    // Further up, for children whose parent and grandparent (we and our parent) die together.
    if (t.grandparent) p.ancestors.push_back(*t.grandparent);
    for (const NodeHandle& h : t.elders) {
      if (p.ancestors.size() >= kMaxAncestors) break;
      p.ancestors.push_back(h);
    }
  } else if (t.root && t.meta) {
    // The root's children re-join at its successor first if it dies (root_failover.cpp).
    if (auto s = successor(t.id)) {
      p.has_parent = true;
      p.parent = *s;
    }
  }
  // A node looking for a parent has an empty path, exactly like a root: say which it is.
  p.detached = (!t.attached || t.cut_off) && !t.root && !t.source;
  return p;
}

// --- local commands ---------------------------------------------------------------------------

void Scribe::create(Time now, const CreateBody& credentials) {
  ++counters_.control_sent;
  overlay_.route(now, credentials.topic, std::make_shared<const CreateMsg>(credentials));
}

void Scribe::subscribe(Time now, const NodeId& id, bool control) {
  TopicState* t = ensure_topic(now, id);
  if (t == nullptr) return;
  t->member = true;
  t->slow = t->slow || control;
  if (t->left_parent) {  // our parent has dropped us already: join afresh
    t->left_parent = false;
    t->parent.reset();
    t->attached = false;
    t->path.clear();
  }
  if (t->root || t->parent || t->joining) return;
  route_join(now, *t);
}

void Scribe::unsubscribe(Time now, const NodeId& id) {
  TopicState* t = topic(id);
  if (t == nullptr) return;
  t->member = false;  // pruned by the next tick when childless
  hand_over_control_children(now, *t);
  // A leaf of a control group (SplitStream's SCGs, left the moment a budget fills) leaves its
  // parent now: until the tick pruned it, the parent kept listing it and anycast walks spent
  // two of their visits on it, there and back (1,000 nodes tight: walks ran out of visits in
  // SCG trees of non-members). Not detached from the walk's point of view: one passing by
  // still backtracks to `parent`, but JOINs and new walks are passed on.
  if (t->slow && t->children.empty() && t->parent && !t->root && !t->source && !t->left_parent) {
    send(now, *t->parent, std::make_shared<const LeaveMsg>(TopicBody{id}));
    t->left_parent = true;
    t->attached = false;
  }
}

void Scribe::route_join(Time now, TopicState& t) {
  JoinBody j;
  j.topic = t.id;
  j.control = t.slow;
  // Spare outdegree is announced only after a failed attempt: then it is what lets a full
  // node keep us (see SplitStream::admit); on a first JOIN it would only displace others.
  if (client_ && !t.slow && t.join_attempts >= 2) j.spare = client_->spare();
  j.have_seq = held_seq(t);
  if (t.avoid) {
    j.has_avoid = true;
    j.avoid = *t.avoid;
  }
  t.joining = true;
  t.join_sent = now;
  t.join_target.reset();
  t.walk_sent.reset();
  t.note(now, 'R');
  ++counters_.joins_routed;
  ++counters_.control_sent;
  overlay_.route(now, t.id, std::make_shared<const JoinMsg>(std::move(j)));
}

void Scribe::join_via(Time now, const NodeId& id, const NodeHandle& node, uint32_t pushdown_left) {
  TopicState* t = topic(id);
  if (t == nullptr) return;
  t->joining = true;
  t->join_sent = now;
  t->join_target = node.id;
  t->pushdown_left_sent = pushdown_left;
  t->walk_sent.reset();
  t->note(now, 'J');
  ++counters_.joins_direct;
  JoinBody j;
  j.topic = id;
  j.control = t->slow;
  if (t->avoid) {
    j.has_avoid = true;
    j.avoid = *t->avoid;
  }
  // Direct JOINs (push-down, re-joins) always say what we could offer: the receiver may be
  // looking for a node able to adopt (SplitStream's delegate of a pure-leaf stripe root).
  if (client_ && !t->slow) j.spare = client_->spare();
  j.pushdown_left = pushdown_left;
  j.have_seq = held_seq(*t);
  send(now, node, std::make_shared<const JoinMsg>(std::move(j)));
}

void Scribe::rejoin(Time now, const NodeId& id) {
  TopicState* t = topic(id);
  if (t == nullptr || t->root) return;
  t->parent.reset();
  t->cut_off_since.reset();
  detach(now, *t);
  route_join(now, *t);
}

void Scribe::adopt(Time now, TopicState& t, const NodeHandle& child, uint64_t have_seq) {
  for (Child& c : t.children)
    if (c.node.id == child.id) {
      c.last_refresh = now;
      return;
    }
  t.children.push_back(Child{child, now, now, now});
  ++counters_.children_adopted;
  PathBody p = path_for_children(t);
  send(now, child, std::make_shared<const AcceptMsg>(std::move(p)));
  if (have_seq != 0) replay_on_adopt(now, t, t.children.back(), have_seq);
  if (client_) client_->children_changed(now, t);
}

void Scribe::orphan(Time now, TopicState& t, const NodeId& child, uint32_t pushdown_left,
                    const NodeHandle* first) {
  auto it = std::find_if(t.children.begin(), t.children.end(),
                         [&](const Child& c) { return c.node.id == child; });
  if (it == t.children.end()) return;
  const NodeHandle node = it->node;
  t.children.erase(it);
  RefuseBody r{t.id, {}, pushdown_left};
  if (first != nullptr) r.candidates.push_back(*first);
  if (client_)
    for (const NodeHandle& h : client_->refusal_candidates(t, child))
      if (first == nullptr || h.id != first->id) r.candidates.push_back(h);
  if (r.candidates.size() > kMaxCandidates) r.candidates.resize(kMaxCandidates);
  send(now, node, std::make_shared<const RefuseMsg>(std::move(r)));
  if (client_) client_->children_changed(now, t);
}

void Scribe::remove_child(Time now, TopicState& t, const NodeId& child) {
  auto it = std::find_if(t.children.begin(), t.children.end(),
                         [&](const Child& c) { return c.node.id == child; });
  if (it == t.children.end()) return;
  t.children.erase(it);
  if (client_) client_->children_changed(now, t);
}

// --- joins ------------------------------------------------------------------------------------

bool Scribe::would_cycle(const TopicState& t, const NodeId& child) const {
  // Adopting an ancestor closes a loop: the path lists every ancestor up to the root.
  return child == self().id || contains(t.path, child);
}

void Scribe::refuse(Time now, TopicState& t, const NodeHandle& child,
                    uint32_t pushdown_left) {
  ++counters_.children_refused;
  RefuseBody r{t.id, {}, pushdown_left};
  if (client_) r.candidates = client_->refusal_candidates(t, child.id);
  if (r.candidates.size() > kMaxCandidates) r.candidates.resize(kMaxCandidates);
  send(now, child, std::make_shared<const RefuseMsg>(std::move(r)));
}

bool Scribe::backup_join_here(Time now, TopicState* t, const NodeHandle& child,
                              const JoinBody& j) {
  // Room to spare only: a push-down here would orphan a live child for a joiner that is likely
  // adopted by its grandparent anyway. No refusal: the joiner waits for the grandparent.
  const bool room = t != nullptr && t->attached && !t->cut_off && !t->source && !t->slow &&
                    (client_ == nullptr || client_->spare() > 0);
  if (!room || child.id == self().id || would_cycle(*t, child.id) ||
      (!t->has_child(child.id) && client_ && !client_->admit(now, *t, child, j.spare))) {
    ++counters_.backup_joins_declined;
    return false;
  }
  adopt(now, *t, child, j.have_seq);
  return true;
}

bool Scribe::handle_join_here(Time now, TopicState& t, const NodeHandle& child,
                              uint32_t child_spare, uint32_t pushdown_left, uint64_t have_seq) {
  if (child.id == self().id) return false;
  if (t.has_child(child.id)) {
    adopt(now, t, child);  // refresh only
    // Our ACCEPT may have been lost: say it again.
    PathBody p = path_for_children(t);
    send(now, child, std::make_shared<const AcceptMsg>(std::move(p)));
    return true;
  }
  if (would_cycle(t, child.id) || (client_ && !client_->admit(now, t, child, child_spare))) {
    refuse(now, t, child, pushdown_left);
    return false;
  }
  adopt(now, t, child, have_seq);
  if (t.children.back().node.id == child.id) t.children.back().spare = child_spare;
  return true;
}

void Scribe::forward(Time now, overlay::ForwardContext& ctx) {
  if (left_) return;  // routing goes on through us until Pastry's leave is known; we take nothing
  if (!ctx.message || ctx.previous_hop.id == self().id) return;  // our own message leaving
  const auto type = static_cast<MsgType>(ctx.message->type());
  if (type == MsgType::kAnycast) {
    const auto& a = as<AnycastMsg>(ctx.message).body;
    const TopicState* g = topic(a.topic);
    if (g != nullptr && (g->attached || g->root)) {  // a node in the group's tree starts the walk
      ctx.consumed = true;
      walk_anycast(now, a);
    }
    return;
  }
  if (type == MsgType::kData && ctx.next_hop) {
    // The publisher routing again after its root went silent, through us who took over from
    // that root (Pastry still routes toward it until its probe fails): it stops here.
    const auto d = std::static_pointer_cast<const DataMsg>(ctx.message);
    const TopicState* t = topic(d->body.topic);
    if (t != nullptr && t->root && t->replaced && *t->replaced == ctx.next_hop->id) {
      ctx.consumed = true;
      on_publisher_data(now, ctx.origin, d);
    }
    return;
  }
  if (type != MsgType::kJoin || !ctx.next_hop) return;  // the root handles it in deliver()
  const auto& j = as<JoinMsg>(ctx.message).body;
  const NodeHandle child = j.has_child ? j.child : ctx.previous_hop;
  if (j.has_avoid && ctx.next_hop->id == j.avoid && !ctx.reroute)
    overlay_.check_alive(now, *ctx.next_hop);  // a silent hop is routed around on its timeout
  // Lets the JOIN go on past this hop naming its joiner, so a later hop adopts the joiner, not us.
  auto pass_on = [&] {
    if (j.has_child) return;
    JoinBody pass = j;
    pass.has_child = true;
    pass.child = child;
    ctx.message = std::make_shared<const JoinMsg>(std::move(pass));
  };
  if (j.has_avoid && j.avoid == self().id) {
    pass_on();  // the node a re-joining child left must not take it back
    return;
  }
  if (j.control) {
    // A control group's tree is made of members (hand_over_control_children): a JOIN passes
    // every other node on its way, and the first member or the root takes it.
    const TopicState* t = topic(j.topic);
    if (t == nullptr || (!t->member && !t->root)) {
      pass_on();
      return;
    }
  }
  if (TopicState* t = topic(j.topic); t != nullptr && t->source) {
    // The publisher is not a routing stop of its own trees: its outdegree is kept for the
    // joiners a stripe root with no room sends it directly.
    pass_on();
    return;
  }
  if (TopicState* t = topic(j.topic)) {
    // A member cut off from the root (repairing after losing its parent, or below a node that
    // is) would only hang the joiner on a branch no data reaches: the JOIN goes on toward the
    // root. A first-time joiner (a fresh forwarder) still takes it, as Scribe does: its own JOIN
    // is on its way and usually attached within a round trip.
    if (!t->attached && !t->root && (t->join_attempts > 0 || t->parent)) {
      pass_on();
      return;
    }
    // A member that can adopt nobody here and has no children to push the joiner down to (a
    // pure leaf, say) passes the JOIN on rather than sending the joiner to the SCG; so does a
    // childless one whose client leaves routed joiners to the tree's forwarders.
    if (client_ && t->children.empty() && !would_cycle(*t, child.id) && !t->has_child(child.id) &&
        ((!t->root && !client_->absorbs_routed_join(*t)) ||
         !client_->admit(now, *t, child, j.spare))) {
      pass_on();
      return;
    }
    // Already in the tree (or joining it): the JOIN stops here.
    ctx.consumed = true;
    handle_join_here(now, *t, child, j.spare, config_.pushdown_depth, j.have_seq);
    return;
  }
  // Not in the tree: become a forwarder if the client lets us adopt the child, and let the
  // JOIN continue on our behalf; otherwise pass it on for the child untouched.
  if (would_cycle(TopicState{}, child.id)) return;
  TopicState* t = ensure_topic(now, j.topic);
  if (t == nullptr) return;
  t->slow = j.control;
  if (client_ && !client_->admit(now, *t, child, j.spare)) {
    topics_.erase(j.topic);
    pass_on();
    return;
  }
  adopt(now, *t, child, j.have_seq);
  t->joining = true;
  t->join_sent = now;
  JoinBody mine{j.topic, j.has_avoid, j.avoid, 0, false, NodeHandle{}, j.control, 0};
  mine.have_seq = held_seq(*t);
  ctx.message = std::make_shared<const JoinMsg>(std::move(mine));
}

void Scribe::answer_after_leave(Time now, const NodeHandle& from,
                                const overlay::AppMessagePtr& msg, bool direct) {
  // Until Pastry's leave reaches everyone, JOINs and walks still come here, and one dropped
  // cost its orphan the whole join timeout: a graceful leave whose node was the root of the
  // stripe's SCG left that stripe's orphans silent ~350 ms (integration_stream_leave_20,
  // docs/multicast.md "Small real rings"). Answered, they try elsewhere at once.
  const auto type = static_cast<MsgType>(msg->type());
  if (type == MsgType::kJoin) {
    const auto& j = as<JoinMsg>(msg).body;
    const NodeHandle& child = j.has_child ? j.child : from;
    if (child.id != self().id && !j.backup)
      send(now, child, std::make_shared<const RefuseMsg>(RefuseBody{j.topic, {}, 0}));
  } else if (type == MsgType::kAnycast) {
    const auto& a = as<AnycastMsg>(msg).body;
    if (a.requester.id == self().id) return;
    // Passed here by a member (our state is gone): back to it, and the walk goes on there.
    if (direct) return walk_anycast(now, a, &from);
    ++counters_.anycasts_failed;
    send(now, a.requester, std::make_shared<const AnycastFailMsg>(TopicBody{a.want}));
  }
}

void Scribe::deliver(Time now, const overlay::RouteInfo& info, const overlay::AppMessagePtr& msg) {
  if (left_) return answer_after_leave(now, info.previous_hop, msg, false);
  switch (static_cast<MsgType>(msg->type())) {
    case MsgType::kJoin: {
      const auto& j = as<JoinMsg>(msg).body;
      TopicState* t = ensure_topic(now, j.topic);
      if (t == nullptr) return;
      t->slow = t->slow || j.control;
      become_root(now, *t);
      const NodeHandle child = j.has_child ? j.child : info.previous_hop;
      if (child.id != self().id)
        handle_join_here(now, *t, child, j.spare, config_.pushdown_depth, j.have_seq);
      return;
    }
    case MsgType::kCreate:
      on_create_delivered(now, as<CreateMsg>(msg).body, info.origin);
      return;
    case MsgType::kData:
      on_publisher_data(now, info.origin, std::static_pointer_cast<const DataMsg>(msg));
      return;
    case MsgType::kAnycast: {
      const auto& a = as<AnycastMsg>(msg).body;
      const TopicState* g = topic(a.topic);
      if (g != nullptr && (g->attached || g->root)) {
        walk_anycast(now, a);
      } else {
        ++counters_.anycast_fail_no_state;
        ++counters_.anycasts_failed;
        send(now, a.requester, std::make_shared<const AnycastFailMsg>(TopicBody{a.want}));
      }
      return;
    }
    default:
      return;  // other types are never routed; ignore
  }
}

// --- direct messages --------------------------------------------------------------------------

void Scribe::receive_direct(Time now, const NodeHandle& from, const overlay::AppMessagePtr& msg) {
  if (left_) return answer_after_leave(now, from, msg, true);
  switch (static_cast<MsgType>(msg->type())) {
    case MsgType::kData: {
      auto d = std::static_pointer_cast<const DataMsg>(msg);
      TopicState* t = topic(d->body.topic);
      if (t && t->parent && t->parent->id == from.id) {
        ++counters_.data_received;
        t->last_from_parent = now;
        forward_data(now, *t, d);
        return;
      }
      if (t && accept_fetched(now, from, *t, d)) return;  // a neighbour's answer to our FETCH
      const auto rep = replicas_.find(d->body.topic);
      const bool from_creator = (t && t->meta && t->meta->creator == from.id) ||
                                (rep != replicas_.end() && rep->second.creator == from.id);
      if (from_creator) {
        // The publisher turning to us (Data.dead_root or not) only makes us look at our own
        // evidence sooner.
        take_over_if_evident(now, d->body.topic);
        on_publisher_data(now, from, d);
      } else if (t && t->root) {
        ++counters_.data_refused;  // only the verified creator feeds a root
      } else if (d->body.replayed && config_.adopt_replay) {
        // An adopter's replay overtook its ACCEPT (UDP reorders), or a parent we left drains
        // its queue: no LEAVE per packet (the ACCEPT we do not want gets one), and one from the
        // node we asked directly to adopt us still fills our gap.
        ++counters_.data_not_from_parent;
        if (t && t->joining && !t->parent && t->join_target && *t->join_target == from.id)
          forward_data(now, *t, d);
      } else {
        // A former parent still sending: it should not think we are its child.
        ++counters_.data_not_from_parent;
        send(now, from, std::make_shared<const LeaveMsg>(TopicBody{d->body.topic}));
      }
      return;
    }
    case MsgType::kHeartbeat:
      on_path(now, from, as<HeartbeatMsg>(msg).body, false);
      return;
    case MsgType::kAccept:
      on_path(now, from, as<AcceptMsg>(msg).body, true);
      return;
    case MsgType::kJoin: {
      const auto& j = as<JoinMsg>(msg).body;
      TopicState* t = topic(j.topic);
      if (j.backup) {
        backup_join_here(now, t, from, j);
        return;
      }
      if ((t == nullptr || !t->attached) && j.has_avoid) {
        // A child of a root that named us its successor, avoiding that root: take over if our
        // own watch confirms the silence, or hold the JOIN until it does (or the root answers).
        const auto w = watches_.find(j.topic);
        if (w != watches_.end() && w->second.root.id == j.avoid) {
          if (take_over_if_evident(now, j.topic)) {
            handle_join_here(now, *topic(j.topic), from, j.spare, j.pushdown_left, j.have_seq);
            return;
          }
          if (hold_for_evidence(now, j.topic, from, j.spare)) return;
        }
      }
      if (t == nullptr || !t->attached) {
        // Only a node that receives the topic takes a child directly.
        TopicState unknown;
        unknown.id = j.topic;
        refuse(now, t ? *t : unknown, from, 0);
        return;
      }
      if (handle_reported_dead(now, *t, j, from)) return;
      handle_join_here(now, *t, from, j.spare, j.pushdown_left, j.have_seq);
      return;
    }
    case MsgType::kRefuse: {
      const auto& r = as<RefuseMsg>(msg).body;
      TopicState* t = topic(r.topic);
      if (t == nullptr || t->root) return;
      if (t->backup_target && *t->backup_target == from.id) {
        t->backup_target.reset();  // a backup ancestor without room: the grandparent decides
        return;
      }
      if (t->parent && t->parent->id != from.id) return;  // stale: we have another parent
      if (t->parent) {                                    // orphaned by our parent
        ++t->pushdowns;
        t->lost_at = now;
        t->regained_at = kNever;
        t->trace_n = 0;
        t->parent.reset();
        t->cut_off_since.reset();
        detach(now, *t);
        t->join_attempts = std::max(t->join_attempts, 1);
      }
      t->note(now, r.candidates.empty() ? 'f' : 'F');
      if (!t->parent && t->avoid && r.pushdown_left == 0 && t->join_target &&
          *t->join_target == from.id && !t->fallbacks.empty()) {
        // The ancestor asked does not receive the topic (repairing too): the next one at once;
        // a walk from here was abandoned for it at the ancestor timeout anyway.
        ++counters_.ancestors_not_receiving;
        t->note_unanswered(from.id);
        next_repair_attempt(now, *t);
        return;
      }
      if (client_ && client_->on_refused(now, *t, r)) return;
      if (!r.candidates.empty() && r.pushdown_left > 0 && r.candidates[0].id != self().id) {
        // Handed over (a parent leaving gracefully names its own parent), or pushed down in a
        // group the client leaves to us (the SCG): go there at once.
        join_via(now, t->id, r.candidates[0], r.pushdown_left - 1);
        return;
      }
      // Plain Scribe: try again by routing once the back-off allows (the tick does it), never
      // in a tight loop with whoever refused us.
      t->joining = true;
      t->join_sent = now;
      ++t->join_attempts;
      return;
    }
    case MsgType::kLeave: {
      if (TopicState* t = topic(as<LeaveMsg>(msg).body.topic)) remove_child(now, *t, from.id);
      return;
    }
    case MsgType::kRefresh: {
      for (const NodeId& id : as<RefreshMsg>(msg).body.topics) {
        TopicState* t = topic(id);
        auto it = t ? std::find_if(t->children.begin(), t->children.end(),
                                   [&](const Child& c) { return c.node.id == from.id; })
                    : std::vector<Child>::iterator{};
        if (t && it != t->children.end()) {
          it->last_refresh = now;
          it->spare = as<RefreshMsg>(msg).body.spare;
        } else {
          // We dropped it (or never had it): say so, so it re-joins now rather than at its
          // failure timeout.
          send(now, from, std::make_shared<const RefuseMsg>(RefuseBody{id, {}, 0}));
        }
      }
      return;
    }
    case MsgType::kRootAck:
      if (on_successor_ping(now, from, as<RootAckMsg>(msg).body)) return;
      feed_new_root(now, from, as<RootAckMsg>(msg).body);  // gap repair at the publisher
      if (client_) client_->on_root_ack(now, from, as<RootAckMsg>(msg).body);
      return;
    case MsgType::kReplicate: {
      const CreateBody& c = as<ReplicateMsg>(msg).body;
      if (replicas_.count(c.topic) == 0 && replicas_.size() >= config_.max_topics) return;
      if (!credentials_.verify(c)) {
        ++counters_.creates_refused;
        return;
      }
      replicas_[c.topic] = c;
      return;
    }
    case MsgType::kAnycast:
      walk_anycast(now, as<AnycastMsg>(msg).body, &from);
      return;
    case MsgType::kAnycastFail: {
      const NodeId& want = as<AnycastFailMsg>(msg).body.topic;
      TopicState* t = topic(want);
      // Only the walk in flight counts; a re-issued walk's lost predecessor may still report.
      if (t != nullptr && !t->walk_sent) return;
      if (t != nullptr) t->walk_sent.reset();
      if (t != nullptr) t->note(now, 'X');
      ++counters_.anycasts_failed;
      if (client_) client_->on_anycast_failed(now, want);
      return;
    }
    case MsgType::kResume:
      on_resume(now, from, as<ResumeMsg>(msg).body);
      return;
    case MsgType::kFetch:
      on_fetch(now, from, as<FetchMsg>(msg).body);
      return;
    case MsgType::kCreate:
      return;  // only ever routed
  }
}

overlay::AppMessagePtr Scribe::decode(uint16_t type, std::string_view body) const {
  DecodeError error = DecodeError::kNone;
  auto msg = decode_message(type, body, error);
  if (!msg) ++counters_.malformed[static_cast<size_t>(error)];
  return msg;
}

}  // namespace forestcast::multicast
