#pragma once
// A stream's name record (DESIGN.md §2): who publishes a name, the stream's group id and the
// parameters a viewer needs (stripes, FEC, SDP), signed by the publisher's Ed25519 key. The
// group id is not carried: it is SHA-1(name || publisher key), so a record can only point at the
// group of the key that signed it.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "overlay/node_id.hpp"

namespace forestcast::directory {

using PublicKey = std::array<uint8_t, 32>;
using Signature = std::array<uint8_t, 64>;

inline constexpr size_t kMaxNameBytes = 64;
// A record, its envelope and the reply header stay inside one 1,400-byte datagram.
inline constexpr size_t kMaxSdpBytes = 768;
inline constexpr uint32_t kMinTtlMs = 1'000;
inline constexpr uint32_t kMaxTtlMs = 3'600'000;
inline constexpr uint32_t kMaxStripes = 16;

struct NameRecord {
  std::string name;
  PublicKey publisher_key{};
  uint32_t stripes = 16;
  uint32_t fec_data = 0;    // k; 0 = no FEC
  uint32_t fec_parity = 0;  // m
  uint32_t bitrate_kbps = 0;
  // A media stream's session description (media::parse_sdp must accept it); empty for a
  // synthetic stream. A record with an SDP carries the FEC its items are framed with.
  std::string sdp;
  // The publisher's CLOCK_MONOTONIC domain (hash of the host's boot id; 0: unknown). A viewer in
  // the same domain reads the same clock, so its end-to-end delay is exact, not a lower bound.
  uint64_t clock_domain = 0;
  uint32_t ttl_ms = 60'000;
  uint64_t version = 0;
  Signature signature{};

  // Where the record is stored: SHA-1(name).
  static overlay::NodeId key_for(std::string_view name);
  // The stream's group: SHA-1(name || publisher key).
  static overlay::NodeId group_id_for(std::string_view name, const PublicKey& key);
  overlay::NodeId key() const { return key_for(name); }
  overlay::NodeId group_id() const { return group_id_for(name, publisher_key); }

  // The exact bytes the signature covers: every field but the signature, length-prefixed.
  std::string signed_bytes() const;
  bool same_publication(const NameRecord& o) const {
    return name == o.name && publisher_key == o.publisher_key;
  }
};

enum class RecordError : uint8_t {
  kBadName,     // empty, too long, not printable ASCII, or containing '@'
  kBadStripes,  // 0 or more than kMaxStripes
  kBadFec,      // k + m != stripes when FEC is on, or parity without data
  kSdpTooLong,
  kBadSdp,  // an SDP that does not parse, or a media stream (SDP) without FEC parameters
  kBadTtl,
  kBadSignature,
};
std::string_view to_string(RecordError e);

// Checks every field, the signature last (it is the expensive part).
std::optional<RecordError> check(const NameRecord& record);
// True when `name` is acceptable as a stream name.
bool valid_name(std::string_view name);

// What a viewer asks for: "NAME", or "NAME@PUBKEYHEX" to pin one publisher.
struct StreamQuery {
  std::string name;
  std::optional<PublicKey> publisher;

  static std::optional<StreamQuery> parse(std::string_view text);
  bool matches(const NameRecord& r) const {
    return r.name == name && (!publisher || *publisher == r.publisher_key);
  }
  std::string to_string() const;
};

std::string hex_of(const PublicKey& key);

}  // namespace forestcast::directory
