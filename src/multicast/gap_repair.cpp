// Scribe's gap repair beyond FEC (part of class Scribe; the history and the pacer are
// stripe_history.*): a node keeps each data topic's recent packets, a child that (re-)attaches
// sends its new parent the newest sequence number it holds, and the parent replays what it has
// after it, paced. Replays travel down the subtree like live packets (the children below a
// re-attached node missed them too); the history drops whatever a node already held.
#include <algorithm>

#include "multicast/scribe.hpp"

namespace forestcast::multicast {

const StripeHistory* Scribe::history(const NodeId& topic) const {
  return histories_.find(topic);
}

bool Scribe::admit_data(Time now, TopicState& t, const std::shared_ptr<const DataMsg>& d) {
  if (!config_.gap_repair) {
    // Sequence numbers rise per topic: at or below the last one forwarded is a second copy.
    if (d->body.seq <= t.last_seq) {
      ++counters_.data_duplicates;
      return false;
    }
    return true;
  }
  if (t.history == nullptr) t.history = &histories_.try_emplace(t.id, config_.history);
  switch (t.history->record(now, d)) {
    case StripeHistory::Admit::kNew:
      if (d->body.replayed) ++counters_.data_gap_filled;
      return true;
    case StripeHistory::Admit::kDuplicate:
      ++counters_.data_duplicates;
      return false;
    case StripeHistory::Admit::kTooOld:
      ++counters_.data_too_old;
      return false;
  }
  return false;
}

void Scribe::ask_replay(Time now, const TopicState& t, const NodeHandle& parent) {
  if (!config_.gap_repair || t.slow) return;
  const StripeHistory* h = history(t.id);
  // A node that never held the topic's data has no gap to fill: it starts with the live stream.
  if (h == nullptr || h->newest() == 0) return;
  send(now, parent, std::make_shared<const ResumeMsg>(ResumeBody{t.id, h->newest()}));
}

uint64_t Scribe::held_seq(const TopicState& t) const {
  if (!config_.gap_repair || !config_.adopt_replay || t.slow) return 0;
  const StripeHistory* h = history(t.id);
  return h == nullptr ? 0 : h->newest();
}

void Scribe::replay_on_adopt(Time now, TopicState& t, Child& child, uint64_t have_seq) {
  if (!config_.gap_repair || !config_.adopt_replay || t.slow) return;
  const StripeHistory* h = history(t.id);
  if (h == nullptr || have_seq >= h->newest()) return;
  ReplayCounters& c = replay_.counters();
  if (have_seq + 1 < h->oldest()) ++c.requests_short;
  std::vector<std::shared_ptr<const DataMsg>> missing;
  h->after(now, have_seq, missing);
  // The newest within the bound: they are the ones whose playout is still ahead, and the bound
  // is what a lying have_seq can cost us.
  size_t first = missing.size();
  size_t bytes = 0;
  while (first > 0 && missing.size() - first < config_.replay.adopt_max_packets) {
    const DataBody& b = missing[first - 1]->body;
    const size_t size = b.payload ? b.payload->size() : b.payload_size;
    if (bytes + size > config_.replay.adopt_max_bytes) break;
    bytes += size;
    --first;
  }
  if (first > 0) ++c.adopt_replays_capped;
  missing.erase(missing.begin(), missing.begin() + static_cast<std::ptrdiff_t>(first));
  if (missing.empty()) return;
  ++c.adopt_replays;
  child.replayed_to = missing.back()->body.seq;
  if (replay_.enqueue(now, child.node, missing)) send_replays(now);
}

void Scribe::on_resume(Time now, const NodeHandle& from, const ResumeBody& r) {
  if (!config_.gap_repair) return;
  ReplayCounters& c = replay_.counters();
  ++c.requests;
  const TopicState* t = topic(r.topic);
  const Child* child = nullptr;
  if (t != nullptr)
    for (const Child& k : t->children)
      if (k.node.id == from.id) child = &k;
  if (child == nullptr) {
    ++c.requests_refused;  // only a child of ours is owed its gap
    return;
  }
  const StripeHistory* h = history(r.topic);
  // seq 0: it held nothing, so it starts with the live stream like any new child.
  if (h == nullptr || r.seq == 0 || r.seq >= h->newest()) return;
  // What the adoption replayed on the strength of its JOIN went already (or waits in the pacer).
  uint64_t after = r.seq;
  if (child->replayed_to > after) {
    after = child->replayed_to;
    ++c.resumes_narrowed;
    if (after >= h->newest()) return;
  }
  if (after + 1 < h->oldest()) ++c.requests_short;
  std::vector<std::shared_ptr<const DataMsg>> missing;
  h->after(now, after, missing);
  if (missing.empty()) return;
  if (replay_.enqueue(now, from, missing)) send_replays(now);
}

void Scribe::feed_new_root(Time now, const NodeHandle& from, const RootAckBody& ack) {
  if (!config_.gap_repair || ack.not_root) return;
  const TopicState* t = topic(ack.topic);
  if (t == nullptr || !t->source) return;
  auto [it, fresh] = root_feeds_.try_emplace(ack.topic, RootFeed{from.id, ack.seq});
  RootFeed& f = it->second;
  if (fresh) return;  // the first root of the stripe: nothing was lost before it
  if (f.root == from.id && !f.routed) {
    f.acked = std::max(f.acked, ack.seq);
    return;
  }
  // What we sent after the old root's last acknowledgement may have died with it, been dropped
  // by its successor while it gathered evidence (data_held), or been routed to a node that was
  // not the root (data_refused): the root that answers now gets it again, and its history drops
  // what it had.
  uint64_t since = f.acked;
  f = RootFeed{from.id, ack.seq, false};
  const StripeHistory* h = history(ack.topic);
  if (h == nullptr) return;
  // A root acknowledges the packet in hand, not every one before it: a root that dropped data
  // while it gathered evidence or stepped down acknowledged past a hole. The last stretch goes
  // again in any case; the new root's history drops what it had.
  if (const uint64_t recent = h->first_received_since(now - config_.root_replay_lookback);
      recent > 0 && recent - 1 < since)
    since = recent - 1;
  std::vector<std::shared_ptr<const DataMsg>> missing;
  h->after(now, since, missing);
  if (missing.empty()) return;
  ++replay_.counters().root_changes;
  if (replay_.enqueue(now, from, missing, true)) send_replays(now);
}

void Scribe::note_routed(const NodeId& topic) {
  if (auto it = root_feeds_.find(topic); it != root_feeds_.end()) it->second.routed = true;
}

void Scribe::send_replays(Time now) {
  for (auto& s : replay_.take_due(now)) {
    if (s.to_root) {  // a new stripe root, or a neighbour's FETCH: not a child
      const DataBody& b = s.data->body;
      ++replay_.counters().packets;
      replay_.counters().bytes += b.payload ? b.payload->size() : b.payload_size;
      overlay_.send_direct(now, s.child, std::move(s.data));
      continue;
    }
    TopicState* t = topic(s.data->body.topic);
    auto it = t ? std::find_if(t->children.begin(), t->children.end(),
                               [&](const Child& c) { return c.node.id == s.child.id; })
                : std::vector<Child>::iterator{};
    if (t == nullptr || it == t->children.end()) {
      ++replay_.counters().dropped_child_gone;
      continue;
    }
    it->last_sent = now;
    const DataBody& b = s.data->body;
    ++replay_.counters().packets;
    replay_.counters().bytes += b.payload ? b.payload->size() : b.payload_size;
    overlay_.send_direct(now, s.child, std::move(s.data));
  }
  if (now >= next_history_sweep_) {
    // Histories of topics this node no longer takes part in.
    next_history_sweep_ = now + config_.history.window;
    for (auto it = histories_.begin(); it != histories_.end();)
      it = topics_.count(it->first) != 0 ? std::next(it) : histories_.erase(it);
    for (auto it = root_feeds_.begin(); it != root_feeds_.end();)
      it = topics_.count(it->first) != 0 ? std::next(it) : root_feeds_.erase(it);
    for (auto it = fetches_.begin(); it != fetches_.end();)
      it = topics_.count(it->first) != 0 ? std::next(it) : fetches_.erase(it);
  }
}

}  // namespace forestcast::multicast
