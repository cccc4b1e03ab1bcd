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

NodeId SplitStream::stripe_scg_of(const NodeId& group, uint32_t stripe) {
  return NodeId::sha1_of(std::string_view("forestcast-stripe-scg:" + group.to_byte_string()))
      .with_digit(0, static_cast<int>(stripe));
}

SplitStream::Stream& SplitStream::stream_for(const NodeId& group) {
  for (Stream& x : streams_)
    if (x.group == group) return x;
  Stream fresh;
  fresh.group = group;
  fresh.scg = scg_of(group);
  for (uint32_t i = 0; i < config_.stripes; ++i)
    fresh.stripe_ids.push_back(group.with_digit(0, static_cast<int>(i)));
  fresh.stats.resize(config_.stripes);
  fresh.asking_stream_scg.assign(config_.stripes, 0);
  fresh.in_stripe_scg.assign(config_.stripes, 0);
  for (uint32_t i = 0; i < config_.stripes; ++i)
    fresh.stripe_scg_ids.push_back(stripe_scg_of(group, i));
  streams_.push_back(std::move(fresh));
  return streams_.back();
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
  const TopicState* t = scribe_.topic(topic);
  if (t != nullptr) return t->slow;  // both kinds of SCG are control groups
  return std::any_of(streams_.begin(), streams_.end(), [&](const Stream& s) {
    return s.scg == topic ||
           (static_cast<size_t>(topic.digit(0)) < s.stripe_ids.size() &&
            s.stripe_scg_ids[static_cast<size_t>(topic.digit(0))] == topic);
  });
}

void SplitStream::recount(Time now) {
  int used = 0;
  for (const auto& [id, t] : scribe_.topics())
    if (!t.slow) used += static_cast<int>(t.children.size());  // SCGs are control groups
  used_ = used;
  if (used_ > limit_) ++counters_.limit_violations;
  if (used_ >= limit_) {
    // Leave the SCGs at once (no state is erased: safe inside any upcall); joining waits for
    // on_tick().
    for (Stream& s : streams_) {
      if (s.in_scg) {
        s.in_scg = false;
        scribe_.unsubscribe(now, s.scg);
      }
      for (uint32_t i = 0; i < s.in_stripe_scg.size(); ++i)
        if (s.in_stripe_scg[i]) {
          s.in_stripe_scg[i] = 0;
          scribe_.unsubscribe(now, s.stripe_scg_ids[i]);
        }
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
  Stream* s = &stream_for(group);
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
  // The publisher knows its stream (stripe ids) but is no SCG member: its outdegree is for one
  // delegate per stripe it has to feed beyond the root (admit, refusal_candidates).
  Stream* s = &stream_for(p.group);
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
      // Into our history (and to our own children) like every packet: the successor drops it
      // while it still gathers evidence (data_held), and the replay to the root that answers
      // (Scribe::feed_new_root) can only resend what the history holds. Without this, each
      // fail-over lost its first packet for good; a root of five stripes dying lost five in one
      // FEC group, more than its parity (tests/integration/media, --heavy-root).
      scribe_.publish_local(now, msg);
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

std::optional<bool> SplitStream::admit_at_source(Time now, TopicState& t, const NodeHandle& child,
                                                 uint32_t child_spare) {
  // The publisher's own place in a stripe tree feeds one delegate: for a stripe root that can
  // adopt nobody (a pure leaf), or when it is the stripe's root itself, so that its outdegree
  // stays for the stripes that need it. The delegate offers spare outdegree and, unless the
  // publisher is the root (a small ring may have no node of that digit), has the stripe's
  // digit: its capacity is meant for that stripe and push-down keeps it there. Everyone else
  // goes to the delegate (refusal_candidates).
  //
  // As the stripe's root the publisher hands the place of a delegate without the stripe's digit
  // to a joiner that brings spare outdegree (a JOIN says so only after failed attempts, or when
  // direct), pointing the old delegate at it: for the old delegate the stripe was foreign, so
  // push-down orphaned its children there first, and in the daemon's small rings such a
  // delegate filled up with other streams' children while the stripe's subtree starved for good
  // (docs/multicast.md). A joiner with the digit takes the place at once, any other after
  // `delegate_hold`, so the children of a leaving delegate, which all arrive here together, do
  // not swap in turn. (Admitting every joiner with spare there instead filled the publisher:
  // 1,000 nodes, the capacity mix, all stripes 1.0 -> 0.0.)
  if (t.root && t.children.size() == 1 && child_spare > 0) {
    const Child& d = t.children.front();
    const NodeId digit_of = t.id;
    if (d.node.id != child.id && d.node.id.digit(0) != digit_of.digit(0) &&
        (child.id.digit(0) == digit_of.digit(0) || now - d.adopted >= config_.delegate_hold)) {
      ++counters_.delegate_swaps;
      scribe_.orphan(now, t, d.node.id, scribe_.config().pushdown_depth, &child);
      return true;
    }
  }
  if (!t.root && t.children.empty() && child_spare > 0 &&
      child.id.digit(0) != t.id.digit(0) && publication_ &&
      static_cast<size_t>(t.id.digit(0)) < publication_->stripes.size()) {
    // No delegate of the stripe's digit yet: in the daemon's small rings there may be none with
    // spare at all, and the stripe went unfed for good (default outdegree, docs/multicast.md).
    // Wait a little for one, then take this one.
    auto& since = publication_->stripes[static_cast<size_t>(t.id.digit(0))].undigited_since;
    if (!since) since = now;
    if (now - *since < config_.delegate_digit_wait) return false;
  } else if (!t.children.empty() || child_spare == 0 ||
             (!t.root && child.id.digit(0) != t.id.digit(0))) {
    return false;
  }
  return std::nullopt;  // the delegate's place is free: the common rules decide
}

bool SplitStream::admit(Time now, TopicState& t, const NodeHandle& child, uint32_t child_spare) {
  if (t.slow || is_scg(t.id)) return true;  // a control group costs no upload
  if (t.source) {
    if (const auto decided = admit_at_source(now, t, child, child_spare)) return *decided;
  }
  // A node that forwards foreign stripes only has given its budget to them: it takes no child
  // in its own stripe (routed JOINs pass a childless member anyway, absorbs_routed_join; this
  // refuses push-down's direct ones) and stays interior in one stripe (docs/multicast.md).
  if (!t.root && t.children.empty() && t.id.digit(0) == scribe_.self().id.digit(0) &&
      forwards_foreign_only())
    return false;
  recount(now);
  const bool foreign = t.id.digit(0) != scribe_.self().id.digit(0);
  if (used_ < limit_) {
    counters_.foreign_admits += foreign ? 1 : 0;
    return true;
  }
  if (limit_ == 0) return false;
  // At the limit: adopt the newcomer, then orphan one child by the push-down rule.
  std::vector<std::pair<NodeId, NodeHandle>> all;
  for (const auto& [id, topic] : scribe_.topics()) {
    // The publisher's own delegates are never pushed down: each is its stripe's only feed.
    if (topic.slow || is_scg(id) || topic.source) continue;
    // Nor is a stripe root's only child there, for the same reason: a full
    // root of a stripe with no node of its digit (small rings) orphaned it, foreign stripe
    // first, at each newcomer of its own digit, took it back (a root without children keeps
    // its newcomer) and orphaned it again: one stripe's whole subtree without data for 25 s
    // (test_streams.py seed 724039976, docs/multicast.md "Small real rings").
    if (topic.root && topic.children.size() == 1) continue;
    for (const Child& c : topic.children) all.emplace_back(id, c.node);
  }
  // A newcomer that brings spare outdegree is kept: capacity is only useful inside the stripe
  // trees, and a node with spare but without the stripe could otherwise never bring it in (the
  // feasibility condition of the SplitStream paper). The orphan is pointed at it first. Only a
  // newcomer of the stripe's digit, or at the stripe's root (a small ring may have no node of
  // that digit): anywhere else a foreign newcomer kept would make this forest less
  // interior-disjoint (1,000 nodes tight: interior in <= 1 stripe 0.71 -> 0.86) and the SCGs
  // find such capacity anyway.
  //
  // A stripe's root with no child in it keeps the newcomer too: it is the stripe's only entry.
  // The root is not always of the stripe's digit (a stripeId just above a digit boundary has its
  // closest node below it), and then the rule alone, foreign stripe first, would refuse every
  // joiner of the stripe while the root's budget is full of its own digit's children: seed 5 of
  // 1,000 nodes tight starved two stripes that way (all stripes 0.0).
  //
  // The publisher keeps a delegate of its own stream too (its stripe's only feed) and pushes a
  // child of another stream's tree down instead: at the default outdegree a publisher that was
  // root or forwarder of other streams' stripes filled its budget with their children and one
  // of its own stripes reached none of its 8 viewers (docs/multicast.md, "Small real rings").
  //
  // Below the root a newcomer of the stripe's digit is kept only from a child the rule puts
  // before it (a foreign stripe's, or one sharing a shorter prefix with the stripeId: a leaf of
  // the stripe, usually): when the rule would orphan the newcomer itself, keeping it pushed an
  // interior child of the digit down below it with its whole subtree, and every later newcomer
  // at that full node did it again, one level each (1,000 nodes tight, seed 1: a chain 20 deep
  // in the deficient stripe). Refused, the newcomer goes down instead, where its spare takes a
  // leaf's place.
  const bool keep_newcomer =
      !all.empty() && (t.source || (child_spare > 0 && (child.id.digit(0) == t.id.digit(0) ||
                                                        t.root)) ||
                       (t.root && t.children.empty()));
  const bool rule_keeps_newcomer = [&] {
    if (!keep_newcomer || t.source || t.root) return true;
    auto with_newcomer = all;
    with_newcomer.emplace_back(t.id, child);
    return choose_orphan(scribe_.self().id, with_newcomer).second.id != child.id;
  }();
  if (!keep_newcomer || !rule_keeps_newcomer) all.emplace_back(t.id, child);
  const auto [stripe, victim] = choose_orphan(scribe_.self().id, all);
  if (stripe == t.id && victim.id == child.id) return false;
  TopicState* vt = scribe_.topic(stripe);
  ++counters_.pushdown_orphans;
  const bool point_at_newcomer = keep_newcomer && stripe == t.id;
  scribe_.orphan(now, *vt, victim.id, scribe_.config().pushdown_depth,
                 point_at_newcomer ? &child : nullptr);
  counters_.foreign_admits += foreign ? 1 : 0;
  return true;
}

bool SplitStream::absorbs_routed_join(const TopicState& t) const {
  // A stripe tree grows from its forwarders: a member without children there passes a routed
  // JOIN on toward the root, which fills its children and pushes the rest down to them. The
  // stripe's children gather on few nodes of its digit and the others keep their whole budget
  // for a stripe that lacks capacity (docs/multicast.md). Only at a node of the stripe's digit:
  // elsewhere (a small ring may have no node of that digit) the route may not lead to one.
  return t.slow || t.id.digit(0) != scribe_.self().id.digit(0);
}

std::vector<NodeHandle> SplitStream::refusal_candidates(TopicState& t, const NodeId& child) {
  std::vector<NodeHandle> out;
  if (t.source) {  // the publisher: its delegate in this stripe
    for (const Child& c : t.children)
      if (c.node.id != child) out.push_back(c.node);
    return out;
  }
  // Former siblings sharing a prefix with the stripeId, longest prefix first, then closest.
  for (const Child& c : t.children)
    if (c.node.id != child && c.node.id.shared_prefix_length(t.id) >= 1) out.push_back(c.node);
  std::sort(out.begin(), out.end(), [&](const NodeHandle& a, const NodeHandle& b) {
    const int pa = a.id.shared_prefix_length(t.id), pb = b.id.shared_prefix_length(t.id);
    if (pa != pb) return pa > pb;
    return t.id.closer(a.id, b.id);
  });
  if (out.size() > kMaxCandidates) out.resize(kMaxCandidates);
  // Start the list at a sibling picked by the joiner's id, so successive joiners pushed down
  // from here go to different siblings: the subtree fills level by level instead of down the
  // first sibling's line (depth).
  if (!out.empty())
    std::rotate(out.begin(),
                out.begin() + static_cast<std::ptrdiff_t>(child.value() % out.size()), out.end());
  // Siblings that said they have room (their last REFRESH or JOIN) come first: the orphan is
  // taken one level down instead of being pushed on through full children, which packs the
  // stripe tree's last level (a tight forest is feasible only then) and keeps it shallow. The
  // first one's count is lowered for the orphan sent to it, until its next REFRESH corrects it.
  const auto room = [&](const NodeHandle& h) -> Child* {
    const auto it = std::find_if(t.children.begin(), t.children.end(),
                                 [&](const Child& c) { return c.node.id == h.id; });
    return it != t.children.end() && it->spare > 0 ? &*it : nullptr;
  };
  std::stable_partition(out.begin(), out.end(),
                        [&](const NodeHandle& h) { return room(h) != nullptr; });
  if (!out.empty())
    if (Child* c = room(out.front())) --c->spare;
  // A stripe root that can adopt nobody (a pure leaf) sends the joiner to the publisher, which
  // feeds one delegate in its place and sends everyone else there.
  if (limit_ == 0 && t.children.empty() && t.root && t.publisher && t.publisher->id != child &&
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
  s->asking_stream_scg[static_cast<size_t>(t.id.digit(0))] = 0;
  anycast_for(now, *s, t.id);
  return true;
}

void SplitStream::anycast_for(Time now, Stream& s, const NodeId& want) {
  ++counters_.scg_anycasts;
  const auto stripe = static_cast<uint32_t>(want.digit(0));
  if (s.asking_stream_scg[stripe])
    scribe_.anycast(now, s.scg, want);
  else
    scribe_.anycast(now, s.stripe_scg_ids[stripe], want, true);
}

bool SplitStream::forwards_foreign_only() const {
  const int own = scribe_.self().id.digit(0);
  bool foreign = false;
  for (const auto& [id, t] : scribe_.topics()) {
    if (t.slow || t.children.empty()) continue;
    if (id.digit(0) == own) return false;
    foreign = true;
  }
  return foreign;
}

int SplitStream::suitability(const NodeId& stripe) const {
  if (stripe.digit(0) == scribe_.self().id.digit(0)) return forwards_foreign_only() ? 3 : 0;
  const TopicState* t = scribe_.topic(stripe);
  if (t != nullptr && !t->children.empty()) return 1;
  return used_ == 0 ? 2 : 3;
}

bool SplitStream::anycast_accepts(Time now, const AnycastBody& a) {
  if (!is_scg(a.topic)) return false;
  recount(now);
  if (used_ >= limit_) {
    ++counters_.anycast_no_spare;
    return false;
  }
  TopicState* t = scribe_.topic(a.want);
  // Only a member that receives the stripe adopts: one that is itself looking for a parent
  // there, or is below one (cut off), would only hang the orphan's subtree on a branch no data
  // reaches. With walks that find members reliably (members-only SCGs), cut-off members took a
  // stripe's orphans into an island that never reached the root again (2,000 nodes, default
  // capacity: stripe 8 dead for the whole run, docs/multicast.md).
  const bool receiving =
      t != nullptr && t->attached && !t->cut_off && (t->root || t->parent || t->source);
  if (!receiving) {
    ++counters_.anycast_not_receiving;
    return false;
  }
  // Keep the forest interior-node-disjoint where capacity allows: a stripe's SCG holds members
  // of its digit and members already forwarding it. The stream's SCG is asked when that one had
  // nobody: during the first eighth of its walk only members forwarding nothing yet accept,
  // then (or relaxed) anyone.
  const size_t max_visits = std::max<size_t>(scribe_.config().anycast_max_visits, 1);
  const int allowed = stream_of_scg(a.topic) == nullptr                 ? 1
                      : a.relaxed || a.visited.size() * 8 >= max_visits ? 3
                                                                        : 2;
  if (suitability(a.want) > allowed) {
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
  counters_.scg_adoptions_foreign += scribe_.self().id.digit(0) != a.want.digit(0) ? 1 : 0;
  scribe_.adopt(now, *t, a.requester, a.have_seq);
  return true;
}

void SplitStream::on_anycast_failed(Time now, const NodeId& want) {
  Stream* s = stream_of_stripe(want);
  const auto stripe = static_cast<size_t>(want.digit(0));
  if (s != nullptr && stripe < s->asking_stream_scg.size() && !s->asking_stream_scg[stripe]) {
    // The stripe's own SCG had nobody: ask the stream's at once.
    ++counters_.stripe_scg_failures;
    s->asking_stream_scg[stripe] = 1;
    if (TopicState* t = scribe_.topic(want); t != nullptr && !t->parent && !t->root) {
      anycast_for(now, *s, want);
      return;
    }
  }
  if (s != nullptr && stripe < s->asking_stream_scg.size()) s->asking_stream_scg[stripe] = 0;
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
    Packet p{s->group,     data.stripe,       data.seq,           data.payload,
             data.payload_size, Time{data.sent_at_us}, data.replayed};
    s->sink->on_packet(p, now);
    wanted_.clear();
    s->sink->wanted_stripes(now, wanted_);
    for (uint32_t w : wanted_)
      if (w < s->stripe_ids.size()) scribe_.fetch(now, s->stripe_ids[w]);
  }
}

void SplitStream::children_changed(Time now, TopicState& t) {
  (void)now;
  (void)t;
  recount(now);
}

void SplitStream::on_tick(Time now) {
  recount(now);
  const bool spare = used_ < limit_;
  const auto own = static_cast<uint32_t>(scribe_.self().id.digit(0));
  for (Stream& s : streams_) {
    if (!s.viewing) continue;
    if (!spare) continue;  // recount() left every group when the budget filled
    if (!s.in_scg) {
      s.in_scg = true;
      ++counters_.scg_joins;
      scribe_.subscribe(now, s.scg, true);
    }
    for (uint32_t i = 0; i < s.stripe_ids.size(); ++i) {
      // A stripe's SCG while this node can feed the stripe (it receives it) and should: its own
      // digit's stripe, or one it forwards already (more children there cost no more interior
      // stripes).
      const TopicState* t = scribe_.topic(s.stripe_ids[i]);
      const bool fit = spare && t != nullptr && t->attached && (t->root || t->parent) &&
                       (i == own || !t->children.empty());
      if ((s.in_stripe_scg[i] != 0) == fit) continue;
      s.in_stripe_scg[i] = fit ? 1 : 0;
      if (fit) {
        ++counters_.scg_joins;
        scribe_.subscribe(now, s.stripe_scg_ids[i], true);
      } else {
        scribe_.unsubscribe(now, s.stripe_scg_ids[i]);
      }
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
