#include "directory/stream_directory.hpp"

#include <algorithm>

#include "base/log.hpp"

namespace forestcast::directory {
namespace {

spdlog::logger& log() {
  static const std::shared_ptr<spdlog::logger> logger = module_logger("directory");
  return *logger;
}

constexpr uint64_t kValueBits = 56;
constexpr uint64_t kValueMask = (uint64_t{1} << kValueBits) - 1;

Duration ttl_of(const NameRecord& r) { return ms(r.ttl_ms); }

// Keeps the newest version of each publication in `records`.
void merge_newest(std::vector<NameRecord>& records, const NameRecord& r) {
  for (auto& have : records) {
    if (!have.same_publication(r)) continue;
    if (r.version > have.version) have = r;
    return;
  }
  records.push_back(r);
}

}  // namespace

StreamDirectory::StreamDirectory(overlay::Overlay& overlay, DirectoryConfig config)
    : overlay_(overlay), config_(config) {}

TimerId StreamDirectory::schedule(Time at, TimerKind kind, uint64_t value) {
  return overlay_.schedule_app_timer(kDirectoryAppId, at,
                                     static_cast<uint64_t>(kind) << kValueBits | value);
}

// --- publishing ------------------------------------------------------------------------------

void StreamDirectory::publish(Time now, NameRecord record) {
  const std::string name = record.name;
  published_[name] = std::move(record);
  if (overlay_.active()) send_published(now);
}

void StreamDirectory::withdraw(const std::string& name) { published_.erase(name); }

void StreamDirectory::send_published(Time now) {
  Duration refresh = Duration::max();
  for (const auto& [name, record] : published_) {
    overlay_.route(now, record.key(), std::make_shared<StoreMessage>(record, false));
    refresh = std::min(refresh, ttl_of(record) / 3);
  }
  if (!published_.empty() && !refreshing_) {
    refreshing_ = true;
    schedule(now + refresh, TimerKind::kRefresh);
  }
}

void StreamDirectory::became_active(Time now) { send_published(now); }

// --- holding records for others --------------------------------------------------------------

bool StreamDirectory::store(Time now, const NameRecord& record) {
  if (auto error = check(record)) {
    ++counters_.rejected_invalid;
    log().debug("{} refuses record '{}': {}", overlay_.self().id.short_hex(), record.name,
                to_string(*error));
    return false;
  }
  const Time expires = now + ttl_of(record);
  auto [first, last] = held_.equal_range(record.name);
  size_t for_name = 0;
  for (auto it = first; it != last; ++it, ++for_name) {
    if (!it->second.record.same_publication(record)) continue;
    if (record.version < it->second.record.version) {
      ++counters_.rejected_stale;
      return false;
    }
    ++(record.version == it->second.record.version ? counters_.stores_refreshed
                                                   : counters_.stores_accepted);
    it->second = Held{record, expires};
    return true;
  }
  if (for_name >= config_.max_per_name || held_.size() >= config_.max_records) {
    ++counters_.rejected_full;
    return false;
  }
  held_.emplace(record.name, Held{record, expires});
  ++counters_.stores_accepted;
  if (!sweeping_) {
    sweeping_ = true;
    schedule(now + config_.sweep_period, TimerKind::kSweep);
  }
  return true;
}

void StreamDirectory::replicate(Time now, const NameRecord& record,
                                const overlay::NodeHandle* only_to) {
  for (const auto& node : overlay_.replica_set(record.key(), config_.replicas)) {
    if (node.id == overlay_.self().id || (only_to && node.id != only_to->id)) continue;
    overlay_.send_direct(now, node, std::make_shared<StoreMessage>(record, true));
    ++counters_.replicas_sent;
  }
}

std::vector<const NameRecord*> StreamDirectory::held_for(const std::string& name, Time now) const {
  std::vector<const NameRecord*> out;
  auto [first, last] = held_.equal_range(name);
  for (auto it = first; it != last; ++it)
    if (it->second.expires > now) out.push_back(&it->second.record);
  return out;
}

// A new neighbour may now be one of the nodes that should hold what we hold.
void StreamDirectory::leafset_changed(Time now, const overlay::NodeHandle& node, bool joined) {
  if (!joined) return;
  for (const auto& [name, held] : held_) {
    if (held.expires <= now) continue;
    const auto replicas = overlay_.replica_set(held.record.key(), config_.replicas);
    const bool belongs = std::any_of(replicas.begin(), replicas.end(),
                                     [&](const overlay::NodeHandle& h) { return h.id == node.id; });
    if (belongs) replicate(now, held.record, &node);
  }
}

// --- lookups ---------------------------------------------------------------------------------

void StreamDirectory::resolve(Time now, const StreamQuery& query, ResolveCallback done) {
  if (pending_.size() >= config_.max_pending_lookups) {
    done(now, {});
    return;
  }
  const uint64_t id = overlay_.random() & kValueMask;
  PendingLookup& p = pending_[id];
  p.query = query;
  p.done = std::move(done);
  // What we hold or publish ourselves answers at once (a lookup never routes back to its
  // origin's own store).
  for (const NameRecord* r : held_for(query.name, now))
    if (query.matches(*r)) merge_newest(p.found, *r);
  if (auto it = published_.find(query.name); it != published_.end() && query.matches(it->second))
    merge_newest(p.found, it->second);
  if (!p.found.empty() || !overlay_.active()) {
    finish_lookup(now, id);
    return;
  }
  p.timer = schedule(now + config_.lookup_timeout, TimerKind::kLookupTimeout, id);
  overlay_.route(now, NameRecord::key_for(query.name),
                 std::make_shared<LookupMessage>(query.name, id));
}

void StreamDirectory::answer(Time now, const overlay::NodeHandle& asker, const std::string& name,
                             uint64_t request_id) {
  const auto records = held_for(name, now);
  if (records.empty()) {
    ++counters_.lookups_not_found;
    overlay_.send_direct(now, asker,
                         std::make_shared<LookupReplyMessage>(request_id, std::nullopt, 0));
    return;
  }
  ++counters_.lookups_answered;
  for (size_t i = 0; i < records.size(); ++i)
    overlay_.send_direct(
        now, asker,
        std::make_shared<LookupReplyMessage>(request_id, *records[i],
                                             static_cast<uint32_t>(records.size() - 1 - i)));
}

void StreamDirectory::on_reply(Time now, const LookupReplyMessage& reply) {
  auto it = pending_.find(reply.request_id());
  if (it == pending_.end()) {
    ++counters_.replies_unexpected;
    return;
  }
  if (reply.record()) {
    if (check(*reply.record())) {
      ++counters_.replies_invalid;
    } else if (it->second.query.matches(*reply.record())) {
      merge_newest(it->second.found, *reply.record());
    }
  }
  if (reply.remaining() == 0) finish_lookup(now, reply.request_id());
}

void StreamDirectory::finish_lookup(Time now, uint64_t request_id) {
  auto it = pending_.find(request_id);
  if (it == pending_.end()) return;
  PendingLookup p = std::move(it->second);
  pending_.erase(it);
  if (p.timer != 0) overlay_.cancel_app_timer(kDirectoryAppId, p.timer);
  std::sort(p.found.begin(), p.found.end(),
            [](const NameRecord& a, const NameRecord& b) { return a.version > b.version; });
  for (const auto& r : p.found) remember_resolved(r);
  if (p.done) p.done(now, std::move(p.found));
}

void StreamDirectory::remember_resolved(const NameRecord& record) {
  merge_newest(resolved_, record);
  // Bounded like the store: forget the oldest answers first.
  if (resolved_.size() > config_.max_records) resolved_.erase(resolved_.begin());
}

std::vector<NameRecord> StreamDirectory::known() const {
  std::vector<NameRecord> out;
  for (const auto& [name, r] : published_) merge_newest(out, r);
  for (const auto& [name, held] : held_) merge_newest(out, held.record);
  for (const auto& r : resolved_) merge_newest(out, r);
  std::sort(out.begin(), out.end(), [](const NameRecord& a, const NameRecord& b) {
    return a.name != b.name ? a.name < b.name : a.publisher_key < b.publisher_key;
  });
  return out;
}

// --- upcalls ---------------------------------------------------------------------------------

void StreamDirectory::forward(Time now, overlay::ForwardContext& ctx) {
  if (ctx.message->type() != static_cast<uint16_t>(DirectoryMsgType::kLookup)) return;
  if (ctx.origin.id == overlay_.self().id) return;  // resolve() already looked here
  const auto& lookup = static_cast<const LookupMessage&>(*ctx.message);
  if (held_for(lookup.name(), now).empty()) return;
  answer(now, ctx.origin, lookup.name(), lookup.request_id());
  ctx.consumed = true;
}

void StreamDirectory::deliver(Time now, const overlay::RouteInfo& info,
                              const overlay::AppMessagePtr& msg) {
  switch (static_cast<DirectoryMsgType>(msg->type())) {
    case DirectoryMsgType::kStore: {
      const NameRecord& record = static_cast<const StoreMessage&>(*msg).record();
      if (store(now, record)) replicate(now, record, nullptr);
      return;
    }
    case DirectoryMsgType::kLookup: {
      const auto& lookup = static_cast<const LookupMessage&>(*msg);
      if (info.origin.id == overlay_.self().id) {
        finish_lookup(now, lookup.request_id());  // we are the root and hold nothing more
      } else {
        answer(now, info.origin, lookup.name(), lookup.request_id());
      }
      return;
    }
    default:
      ++counters_.malformed;  // replicas and replies are never routed
  }
}

void StreamDirectory::receive_direct(Time now, const overlay::NodeHandle& from,
                                     const overlay::AppMessagePtr& msg) {
  (void)from;
  switch (static_cast<DirectoryMsgType>(msg->type())) {
    case DirectoryMsgType::kStoreReplica:
      store(now, static_cast<const StoreMessage&>(*msg).record());
      return;
    case DirectoryMsgType::kLookupReply:
      on_reply(now, static_cast<const LookupReplyMessage&>(*msg));
      return;
    default:
      ++counters_.malformed;  // stores and lookups are routed, never sent directly
  }
}

void StreamDirectory::on_timer(Time now, uint64_t token) {
  const uint64_t value = token & kValueMask;
  switch (static_cast<TimerKind>(token >> kValueBits)) {
    case TimerKind::kSweep:
      sweeping_ = false;
      for (auto it = held_.begin(); it != held_.end();)
        it = it->second.expires <= now ? held_.erase(it) : std::next(it);
      if (!held_.empty()) {
        sweeping_ = true;
        schedule(now + config_.sweep_period, TimerKind::kSweep);
      }
      return;
    case TimerKind::kRefresh:
      refreshing_ = false;
      if (overlay_.active()) send_published(now);
      return;
    case TimerKind::kLookupTimeout:
      if (auto it = pending_.find(value); it != pending_.end()) {
        it->second.timer = 0;
        if (it->second.found.empty()) ++counters_.lookups_timed_out;
        finish_lookup(now, value);
      }
      return;
  }
}

}  // namespace forestcast::directory
