// Scribe's data path (part of class Scribe; see scribe.cpp): the publisher's packets to a stripe
// root, routed or direct, a source place at the publisher, and forwarding from a node to its
// children with the sequence guard.
#include <algorithm>

#include "multicast/scribe.hpp"

namespace forestcast::multicast {

void Scribe::publish_direct(Time now, const NodeHandle& root, std::shared_ptr<const DataMsg> data) {
  overlay_.send_direct(now, root, std::move(data));
}

void Scribe::add_source(Time now, const NodeId& id) {
  TopicState* t = ensure_topic(now, id);
  if (t == nullptr) return;
  t->source = true;
  t->attached = true;
}

void Scribe::publish_local(Time now, const std::shared_ptr<const DataMsg>& data) {
  TopicState* t = topic(data->body.topic);
  if (t == nullptr || !t->source) return;
  // When the publisher is its stripe's root too, the same packet also reaches
  // on_publisher_data() (routed to ourselves): it must not go to these children twice.
  t->last_seq = std::max(t->last_seq, data->body.seq);
  if (config_.gap_repair)
    histories_.try_emplace(t->id, config_.history).record(now, data);
  if (t->children.empty()) return;
  for (Child& c : t->children) {
    c.last_sent = now;
    overlay_.send_direct(now, c.node, data);
  }
  counters_.data_forwarded += t->children.size();
}

void Scribe::publish_routed(Time now, std::shared_ptr<const DataMsg> data) {
  const NodeId key = data->body.topic;
  note_routed(key);  // gap repair: whoever acknowledges next may lack what went astray
  overlay_.route(now, key, std::move(data));
}

void Scribe::on_publisher_data(Time now, const NodeHandle& from,
                               const std::shared_ptr<const DataMsg>& d) {
  const NodeId& id = d->body.topic;
  TopicState* t = topic(id);
  const auto hop = overlay_.next_hop(id);
  // Pastry may still route to a root we replaced because it fell silent; until it declares it
  // dead (or it answers), we stay the root.
  const bool replaced_hop = hop && t && t->root && t->replaced && *t->replaced == hop->id;
  if (hop && !replaced_hop) {
    const auto w = watches_.find(id);
    if (w != watches_.end() && w->second.root.id == hop->id &&
        w->second.heard && now - *w->second.heard > config_.root_watch_interval &&
        is_next_after(id, w->second)) {
      // The publisher turned to us, its root's successor, and our own watch misses the root
      // too: the evidence is at most a failure timeout away. Sending it back to route to the
      // silent root would only cost it Pastry's probe time.
      ++counters_.data_held;
      return;
    }
    // Not (or no longer) the root: tell the publisher to route again, and hang our subtree
    // under the new root.
    if (t && t->root) step_down(now, *t);
    ++counters_.data_refused;
    send(now, from, std::make_shared<const RootAckMsg>(RootAckBody{id, d->body.seq, true}));
    return;
  }
  t = ensure_topic(now, id);
  if (t == nullptr) return;
  become_root(now, *t);
  if (!t->meta || t->meta->creator != from.id) {
    ++counters_.data_refused;
    // No credentials here (yet): the publisher re-sends its CREATE when told to route again.
    if (!t->meta)
      send(now, from, std::make_shared<const RootAckMsg>(RootAckBody{id, d->body.seq, true}));
    return;
  }
  t->publisher = from;
  forward_data(now, *t, d);
  if (now - t->last_ack_sent >= config_.root_ack_interval) {
    t->last_ack_sent = now;
    RootAckBody ack{id, d->body.seq, false};
    if (auto s = successor(id)) {
      ack.has_successor = true;
      ack.successor = *s;
    }
    send(now, from, std::make_shared<const RootAckMsg>(std::move(ack)));
  }
}

void Scribe::forward_data(Time now, TopicState& t, const std::shared_ptr<const DataMsg>& d) {
  // A packet held already came twice (two feeds during a root change, or a replay of what we
  // had); forwarding it again would only cost upload.
  if (!admit_data(now, t, d)) return;
  if (t.data_after_regain == kNever && t.regained_at != kNever && t.parent)
    t.data_after_regain = now;
  t.last_seq = std::max(t.last_seq, d->body.seq);
  for (Child& c : t.children) {
    c.last_sent = now;
    overlay_.send_direct(now, c.node, d);
  }
  counters_.data_forwarded += t.children.size();
  if (t.member && client_) client_->on_data(now, t, d->body);
}

}  // namespace forestcast::multicast
