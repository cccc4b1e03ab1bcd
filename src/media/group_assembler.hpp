#pragma once
// The viewer's first stage: collects the stripe items of each group, authenticates them and
// restores the group's packets as soon as k authenticated symbols are present.
//
// Authentication is per group: the first valid GroupAuth copy costs one signature check; each
// symbol item is then accepted by comparing its 16-byte hash with the signed list. Symbols that
// arrive before their group's GroupAuth wait (bounded) and are checked when it arrives. Nothing
// unauthenticated moves the replay window or the playout clock: an attacker can only spend
// bounded memory until expiry.
#include <array>
#include <functional>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <vector>

#include "base/time.hpp"
#include "media/delay_histogram.hpp"
#include "media/fec_scheme.hpp"
#include "media/group_format.hpp"
#include "media/group_signer.hpp"
#include "media/reed_solomon.hpp"

namespace forestcast::media {

struct AssemblerConfig {
  StreamId stream{};
  FecScheme fec{};
  unsigned stripes = 16;
  size_t max_groups = 256;             // groups held at once (any state)
  size_t max_bytes = 8 * 1024 * 1024;  // symbol bytes held at once
  uint64_t replay_window = 4096;       // groups older than newest authenticated - window
  uint64_t ahead_window = 4096;        // groups newer than newest authenticated + window
  Duration hold = ms(1000);            // a group's state lives this long after its first item
};

// What became of an item; everything but kAccepted and kRedundant is a drop.
enum class ItemVerdict : uint8_t {
  kAccepted,
  kMalformed,     // not a well-formed item of the configured FEC scheme
  kForeign,       // another stream's group id
  kForged,        // bad signature, or hash not the signed one
  kReplayed,      // group number behind the replay window
  kAhead,         // group number beyond the window ahead of the newest authenticated group
  kDuplicate,     // this symbol or auth is already held
  kLate,          // its group was already played out or given up
  kOverCapacity,  // memory bound reached
  kRedundant,     // its group was already restored from k symbols (normal with m > 0)
};
inline constexpr size_t kItemVerdictCount = 10;
std::string_view to_string(ItemVerdict v);

// A restored group, handed to the playout buffer.
struct DecodedGroup {
  GroupHeader header;
  Time first_arrival{};
  std::vector<uint8_t> stream;        // the restored byte stream (owns the packets' bytes)
  std::vector<FramedPacket> packets;  // views into `stream`
  std::vector<bool> restored;         // per packet: some of its bytes were rebuilt by FEC
  // The group was completed by items a relay replayed (gap repair): without them it had fewer
  // than k symbols, or no signature.
  bool retransmitted = false;
};

struct AssemblerCounters {
  std::array<uint64_t, kItemVerdictCount> items{};
  uint64_t groups_decoded = 0;
  uint64_t groups_restored_by_fec = 0;  // decoded with at least one data symbol rebuilt
  uint64_t groups_restored_by_retransmission = 0;  // DecodedGroup::retransmitted
  uint64_t items_retransmitted = 0;                // replayed items offered (any verdict)
  uint64_t groups_unusable = 0;         // authenticated but the packets did not split
  uint64_t groups_expired = 0;          // dropped before enough authenticated symbols came
  uint64_t signature_checks = 0;
  uint64_t operator[](ItemVerdict v) const { return items[static_cast<size_t>(v)]; }
};

class GroupAssembler {
 public:
  GroupAssembler(AssemblerConfig config, GroupVerifier& verifier);

  // Groups below `floor` are finished downstream: their items are late, their state can go.
  // `retransmitted`: the item came from a relay's replay (gap repair), not the live stream.
  ItemVerdict on_item(Time now, unsigned stripe, std::span<const uint8_t> item, uint64_t floor,
                      bool retransmitted = false);
  // Peer fetch: for each group not yet played out that `due(header, first arrival)` picks and
  // that cannot be restored yet (fewer than k symbols, or no authentication), sets want[stripe]
  // for the stripes that carry what it lacks. `want` has config.stripes entries.
  void short_stripes(const std::function<bool(const GroupHeader&, Time)>& due,
                     std::vector<uint8_t>& want) const;
  // Drops state older than config.hold; records each group's stripe skew on the way out.
  void expire(Time now, uint64_t floor);
  Time next_expiry() const;

  // Newly authenticated groups (for the playout clock and loss accounting), then restored ones.
  struct Authenticated {
    GroupHeader header;
    Time first_arrival;
  };
  std::vector<Authenticated> take_authenticated();
  std::vector<DecodedGroup> take_decoded();

  const AssemblerCounters& counters() const { return counters_; }
  const DelayHistogram& stripe_skew() const { return skew_; }
  size_t groups_held() const { return groups_.size(); }
  size_t bytes_held() const { return bytes_held_; }
  const ReedSolomon& codec() const { return codec_; }

 private:
  enum class Slot : uint8_t { kEmpty, kPending, kVerified };
  struct Assembly {
    std::optional<GroupHeader> header;  // from the auth once verified, else the first symbol's
    std::optional<GroupAuth> auth;      // verified
    std::vector<uint8_t> symbols;       // n x symbol_bytes
    std::array<Slot, FecScheme::kMaxSymbols> slots{};
    std::array<SymbolHash, FecScheme::kMaxSymbols> pending_hash{};
    Time first_arrival{};
    Time last_arrival{};
    uint32_t retransmitted_slots = 0;  // bit i: symbol i came from a replay
    bool auth_retransmitted = false;
    bool done = false;  // restored and handed on: later items are only counted
  };

  ItemVerdict count(ItemVerdict v);
  ItemVerdict on_symbol(Time now, std::span<const uint8_t> item);
  ItemVerdict on_auth(Time now, std::span<const uint8_t> item);
  ItemVerdict window_check(const GroupHeader& h, uint64_t floor) const;
  Assembly* assembly_for(Time now, uint64_t group);
  void store_symbol(Assembly& a, const SymbolItem& s, Slot state);
  void try_decode(Assembly& a);
  void release(std::map<uint64_t, Assembly>::iterator it);

  AssemblerConfig config_;
  GroupVerifier& verifier_;
  ReedSolomon codec_;
  std::map<uint64_t, Assembly> groups_;
  std::optional<uint64_t> newest_authenticated_;
  uint64_t floor_ = 0;
  size_t bytes_held_ = 0;
  bool item_retransmitted_ = false;  // of the item on_item() is handling
  AssemblerCounters counters_;
  DelayHistogram skew_;
  std::vector<Authenticated> authenticated_;
  std::vector<DecodedGroup> decoded_;
};

}  // namespace forestcast::media
