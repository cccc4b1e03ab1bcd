#pragma once
// The publisher's half of the media path, sans-IO: RTP datagrams and time in, stripe payloads
// out. Consecutive packets are gathered into a group until the next one would not fit k
// symbols of max_symbol_bytes, or the group has waited max_group_wait; the group is then framed,
// Reed-Solomon coded, hashed, signed, and emitted as k + m SymbolItems (one per stripe, rotated
// by group number) plus m + 1 copies of its GroupAuth.
#include <cstdint>
#include <span>
#include <vector>

#include "base/time.hpp"
#include "media/fec_scheme.hpp"
#include "media/group_format.hpp"
#include "media/group_signer.hpp"
#include "media/reed_solomon.hpp"
#include "media/rtp_packet.hpp"

namespace forestcast::media {

// What the forest carries: `bytes` (<= kMaxItemBytes) on stripe `stripe`. The forest adds its
// own per-stripe sequence numbers and delivers the bytes to every viewer.
struct StripePayload {
  uint8_t stripe = 0;
  std::vector<uint8_t> bytes;
};

struct PublisherConfig {
  StreamId stream{};
  unsigned stripes = 16;
  FecScheme fec{};
  size_t max_symbol_bytes = 1100;
  Duration max_group_wait = ms(100);
  size_t max_queued_payloads = 4096;  // if the driver stops draining, the oldest are dropped

  // Throws FecConfigError for a scheme that does not fit the stripes or item limits.
  void validate() const;
};

struct PublisherCounters {
  uint64_t rtp_received = 0;
  uint64_t rtp_accepted = 0;
  RtpDropCounters rtp_dropped;
  uint64_t rtp_too_large = 0;  // valid RTP that does not fit one group
  uint64_t groups = 0;
  uint64_t symbol_items = 0;
  uint64_t auth_items = 0;
  uint64_t payload_bytes = 0;
  uint64_t payloads_dropped = 0;  // output queue overflow
};

class PublisherPipeline {
 public:
  PublisherPipeline(PublisherConfig config, GroupSigner& signer);

  // One datagram from the RTP ingest socket, received at `now` (the driver's clock).
  void on_rtp(Time now, std::span<const uint8_t> datagram);
  // Emits the open group when its wait is over.
  void on_tick(Time now);
  // When on_tick must be called next; kNever while no group is open.
  Time next_deadline() const;
  // Emits the open group now (end of stream).
  void flush();

  std::vector<StripePayload> take_payloads();
  const PublisherCounters& counters() const { return counters_; }
  const PublisherConfig& config() const { return config_; }
  // Largest RTP packet a group can carry.
  size_t max_rtp_bytes() const;

 private:
  void emit_group();
  void push(uint8_t stripe, std::vector<uint8_t> bytes);

  PublisherConfig config_;
  GroupSigner& signer_;
  ReedSolomon codec_;
  PublisherCounters counters_;
  uint64_t next_group_ = 0;
  uint64_t next_packet_ = 0;
  // The open group.
  std::vector<uint8_t> stream_;
  uint16_t packets_in_group_ = 0;
  Time group_start_{};
  std::vector<StripePayload> out_;
};

}  // namespace forestcast::media
