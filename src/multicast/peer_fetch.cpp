// Scribe's peer fetch (part of class Scribe; the request record and the rate limit are
// peer_fetch_state.cpp). A member asks one of its closest leaf-set neighbours for what it lacks
// of a stripe; the neighbour answers from its stripe history through the same pacer as gap
// repair. Answers are ordinary data: deduplicated by the history, forwarded to our own children
// (a cut subtree misses them too), authenticated by the media layer like every packet.
#include <algorithm>

#include "multicast/scribe.hpp"

namespace forestcast::multicast {

void Scribe::fetch(Time now, const NodeId& topic_id) {
  const FetchConfig& fc = config_.fetch;
  if (!fc.enabled || !config_.gap_repair || left_) return;
  const TopicState* t = topic(topic_id);
  if (t == nullptr || !t->member || t->slow || t->source) return;
  FetchRecord& rec = fetches_[topic_id];  // member topics only; swept with the histories
  if (const auto* last = rec.last()) {
    const bool answered = rec.answered_since(last->sent);
    if (now - last->sent < (answered ? fc.min_interval : reask_after())) return;
    if (!answered) {
      // Nothing came: those neighbours lack the stripe too (or are gone). Ask the next ones,
      // more of them each time.
      rec.rotation += rec.round_size;
      ++rec.unanswered_run;
      ++fetch_counters_.peer_rotations;
    } else {
      rec.unanswered_run = 0;
    }
  }
  std::vector<NodeHandle> peers = fetch_peers(now, *t);
  if (peers.empty()) {
    ++fetch_counters_.requests_no_peer;
    return;
  }
  FetchBody body{topic_id, 0, {}};
  if (const StripeHistory* h = history(topic_id)) {
    body.after = h->newest();
    h->holes(kMaxFetchMissing, body.missing);
  }
  const size_t first = rec.rotation;
  uint32_t widen = rec.unanswered_run;
  if (fc.silent_widen > Duration::zero() && body.after > 0 &&
      history(topic_id)->first_received_since(now - fc.silent_widen) == 0)
    widen = std::max<uint32_t>(widen, 1);
  size_t fanout = fc.fanout;
  for (uint32_t r = 0; r < widen && fanout < fc.fanout_max; ++r) fanout *= 2;
  fanout = std::min({std::max(fc.fanout, std::min(fanout, fc.fanout_max)), peers.size(),
                     FetchRecord::kMaxRound});
  rec.round_size = static_cast<uint32_t>(fanout);
  for (size_t i = 0; i < fanout; ++i) {
    const NodeHandle& peer = peers[(first + i) % peers.size()];
    FetchRecord::Request& r = rec.next(now, fetch_counters_);
    r.peer = peer.id;
    r.after = body.after;
    r.missing = body.missing;
    ++fetch_counters_.requests_sent;
    send(now, peer, std::make_shared<const FetchMsg>(body));
  }
}

Duration Scribe::reask_after() const {
  const FetchConfig& fc = config_.fetch;
  const uint64_t smoothed = fetch_counters_.answer_delay_us_smoothed;
  if (!fc.reask_early || smoothed == 0) return fc.min_interval;
  return std::clamp(Duration{static_cast<int64_t>(smoothed * 3 / 2)}, fc.reask_min,
                    std::max(fc.reask_min, fc.min_interval));
}

std::vector<NodeHandle> Scribe::fetch_peers(Time now, const TopicState& t) const {
  const FetchConfig& fc = config_.fetch;
  std::vector<NodeHandle> peers;
  auto add = [&](const NodeHandle& p) {
    // Not our parent or children in this stripe: they are cut where we are.
    if (p.id == self().id || (t.parent && p.id == t.parent->id) || t.has_child(p.id)) return;
    if (std::none_of(peers.begin(), peers.end(), [&](const NodeHandle& q) { return q.id == p.id; }))
      peers.push_back(p);
  };
  if (fc.tree_peers) {
    // First the nodes we exchange the stream's other stripes with: our parents there (heard from
    // lately) and our children. Each sits in this stripe's tree at a place of its own, so a
    // relay whose death cut us rarely cut them too -- unlike leaf-set neighbours, whose ids
    // (and so their join routes) resemble ours. Sibling stripes of one stream differ only in
    // the first digit of their id.
    const NodeId stream = t.id.with_digit(0, 0);
    for (const auto& [id, o] : topics_.map()) {
      if (&o == &t || !o.member || o.slow || id.with_digit(0, 0) != stream) continue;
      if (o.parent && !o.cut_off && now - o.last_from_parent <= fc.tree_peer_fresh) add(*o.parent);
      for (const Child& c : o.children) add(c.node);
    }
    // Sorted by id, each stripe starting at its own place: one viewer's requests for several
    // cut stripes spread over its peers.
    std::sort(peers.begin(), peers.end(),
              [](const NodeHandle& a, const NodeHandle& b) { return a.id < b.id; });
  }
  const size_t digit = static_cast<size_t>(t.id.digit(0));
  const size_t tree = peers.size();
  if (tree > 0) std::rotate(peers.begin(), peers.begin() + static_cast<long>(digit % tree), peers.end());
  for (const NodeHandle& p : overlay_.replica_set(self().id, fc.peers + 1)) add(p);
  if (peers.size() > tree)
    std::rotate(peers.begin() + static_cast<long>(tree),
                peers.begin() + static_cast<long>(tree + digit % (peers.size() - tree)), peers.end());
  return peers;
}

void Scribe::on_fetch(Time now, const NodeHandle& from, const FetchBody& f) {
  const FetchConfig& fc = config_.fetch;
  if (!fc.enabled || !config_.gap_repair || left_) return;
  const StripeHistory* h = history(f.topic);
  std::vector<std::shared_ptr<const DataMsg>> out;
  if (h != nullptr) {
    for (uint64_t s : f.missing)
      if (auto p = h->get(now, s)) out.push_back(std::move(p));
    // The tail: what came after the requester's newest, but only the recent part (older
    // packets would reach it past their playout time).
    uint64_t since = f.after;
    if (const uint64_t recent = h->first_received_since(now - fc.tail_lookback);
        recent > 0 && recent - 1 > since)
      since = recent - 1;
    if (out.size() < fc.max_answer_packets) h->after(now, since, out);
  }
  if (out.size() > fc.max_answer_packets) out.resize(fc.max_answer_packets);
  if (out.empty()) {
    ++fetch_counters_.requests_empty;
    return;
  }
  const size_t granted = fetch_limiter_.grant(now, from.id, out.size());
  if (granted == 0) {
    ++fetch_counters_.requests_refused;
    return;
  }
  out.resize(granted);
  if (!replay_.enqueue(now, from, out, true)) {
    ++fetch_counters_.requests_refused;
    return;
  }
  ++fetch_counters_.requests_served;
  fetch_counters_.packets_served += out.size();
  for (const auto& p : out)
    fetch_counters_.bytes_served += p->body.payload ? p->body.payload->size() : p->body.payload_size;
  send_replays(now);
}

bool Scribe::accept_fetched(Time now, const NodeHandle& from, TopicState& t,
                            const std::shared_ptr<const DataMsg>& d) {
  auto it = fetches_.find(t.id);
  if (it == fetches_.end() ||
      !it->second.expects(now, config_.fetch.answer_life, from.id, d->body.seq,
                            fetch_counters_)) {
    if (d->body.replayed && t.member) ++fetch_counters_.answers_unsolicited;
    return false;
  }
  const uint64_t dropped = counters_.data_duplicates + counters_.data_too_old;
  forward_data(now, t, d);
  if (counters_.data_duplicates + counters_.data_too_old == dropped)
    ++fetch_counters_.answers_accepted;
  else
    ++fetch_counters_.answers_duplicate;
  return true;
}

}  // namespace forestcast::multicast
