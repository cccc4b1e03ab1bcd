#include "multicast/splitstream.hpp"

#include <algorithm>
#include <utility>

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

const SplitStream::Stream* SplitStream::stream_of_stripe(const NodeId& topic) const {
  for (const Stream& s : streams_)
    if (topic.with_digit(0, 0) == s.group.with_digit(0, 0) &&
        static_cast<size_t>(topic.digit(0)) < s.stripe_ids.size())
      return &s;
  return nullptr;
}

SplitStream::Stream* SplitStream::stream_of_stripe(const NodeId& topic) {
  return const_cast<Stream*>(std::as_const(*this).stream_of_stripe(topic));
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
  // Into our history (and to our own children) first, whichever way the packet then goes: on a
  // fail-over the successor drops it while it still gathers evidence (data_held), and the
  // replay to the root that answers (Scribe::feed_new_root) can only resend what the history
  // holds. Recording it only on the normal path lost each fail-over's first packet for good; a
  // root of five stripes dying lost five in one FEC group, more than its parity
  // (tests/integration/media, --heavy-root).
  scribe_.publish_local(now, msg);
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

// --- forest policy (admission and push-down: pushdown.cpp) --------------------------------------

bool SplitStream::on_refused(Time now, TopicState& t, const RefuseBody& refusal) {
  Stream* s = stream_of_stripe(t.id);
  if (s == nullptr || is_scg(t.id)) return false;
  for (const NodeHandle& c : refusal.candidates) {
    if (refusal.pushdown_left == 0) break;
    if (c.id == scribe_.self().id) continue;
    if (t.was_unanswered(c.id)) {
      ++counters_.pushdown_unanswered_skipped;
      continue;
    }
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
  if (used_ == 0) return 2;
  // Interior in two stripes or more already: one more costs the forest's interior-disjointness
  // nothing, so such a member adopts as early in the walk as one forwarding nothing yet rather
  // than passing the orphan on through the walk's first eighth while the forest forms.
  size_t interior = 0;
  for (const auto& [id, topic] : scribe_.topics())
    if (!topic.slow && !topic.children.empty() && ++interior >= 2) return 2;
  return 3;
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

std::optional<NodeId> SplitStream::repair_walk_group(const TopicState& t) const {
  if (t.slow) return std::nullopt;
  const Stream* s = stream_of_stripe(t.id);
  if (s == nullptr) return std::nullopt;
  return s->stripe_scg_ids[static_cast<size_t>(t.id.digit(0))];
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
