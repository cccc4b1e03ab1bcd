#include "multicast/splitstream.hpp"

#include <algorithm>
#include <cassert>
#include <tuple>

namespace forestcast::multicast {

SplitStream::SplitStream(Scribe& scribe, SplitStreamConfig config)
    : scribe_(scribe), config_(config) {
  scribe_.set_client(this);
  limit_ = config_.capacity >= 0 ? config_.capacity : 0;
}

NodeId SplitStream::scg_of(const NodeId& group) {
  return NodeId::sha1_of(std::string_view("forestcast-scg:" + group.to_byte_string()));
}

SplitStream::Stream* SplitStream::stream_of_stripe(const NodeId& topic) {
  for (Stream& s : streams_)
    if (topic.with_digit(0, 0) == s.group.with_digit(0, 0) &&
        static_cast<size_t>(topic.digit(0)) < s.stripe_ids.size())
      return &s;
  return nullptr;
}

SplitStream::Stream* SplitStream::stream_of_scg(const NodeId& topic) {
  for (Stream& s : streams_)
    if (s.scg == topic) return &s;
  return nullptr;
}

bool SplitStream::is_scg(const NodeId& topic) const {
  return std::any_of(streams_.begin(), streams_.end(),
                     [&](const Stream& s) { return s.scg == topic; });
}

void SplitStream::recount() {
  int used = 0;
  for (const auto& [id, t] : scribe_.topics())
    if (!t.slow && !is_scg(id)) used += static_cast<int>(t.children.size());
  used_ = used;
  if (used_ > limit_) ++counters_.limit_violations;
  if (used_ >= limit_) {
    // Leave the SCG at once (only a flag: safe inside any upcall); joining waits for on_tick().
    for (Stream& s : streams_)
      if (s.in_scg) {
        s.in_scg = false;
        scribe_.unsubscribe(Time{0}, s.scg);
      }
  }
}

void SplitStream::set_capacity(int capacity) {
  config_.capacity = capacity;
  if (capacity >= 0)
    limit_ = capacity;
  else
    update_default_limit();
}

void SplitStream::update_default_limit() {
  if (config_.capacity >= 0) return;
  // Default: one child per stripe received, and a publisher counts the stripes it originates
  // (it may well be a stripe's root).
  int received = 0;
  for (const Stream& x : streams_)
    if (x.viewing) received += static_cast<int>(x.stripe_ids.size());
  if (publication_) received += static_cast<int>(publication_->stripes.size());
  limit_ = received;
}

// --- viewer -------------------------------------------------------------------------------------

void SplitStream::view(Time now, const NodeId& group, PacketSink* sink) {
  Stream* s = nullptr;
  for (Stream& x : streams_)
    if (x.group == group) s = &x;
  if (s == nullptr) {
    Stream fresh;
    fresh.group = group;
    fresh.scg = scg_of(group);
    for (uint32_t i = 0; i < config_.stripes; ++i)
      fresh.stripe_ids.push_back(group.with_digit(0, static_cast<int>(i)));
    fresh.stats.resize(config_.stripes);
    streams_.push_back(std::move(fresh));
    s = &streams_.back();
  }
  s->sink = sink;
  s->viewing = true;
  update_default_limit();
  const std::vector<NodeId> ids = s->stripe_ids;
  for (const NodeId& id : ids) scribe_.subscribe(now, id);
  on_tick(now);  // SCG membership
}

// --- publisher ----------------------------------------------------------------------------------

NodeId SplitStream::publish(Time now, const CreatorKey& key, std::string_view name) {
  Publication p;
  for (uint32_t i = 0; i < config_.stripes; ++i) {
    p.creates.push_back(make_create(key, name, i, config_.stripes, scribe_.overlay().random()));
    scribe_.create(now, p.creates.back());
  }
  p.group = p.creates.front().group;
  p.stripes.resize(config_.stripes);
  for (const CreateBody& c : p.creates) scribe_.add_source(now, c.topic);
  // The publisher knows its stream (stripe ids) but is no SCG member: its outdegree is for the
  // joiners a stripe root without room sends it (refusal_candidates).
  Stream* s = nullptr;
  for (Stream& x : streams_)
    if (x.group == p.group) s = &x;
  if (s == nullptr) {
    Stream fresh;
    fresh.group = p.group;
    fresh.scg = scg_of(p.group);
    for (uint32_t i = 0; i < config_.stripes; ++i)
      fresh.stripe_ids.push_back(p.group.with_digit(0, static_cast<int>(i)));
    fresh.stats.resize(config_.stripes);
    streams_.push_back(std::move(fresh));
    s = &streams_.back();
  }
  s->publishing = true;
  for (auto& st : p.stripes) st.create_sent = true;
  publication_ = std::move(p);
  update_default_limit();
  return publication_->group;
}

uint64_t SplitStream::send(Time now, uint32_t stripe, std::shared_ptr<const std::string> payload,
                           uint32_t size) {
  if (!publication_ || stripe >= publication_->stripes.size()) return 0;
  PublishedStripe& ps = publication_->stripes[stripe];
  DataBody d;
  d.topic = publication_->creates[stripe].topic;
  d.seq = ++ps.seq;
  d.stripe = stripe;
  d.sent_at_us = now.count();
  d.payload_size = payload ? static_cast<uint32_t>(payload->size()) : size;
  d.payload = std::move(payload);
  auto msg = std::make_shared<const DataMsg>(std::move(d));
  ++counters_.packets_sent;
  if (ps.root && now - ps.last_ack > config_.root_silence) {
    ++counters_.root_reroutes;  // the root went quiet: its successor takes over, or we route
    if (ps.successor && ps.successor->id != ps.root->id) {
      DataBody failover = msg->body;
      failover.has_dead_root = true;
      failover.dead_root = ps.root->id;
      ps.root = ps.successor;
      ps.successor.reset();
      ps.last_ack = now;  // give it one silence period to answer
      scribe_.publish_direct(now, *ps.root, std::make_shared<const DataMsg>(std::move(failover)));
      return ps.seq;
    }
    ps.root.reset();
    ps.create_sent = false;
  }
  scribe_.publish_local(now, msg);
  if (ps.root && ps.root->id == scribe_.self().id) {
    // We are our stripe's root: publish_local() was the whole delivery. Stay while Scribe
    // still believes it; otherwise route to whoever is closer now.
    const TopicState* t = scribe_.topic(msg->body.topic);
    if (t != nullptr && t->root) {
      ps.last_ack = now;
      return ps.seq;
    }
    ps.root.reset();
    ps.create_sent = false;
  }
  if (ps.root) {
    scribe_.publish_direct(now, *ps.root, std::move(msg));
    return ps.seq;
  }
  if (!ps.create_sent) {
    // A new root may lack the credentials if replication missed it: send them again first.
    scribe_.create(now, publication_->creates[stripe]);
    ps.create_sent = true;
  }
  scribe_.publish_routed(now, std::move(msg));
  return ps.seq;
}

void SplitStream::on_root_ack(Time now, const NodeHandle& from, const RootAckBody& ack) {
  if (!publication_) return;
  for (size_t i = 0; i < publication_->stripes.size(); ++i) {
    if (publication_->creates[i].topic != ack.topic) continue;
    PublishedStripe& ps = publication_->stripes[i];
    if (ack.not_root) {
      if (ps.root && ps.root->id == from.id) ps.root.reset();
      ps.create_sent = false;
    } else {
      ps.root = from;
      ps.last_ack = now;
      // Where to turn when this root falls silent; the successor takes over only on its own
      // evidence (Scribe, root_failover.cpp), so our word cannot make a second root.
      if (ack.has_successor && ack.successor.id != from.id) ps.successor = ack.successor;
    }
    return;
  }
}

std::optional<NodeHandle> SplitStream::publisher_root(uint32_t stripe) const {
  if (!publication_ || stripe >= publication_->stripes.size()) return std::nullopt;
  return publication_->stripes[stripe].root;
}

// --- forest policy ------------------------------------------------------------------------------

std::pair<NodeId, NodeHandle> SplitStream::choose_orphan(
    const NodeId& self, const std::vector<std::pair<NodeId, NodeHandle>>& children) {
  // Smallest key wins: children of stripes this node should not be interior in first, then the
  // shortest prefix shared with the stripeId, then the numerically farthest from it (ids are
  // unique, so the last tie-break on the id itself never leaves a draw).
  auto key = [&](const std::pair<NodeId, NodeHandle>& c) {
    const NodeId& stripe = c.first;
    const NodeId& child = c.second.id;
    const int foreign = stripe.digit(0) != self.digit(0) ? 0 : 1;
    const overlay::u128 distance = stripe.ring_distance(child);
    return std::make_tuple(foreign, child.shared_prefix_length(stripe), ~distance, ~child.value());
  };
  assert(!children.empty());
  return *std::min_element(children.begin(), children.end(),
                           [&](const auto& a, const auto& b) { return key(a) < key(b); });
}

bool SplitStream::admit(Time now, TopicState& t, const NodeHandle& child, uint32_t child_spare) {
  if (t.slow || is_scg(t.id)) return true;  // a control group costs no upload
  recount();
  if (used_ < limit_) return true;
  if (limit_ == 0) return false;
  // At the limit: adopt the newcomer, then orphan one child by the push-down rule.
  std::vector<std::pair<NodeId, NodeHandle>> all;
  for (const auto& [id, topic] : scribe_.topics()) {
    if (topic.slow || is_scg(id)) continue;
    for (const Child& c : topic.children) all.emplace_back(id, c.node);
  }
  // A newcomer that brings spare outdegree is kept: capacity is only useful inside the stripe
  // trees, and a node with spare but without the stripe could otherwise never bring it in (the
  // feasibility condition of the SplitStream paper). The orphan is pointed at it first.
  const bool keep_newcomer = child_spare > 0 && !all.empty();
  if (!keep_newcomer) all.emplace_back(t.id, child);
  const auto [stripe, victim] = choose_orphan(scribe_.self().id, all);
  if (stripe == t.id && victim.id == child.id) return false;
  TopicState* vt = scribe_.topic(stripe);
  ++counters_.pushdown_orphans;
  const bool point_at_newcomer = keep_newcomer && stripe == t.id;
  scribe_.orphan(now, *vt, victim.id, scribe_.config().pushdown_depth,
                 point_at_newcomer ? &child : nullptr);
  return true;
}

std::vector<NodeHandle> SplitStream::refusal_candidates(const TopicState& t, const NodeId& child) {
  // Former siblings sharing a prefix with the stripeId, longest prefix first, then closest.
  std::vector<NodeHandle> out;
  for (const Child& c : t.children)
    if (c.node.id != child && c.node.id.shared_prefix_length(t.id) >= 1) out.push_back(c.node);
  std::sort(out.begin(), out.end(), [&](const NodeHandle& a, const NodeHandle& b) {
    const int pa = a.id.shared_prefix_length(t.id), pb = b.id.shared_prefix_length(t.id);
    if (pa != pb) return pa > pb;
    return t.id.closer(a.id, b.id);
  });
  if (out.size() > kMaxCandidates) out.resize(kMaxCandidates);
  // A stripe root with nobody below it to push down to (no outdegree: a pure leaf) sends the
  // joiner to the publisher, the parent of last resort in its own stripe trees.
  if (out.empty() && t.root && t.publisher && t.publisher->id != child &&
      t.publisher->id != scribe_.self().id)
    out.push_back(*t.publisher);
  return out;
}

bool SplitStream::on_refused(Time now, TopicState& t, const RefuseBody& refusal) {
  Stream* s = stream_of_stripe(t.id);
  if (s == nullptr || is_scg(t.id)) return false;
  for (const NodeHandle& c : refusal.candidates) {
    if (refusal.pushdown_left == 0) break;
    if (c.id == scribe_.self().id) continue;
    ++counters_.pushdown_attempts;
    scribe_.join_via(now, t.id, c, refusal.pushdown_left - 1);
    return true;
  }
  ++counters_.scg_anycasts;
  scribe_.anycast(now, s->scg, t.id);
  return true;
}

bool SplitStream::anycast_accepts(Time now, const AnycastBody& a) {
  if (!is_scg(a.topic)) return false;
  recount();
  if (used_ >= limit_) {
    ++counters_.anycast_no_spare;
    return false;
  }
  TopicState* t = scribe_.topic(a.want);
  // Only a member that receives the stripe adopts: one that is itself looking for a parent
  // there would only hang the orphan's subtree on another cut-off one (measured: worse).
  const bool receiving = t != nullptr && t->attached && (t->root || t->parent || t->source);
  if (!receiving) {
    ++counters_.anycast_not_receiving;
    return false;
  }
  // Keep the forest interior-node-disjoint where capacity allows: during the first half of the
  // walk only a member whose first digit is the stripe's adopts; after it, anyone with spare.
  const bool late = a.relaxed || a.visited.size() * 2 >= scribe_.config().anycast_max_visits;
  if (!late && scribe_.self().id.digit(0) != a.want.digit(0)) {
    ++counters_.anycast_foreign_deferred;
    return false;
  }
  // The requester must not be our ancestor: adopting it would close a loop.
  if (a.requester.id == scribe_.self().id || t->has_child(a.requester.id) ||
      std::find(t->path.begin(), t->path.end(), a.requester.id) != t->path.end()) {
    ++counters_.anycast_descendant;
    return false;
  }
  ++counters_.scg_adoptions;
  scribe_.adopt(now, *t, a.requester);
  return true;
}

void SplitStream::on_anycast_failed(Time now, const NodeId& want) {
  ++counters_.anycast_failures;
  // Scribe's join timer retries (by routing) with a back-off that grows with every failure.
  if (TopicState* t = scribe_.topic(want); t != nullptr && !t->parent) {
    t->joining = true;
    t->join_sent = now;
    ++t->join_attempts;
  }
}

void SplitStream::on_data(Time now, TopicState& t, const DataBody& data) {
  Stream* s = stream_of_stripe(t.id);
  if (s == nullptr || data.stripe >= s->stats.size()) return;
  ++counters_.packets_received;
  StripeStats& st = s->stats[data.stripe];
  ++st.packets;
  st.last_receive = now;
  if (s->sink) {
    Packet p{s->group,     data.stripe,       data.seq,
             data.payload, data.payload_size, Time{data.sent_at_us}};
    s->sink->on_packet(p, now);
  }
}

void SplitStream::children_changed(Time now, TopicState& t) {
  (void)now;
  (void)t;
  recount();
}

void SplitStream::on_tick(Time now) {
  recount();
  const bool spare = used_ < limit_;
  for (Stream& s : streams_) {
    if (!s.viewing || s.in_scg == spare) continue;
    s.in_scg = spare;
    if (spare) {
      scribe_.subscribe(now, s.scg, true);
    } else {
      scribe_.unsubscribe(now, s.scg);
    }
  }
}

std::vector<StripeView> SplitStream::stripes(const NodeId& group) const {
  std::vector<StripeView> out;
  for (const Stream& s : streams_) {
    if (s.group != group) continue;
    for (uint32_t i = 0; i < s.stripe_ids.size(); ++i) {
      StripeView v;
      v.index = i;
      v.stripe_id = s.stripe_ids[i];
      v.packets_received = s.stats[i].packets;
      v.last_receive = s.stats[i].last_receive;
      if (const TopicState* t = scribe_.topic(v.stripe_id)) {
        v.parent = t->parent;
        for (const Child& c : t->children) v.children.push_back(c.node);
        v.root = t->root;
        v.depth = t->depth();
        v.repairs = t->repairs;
      }
      out.push_back(std::move(v));
    }
  }
  return out;
}

}  // namespace forestcast::multicast
