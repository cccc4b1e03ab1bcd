#include "media/group_assembler.hpp"

#include <algorithm>

namespace forestcast::media {

std::string_view to_string(ItemVerdict v) {
  switch (v) {
    case ItemVerdict::kAccepted:
      return "accepted";
    case ItemVerdict::kMalformed:
      return "malformed";
    case ItemVerdict::kForeign:
      return "foreign";
    case ItemVerdict::kForged:
      return "forged";
    case ItemVerdict::kReplayed:
      return "replayed";
    case ItemVerdict::kAhead:
      return "ahead";
    case ItemVerdict::kDuplicate:
      return "duplicate";
    case ItemVerdict::kLate:
      return "late";
    case ItemVerdict::kOverCapacity:
      return "over_capacity";
    case ItemVerdict::kRedundant:
      return "redundant";
  }
  return "unknown";
}

GroupAssembler::GroupAssembler(AssemblerConfig config, GroupVerifier& verifier)
    : config_(config), verifier_(verifier), codec_(config.fec) {}

ItemVerdict GroupAssembler::count(ItemVerdict v) {
  ++counters_.items[static_cast<size_t>(v)];
  return v;
}

ItemVerdict GroupAssembler::on_item(Time now, unsigned stripe, std::span<const uint8_t> item,
                                    uint64_t floor, bool retransmitted) {
  floor_ = std::max(floor_, floor);
  item_retransmitted_ = retransmitted;
  if (retransmitted) ++counters_.items_retransmitted;
  if (stripe >= config_.stripes) return count(ItemVerdict::kMalformed);
  const auto kind = peek_item_kind(item);
  if (kind == ItemKind::kSymbol) return count(on_symbol(now, item));
  if (kind == ItemKind::kAuth) return count(on_auth(now, item));
  return count(ItemVerdict::kMalformed);
}

ItemVerdict GroupAssembler::window_check(const GroupHeader& h, uint64_t floor) const {
  if (h.stream != config_.stream) return ItemVerdict::kForeign;
  if (h.data_symbols != config_.fec.data || h.parity_symbols != config_.fec.parity) {
    return ItemVerdict::kMalformed;
  }
  if (newest_authenticated_) {
    if (h.group + config_.replay_window < *newest_authenticated_) return ItemVerdict::kReplayed;
    if (h.group > *newest_authenticated_ + config_.ahead_window) return ItemVerdict::kAhead;
  }
  if (h.group < floor) return ItemVerdict::kLate;
  return ItemVerdict::kAccepted;
}

GroupAssembler::Assembly* GroupAssembler::assembly_for(Time now, uint64_t group) {
  if (auto it = groups_.find(group); it != groups_.end()) return &it->second;
  if (groups_.size() >= config_.max_groups) {
    // Make room by dropping the unauthenticated group farthest from the stream's front: real
    // groups are near it and soon authenticated, flooded forgeries are not.
    const uint64_t front = newest_authenticated_.value_or(group);
    auto victim = groups_.end();
    uint64_t farthest = 0;
    for (auto it = groups_.begin(); it != groups_.end(); ++it) {
      if (it->second.auth || it->second.done) continue;
      const uint64_t d = it->first > front ? it->first - front : front - it->first;
      if (victim == groups_.end() || d > farthest) {
        victim = it;
        farthest = d;
      }
    }
    if (victim == groups_.end()) return nullptr;
    release(victim);
  }
  Assembly& a = groups_[group];
  a.first_arrival = now;
  a.last_arrival = now;
  return &a;
}

void GroupAssembler::store_symbol(Assembly& a, const SymbolItem& s, Slot state) {
  const size_t len = a.header->symbol_bytes;
  std::copy(s.symbol.begin(), s.symbol.end(), a.symbols.begin() + s.index * len);
  a.slots[s.index] = state;
  const uint32_t bit = uint32_t{1} << s.index;
  a.retransmitted_slots = item_retransmitted_ ? a.retransmitted_slots | bit
                                              : a.retransmitted_slots & ~bit;
}

ItemVerdict GroupAssembler::on_symbol(Time now, std::span<const uint8_t> item) {
  const auto s = decode_symbol_item(item);
  if (!s) return ItemVerdict::kMalformed;
  if (auto v = window_check(s->header, floor_); v != ItemVerdict::kAccepted) {
    // Past its playout time: still useful to a held group (its packets count late, not lost).
    auto it = v == ItemVerdict::kLate ? groups_.find(s->header.group) : groups_.end();
    if (it == groups_.end()) return v;
    if (it->second.done) return ItemVerdict::kRedundant;
  }
  const bool existed = groups_.count(s->header.group) != 0;
  Assembly* a = assembly_for(now, s->header.group);
  if (a == nullptr) return ItemVerdict::kOverCapacity;
  a->last_arrival = now;
  if (a->done) return ItemVerdict::kRedundant;
  if (a->header && *a->header != s->header) return ItemVerdict::kForged;
  if (!a->header) {
    const size_t need = size_t{s->header.total_symbols()} * s->header.symbol_bytes;
    if (bytes_held_ + need > config_.max_bytes) {
      if (!existed) groups_.erase(s->header.group);
      return ItemVerdict::kOverCapacity;
    }
    a->header = s->header;
    a->symbols.assign(need, 0);
    bytes_held_ += need;
  }
  if (a->slots[s->index] != Slot::kEmpty) return ItemVerdict::kDuplicate;
  const SymbolHash h = hash_item(item);
  if (a->auth) {
    if (h != a->auth->hashes[s->index]) return ItemVerdict::kForged;
    store_symbol(*a, *s, Slot::kVerified);
    try_decode(*a);
  } else {
    a->pending_hash[s->index] = h;
    store_symbol(*a, *s, Slot::kPending);
  }
  return ItemVerdict::kAccepted;
}

ItemVerdict GroupAssembler::on_auth(Time now, std::span<const uint8_t> item) {
  auto auth = decode_auth_item(item);
  if (!auth) return ItemVerdict::kMalformed;
  if (auto v = window_check(auth->header, floor_); v != ItemVerdict::kAccepted) {
    auto it = v == ItemVerdict::kLate ? groups_.find(auth->header.group) : groups_.end();
    if (it == groups_.end()) return v;
    if (it->second.auth) return ItemVerdict::kRedundant;
  }
  const uint64_t group = auth->header.group;
  const bool existed = groups_.count(group) != 0;
  Assembly* a = assembly_for(now, group);
  if (a == nullptr) return ItemVerdict::kOverCapacity;
  a->last_arrival = now;
  if (a->auth) return a->done ? ItemVerdict::kRedundant : ItemVerdict::kDuplicate;
  ++counters_.signature_checks;
  if (!verifier_.verify(group_digest(auth->header, auth->hashes), auth->signature)) {
    if (!existed) groups_.erase(group);
    return ItemVerdict::kForged;
  }
  const size_t need = size_t{auth->header.total_symbols()} * auth->header.symbol_bytes;
  if (a->header && *a->header != auth->header) {
    // Every symbol held so far carried a header the publisher did not sign.
    for (auto& slot : a->slots) {
      if (slot != Slot::kEmpty) count(ItemVerdict::kForged);
      slot = Slot::kEmpty;
    }
    bytes_held_ -= a->symbols.size();
    a->symbols.clear();
    a->header.reset();
  }
  if (!a->header) {
    // The signed header is trusted: its group must get memory, so the byte bound is checked
    // against unauthenticated state only when symbols arrive first.
    a->header = auth->header;
    a->symbols.assign(need, 0);
    bytes_held_ += need;
  }
  for (unsigned i = 0; i < auth->header.total_symbols(); ++i) {
    if (a->slots[i] != Slot::kPending) continue;
    if (a->pending_hash[i] == auth->hashes[i]) {
      a->slots[i] = Slot::kVerified;
    } else {
      a->slots[i] = Slot::kEmpty;
      count(ItemVerdict::kForged);
    }
  }
  a->auth = std::move(*auth);
  a->auth_retransmitted = item_retransmitted_;
  newest_authenticated_ = std::max(newest_authenticated_.value_or(group), group);
  authenticated_.push_back({*a->header, a->first_arrival});
  try_decode(*a);
  return ItemVerdict::kAccepted;
}

void GroupAssembler::try_decode(Assembly& a) {
  if (a.done || !a.auth) return;
  const GroupHeader& h = *a.header;
  const unsigned k = h.data_symbols;
  const unsigned n = h.total_symbols();
  const size_t len = h.symbol_bytes;
  bool present[FecScheme::kMaxSymbols];
  uint8_t* ptrs[FecScheme::kMaxSymbols];
  unsigned have = 0;
  unsigned live = 0;  // present without a replay
  for (unsigned i = 0; i < n; ++i) {
    present[i] = a.slots[i] == Slot::kVerified;
    have += present[i] ? 1 : 0;
    live += present[i] && (a.retransmitted_slots & (uint32_t{1} << i)) == 0 ? 1 : 0;
    ptrs[i] = a.symbols.data() + i * len;
  }
  if (have < k) return;
  bool rebuilt = false;
  for (unsigned i = 0; i < k; ++i) rebuilt = rebuilt || !present[i];
  if (rebuilt && !codec_.restore({ptrs, n}, {present, n}, len)) return;

  DecodedGroup g;
  g.header = h;
  g.first_arrival = a.first_arrival;
  g.retransmitted = live < k || a.auth_retransmitted;
  g.stream.assign(a.symbols.begin(), a.symbols.begin() + h.data_bytes);
  bytes_held_ -= a.symbols.size();
  a.symbols = {};
  a.done = true;
  auto packets = split_framed_packets(g.stream, h.packet_count);
  if (!packets) {
    ++counters_.groups_unusable;  // signed by the publisher, so a publisher bug, not an attack
    return;
  }
  g.packets = std::move(*packets);
  g.restored.reserve(g.packets.size());
  for (const auto& p : g.packets) {
    const size_t start = static_cast<size_t>(p.bytes.data() - g.stream.data()) - kPacketPrefixBytes;
    const size_t end = start + kPacketPrefixBytes + p.bytes.size();
    bool r = false;
    for (size_t s = start / len; s <= (end - 1) / len; ++s) r = r || !present[s];
    g.restored.push_back(r);
  }
  ++counters_.groups_decoded;
  if (rebuilt) ++counters_.groups_restored_by_fec;
  if (g.retransmitted) ++counters_.groups_restored_by_retransmission;
  decoded_.push_back(std::move(g));
}

void GroupAssembler::short_stripes(const std::function<bool(const GroupHeader&, Time)>& due,
                                   std::vector<uint8_t>& want) const {
  const unsigned k = config_.fec.data;
  const unsigned n = config_.fec.total();
  for (auto it = groups_.lower_bound(floor_); it != groups_.end(); ++it) {
    const auto& [group, a] = *it;
    if (a.done || !a.header || !due(*a.header, a.first_arrival)) continue;
    unsigned have = 0;
    for (unsigned i = 0; i < n; ++i) have += a.slots[i] != Slot::kEmpty ? 1 : 0;
    // Every missing symbol is asked for, not just k - have: which stripes come back is not ours
    // to choose.
    if (have < k) {
      for (unsigned i = 0; i < n; ++i)
        if (a.slots[i] == Slot::kEmpty) want[item_stripe(group, i, config_.stripes)] = 1;
    }
    if (!a.auth) {
      for (unsigned c = 0; c <= config_.fec.parity && c < config_.stripes; ++c)
        want[item_stripe(group, c, config_.stripes)] = 1;
    }
  }
}

void GroupAssembler::release(std::map<uint64_t, Assembly>::iterator it) {
  Assembly& a = it->second;
  if (a.auth) skew_.record(a.last_arrival - a.first_arrival);
  if (!a.done) ++counters_.groups_expired;
  bytes_held_ -= a.symbols.size();
  groups_.erase(it);
}

void GroupAssembler::expire(Time now, uint64_t floor) {
  floor_ = std::max(floor_, floor);
  for (auto it = groups_.begin(); it != groups_.end();) {
    auto next = std::next(it);
    if (it->second.first_arrival + config_.hold <= now) release(it);
    it = next;
  }
}

Time GroupAssembler::next_expiry() const {
  Time t = kNever;
  for (const auto& [n, a] : groups_) t = std::min(t, a.first_arrival + config_.hold);
  return t;
}

std::vector<GroupAssembler::Authenticated> GroupAssembler::take_authenticated() {
  std::vector<Authenticated> out;
  out.swap(authenticated_);
  return out;
}

std::vector<DecodedGroup> GroupAssembler::take_decoded() {
  std::vector<DecodedGroup> out;
  out.swap(decoded_);
  return out;
}

}  // namespace forestcast::media
