#include "media/publisher_pipeline.hpp"

#include <algorithm>

namespace forestcast::media {

void PublisherConfig::validate() const {
  if (stripes == 0 || stripes > 256) throw FecConfigError("stripes must be 1..256");
  if (fec.data == 0 || fec.total() > stripes || fec.total() > FecScheme::kMaxSymbols) {
    throw FecConfigError("FEC " + fec.to_string() + " does not fit " + std::to_string(stripes) +
                         " stripes");
  }
  if (max_symbol_bytes < 64 || max_symbol_bytes > kMaxSymbolBytes) {
    throw FecConfigError("max symbol size must be 64.." + std::to_string(kMaxSymbolBytes));
  }
  if (fec.data * max_symbol_bytes > 65535) throw FecConfigError("k x symbol size exceeds 65535");
  if (max_group_wait <= Duration::zero() || max_group_wait > kMaxGroupSpan) {
    throw FecConfigError("group wait must be in (0, 655] ms");
  }
  // The auth item (header, k + m hashes, signature) must fit an item as well.
  if (1 + kGroupHeaderBytes + fec.total() * sizeof(SymbolHash) + sizeof(GroupSignature) >
      kMaxItemBytes) {
    throw FecConfigError("too many symbols for one authentication item");
  }
}

PublisherPipeline::PublisherPipeline(PublisherConfig config, GroupSigner& signer)
    : config_((config.validate(), config)), signer_(signer), codec_(config.fec) {
  stream_.reserve(config_.fec.data * config_.max_symbol_bytes);
}

size_t PublisherPipeline::max_rtp_bytes() const {
  return config_.fec.data * config_.max_symbol_bytes - kPacketPrefixBytes;
}

void PublisherPipeline::on_rtp(Time now, std::span<const uint8_t> datagram) {
  ++counters_.rtp_received;
  on_tick(now);
  const auto parsed = parse_rtp(datagram);
  if (!parsed.ok) {
    counters_.rtp_dropped.count(parsed.error);
    return;
  }
  if (datagram.size() > max_rtp_bytes()) {
    ++counters_.rtp_too_large;
    return;
  }
  const size_t capacity = config_.fec.data * config_.max_symbol_bytes;
  if (packets_in_group_ > 0 && (stream_.size() + kPacketPrefixBytes + datagram.size() > capacity ||
                                packets_in_group_ == UINT16_MAX)) {
    emit_group();
  }
  if (packets_in_group_ == 0) group_start_ = now;
  const auto offset = (now - group_start_) / kOffsetUnit;
  append_framed_packet(stream_, datagram, static_cast<uint16_t>(std::min<int64_t>(offset, 65535)));
  ++packets_in_group_;
  ++counters_.rtp_accepted;
}

void PublisherPipeline::on_tick(Time now) {
  if (packets_in_group_ > 0 && now >= group_start_ + config_.max_group_wait) emit_group();
}

Time PublisherPipeline::next_deadline() const {
  return packets_in_group_ > 0 ? group_start_ + config_.max_group_wait : kNever;
}

void PublisherPipeline::flush() {
  if (packets_in_group_ > 0) emit_group();
}

void PublisherPipeline::emit_group() {
  const unsigned k = config_.fec.data;
  const unsigned m = config_.fec.parity;
  const unsigned n = k + m;
  GroupHeader h;
  h.stream = config_.stream;
  h.group = next_group_++;
  h.publisher_time_us = static_cast<uint64_t>(group_start_.count());
  h.first_packet = next_packet_;
  h.packet_count = packets_in_group_;
  h.data_symbols = static_cast<uint8_t>(k);
  h.parity_symbols = static_cast<uint8_t>(m);
  h.symbol_bytes = static_cast<uint16_t>((stream_.size() + k - 1) / k);
  h.data_bytes = static_cast<uint16_t>(stream_.size());
  next_packet_ += packets_in_group_;

  const size_t len = h.symbol_bytes;
  stream_.resize(size_t{k} * len, 0);  // zero padding, stripped by the viewer via data_bytes
  std::vector<uint8_t> parity(size_t{m} * len);
  const uint8_t* data_ptrs[FecScheme::kMaxSymbols];
  uint8_t* parity_ptrs[FecScheme::kMaxSymbols];
  for (unsigned i = 0; i < k; ++i) data_ptrs[i] = stream_.data() + i * len;
  for (unsigned j = 0; j < m; ++j) parity_ptrs[j] = parity.data() + j * len;
  codec_.encode({data_ptrs, k}, {parity_ptrs, m}, len);

  GroupAuth auth;
  auth.header = h;
  auth.hashes.reserve(n);
  for (unsigned i = 0; i < n; ++i) {
    const uint8_t* sym = i < k ? data_ptrs[i] : parity_ptrs[i - k];
    auto item = encode_symbol_item(h, static_cast<uint8_t>(i), {sym, len});
    auth.hashes.push_back(hash_item(item));
    push(static_cast<uint8_t>(item_stripe(h.group, i, config_.stripes)), std::move(item));
    ++counters_.symbol_items;
  }
  auth.signature = signer_.sign(group_digest(h, auth.hashes));
  const auto auth_bytes = encode_auth_item(auth);
  // m + 1 copies on distinct stripes: losing any m stripes leaves one.
  for (unsigned c = 0; c <= m && c < config_.stripes; ++c) {
    push(static_cast<uint8_t>(item_stripe(h.group, c, config_.stripes)), auth_bytes);
    ++counters_.auth_items;
  }
  ++counters_.groups;
  stream_.clear();
  packets_in_group_ = 0;
}

void PublisherPipeline::push(uint8_t stripe, std::vector<uint8_t> bytes) {
  if (out_.size() >= config_.max_queued_payloads) {
    out_.erase(out_.begin());
    ++counters_.payloads_dropped;
  }
  counters_.payload_bytes += bytes.size();
  out_.push_back(StripePayload{stripe, std::move(bytes)});
}

std::vector<StripePayload> PublisherPipeline::take_payloads() {
  std::vector<StripePayload> out;
  out.swap(out_);
  return out;
}

}  // namespace forestcast::media
