#pragma once
// The media items the forest carries on its stripes (docs/media.md has the byte layout).
// A group of consecutive RTP packets is laid out as one byte stream -- per packet a 2-byte
// length and a 2-byte ingest-time offset, then the packet -- zero-padded and cut into k data
// symbols of equal size; Reed-Solomon adds m parity symbols. Every symbol travels as a
// SymbolItem that repeats the group header, so any k of them decode the group. A GroupAuth item
// carries the hash of every symbol item and the publisher's signature over all of it; it is
// sent on m + 1 stripes so a viewer that lost m stripes still has one.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "base/time.hpp"

namespace forestcast::media {

using StreamId = std::array<uint8_t, 16>;    // the stream's groupId (DESIGN.md §2)
using SymbolHash = std::array<uint8_t, 16>;  // SHA-256 truncated to 128 bits
using GroupDigest = std::array<uint8_t, 32>;
using GroupSignature = std::array<uint8_t, 64>;

inline constexpr uint8_t kFormatVersion = 1;
// The forest's own headers must fit beside an item in a 1,400-byte datagram.
inline constexpr size_t kMaxItemBytes = 1200;
inline constexpr size_t kGroupHeaderBytes = 16 + 8 + 8 + 8 + 2 + 1 + 1 + 2 + 2;
inline constexpr size_t kSymbolItemOverhead = 1 + kGroupHeaderBytes + 1;
inline constexpr size_t kMaxSymbolBytes = kMaxItemBytes - kSymbolItemOverhead;
inline constexpr size_t kPacketPrefixBytes = 4;
// Ingest-time offsets inside a group are carried in units of 10 us in 16 bits.
inline constexpr Duration kOffsetUnit{10};
inline constexpr Duration kMaxGroupSpan = kOffsetUnit * 65535;

enum class ItemKind : uint8_t { kSymbol = 1, kAuth = 2 };

struct GroupHeader {
  StreamId stream{};
  uint64_t group = 0;
  uint64_t publisher_time_us = 0;  // publisher's clock when the group's first packet arrived
  uint64_t first_packet = 0;       // publisher's running packet index of the first packet
  uint16_t packet_count = 0;
  uint8_t data_symbols = 0;    // k
  uint8_t parity_symbols = 0;  // m
  uint16_t symbol_bytes = 0;
  uint16_t data_bytes = 0;  // byte stream length before zero padding

  unsigned total_symbols() const { return unsigned{data_symbols} + parity_symbols; }
  bool operator==(const GroupHeader&) const = default;
};

struct SymbolItem {
  GroupHeader header;
  uint8_t index = 0;  // < k: data, else parity
  std::span<const uint8_t> symbol;
};

struct GroupAuth {
  GroupHeader header;
  std::vector<SymbolHash> hashes;  // one per symbol item, k + m
  GroupSignature signature{};
};

// The stripe that carries symbol `index` of `group` (and copy `index` of its GroupAuth): rotated
// by group number so no stripe always carries parity.
inline unsigned item_stripe(uint64_t group, unsigned index, unsigned stripes) {
  return static_cast<unsigned>((index + group) % stripes);
}

// First byte of an item: version in the high nibble, kind in the low one.
std::optional<ItemKind> peek_item_kind(std::span<const uint8_t> item);

std::vector<uint8_t> encode_symbol_item(const GroupHeader& h, uint8_t index,
                                        std::span<const uint8_t> symbol);
// nullopt for anything malformed: wrong version/kind, bad k/m, sizes that disagree.
std::optional<SymbolItem> decode_symbol_item(std::span<const uint8_t> item);

std::vector<uint8_t> encode_auth_item(const GroupAuth& auth);
std::optional<GroupAuth> decode_auth_item(std::span<const uint8_t> item);

SymbolHash hash_item(std::span<const uint8_t> item);
// What the publisher signs: SHA-256 over a domain tag, the header and every symbol hash.
GroupDigest group_digest(const GroupHeader& h, std::span<const SymbolHash> hashes);

// The byte stream of a group's packets.
struct FramedPacket {
  std::span<const uint8_t> bytes;
  uint16_t offset_units = 0;  // ingest time - group's publisher time, in kOffsetUnit
};
void append_framed_packet(std::vector<uint8_t>& stream, std::span<const uint8_t> packet,
                          uint16_t offset_units);
// Splits a restored stream into its packets; nullopt when the stream is inconsistent or does
// not hold exactly `expected_count` packets.
std::optional<std::vector<FramedPacket>> split_framed_packets(std::span<const uint8_t> stream,
                                                              size_t expected_count);

}  // namespace forestcast::media
