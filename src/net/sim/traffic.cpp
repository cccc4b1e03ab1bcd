#include "net/sim/traffic.hpp"

#include <algorithm>
#include <type_traits>

#include "base/varint_size.hpp"

namespace forestcast::sim {

namespace {

// Protobuf field sizes (tag + payload); proto3 leaves out fields equal to their default.
size_t tag_size(uint32_t field) { return varint_size(static_cast<uint64_t>(field) << 3); }
size_t varint_field(uint32_t field, uint64_t v) {
  return v == 0 ? 0 : tag_size(field) + varint_size(v);
}
size_t fixed64_field(uint32_t field, uint64_t v) { return v == 0 ? 0 : tag_size(field) + 8; }
size_t bool_field(uint32_t field, bool v) { return v ? tag_size(field) + 1 : 0; }
size_t bytes_field(uint32_t field, size_t len) {
  return len == 0 ? 0 : tag_size(field) + varint_size(len) + len;
}
// A sub-message is written even when empty (the codec sets it, so it is present).
size_t message_field(uint32_t field, size_t len) {
  return tag_size(field) + varint_size(len) + len;
}

size_t handle_size(const overlay::NodeHandle& h) {
  const size_t ip = h.endpoint.is_v4() ? 4 : 16;
  return bytes_field(1, 16) + bytes_field(2, ip) + varint_field(3, h.endpoint.port);
}

size_t app_payload_size(const overlay::AppMessage& app) {
  return varint_field(1, app.app_id()) + bytes_field(2, app.encoded_size()) +
         varint_field(3, app.type());
}

size_t body_size(const overlay::Ping& m) {
  return fixed64_field(1, m.nonce) + bool_field(2, m.joining) + fixed64_field(3, m.challenge);
}
size_t body_size(const overlay::Pong& m) {
  size_t n = fixed64_field(1, m.nonce);
  if (m.proof)
    n += bytes_field(2, overlay::IdProof::kPublicKeyBytes) +
         bytes_field(3, overlay::IdProof::kSignatureBytes);
  return n;
}
size_t body_size(const overlay::RouteMsg& m) {
  size_t n = fixed64_field(1, m.hop_id) + bytes_field(2, 16) +
             message_field(3, handle_size(m.origin)) + varint_field(4, m.hops) +
             bool_field(5, m.join) + fixed64_field(7, m.msg_id);
  if (m.app) n += message_field(6, app_payload_size(*m.app));
  return n;
}
size_t body_size(const overlay::RouteAck& m) { return fixed64_field(1, m.hop_id); }
size_t body_size(const overlay::StateTransfer& m) {
  size_t n = varint_field(1, static_cast<uint64_t>(m.kind)) + varint_field(2, m.row) +
             bool_field(3, m.for_join) + bool_field(4, m.last);
  for (const auto& h : m.nodes) n += message_field(5, handle_size(h));
  size_t packed = 0;  // repeated scalars are packed in proto3
  for (uint32_t rtt : m.rtt_us) packed += varint_size(rtt);
  return n + bytes_field(6, packed);
}
size_t body_size(const overlay::StateRequest& m) {
  return varint_field(1, static_cast<uint64_t>(m.kind)) + varint_field(2, m.row);
}
size_t body_size(const overlay::Announce&) { return 0; }
size_t body_size(const overlay::Leave&) { return 0; }
size_t body_size(const overlay::LeafHeartbeat&) { return 0; }
size_t body_size(const overlay::DirectMsg& m) {
  return m.app ? message_field(1, app_payload_size(*m.app)) : 0;
}

}  // namespace

TrafficCount& TrafficCount::operator+=(const TrafficCount& o) {
  sent_messages += o.sent_messages;
  sent_bytes += o.sent_bytes;
  received_messages += o.received_messages;
  received_bytes += o.received_bytes;
  return *this;
}

TrafficCount NodeTraffic::app(uint16_t app_id) const {
  for (size_t i = 0; i < inline_used_; ++i)
    if (inline_[i].first == app_id) return inline_[i].second;
  for (const auto& [id, count] : more_)
    if (id == app_id) return count;
  return {};
}

TrafficCount NodeTraffic::total() const {
  TrafficCount t = pastry;
  for (size_t i = 0; i < inline_used_; ++i) t += inline_[i].second;
  for (const auto& [id, count] : more_) t += count;
  return t;
}

TrafficCount& NodeTraffic::count_for(const overlay::Message& msg) {
  const auto app_id = app_id_of(msg);
  if (!app_id) return pastry;
  for (size_t i = 0; i < inline_used_; ++i)
    if (inline_[i].first == *app_id) return inline_[i].second;
  if (inline_used_ < kInline) {
    inline_[inline_used_] = {*app_id, TrafficCount{}};
    return inline_[inline_used_++].second;
  }
  auto it = std::lower_bound(more_.begin(), more_.end(), *app_id,
                             [](const auto& entry, uint16_t id) { return entry.first < id; });
  if (it == more_.end() || it->first != *app_id) it = more_.insert(it, {*app_id, TrafficCount{}});
  return it->second;
}

std::optional<uint16_t> app_id_of(const overlay::Message& msg) {
  if (const auto* r = std::get_if<overlay::RouteMsg>(&msg); r && r->app) return r->app->app_id();
  if (const auto* d = std::get_if<overlay::DirectMsg>(&msg); d && d->app) return d->app->app_id();
  return std::nullopt;
}

size_t estimated_wire_size(const overlay::Message& msg) {
  // Envelope: version, the 16-byte sender id, then the one body field (numbers 10..19).
  const size_t body = std::visit([](const auto& m) { return body_size(m); }, msg);
  return varint_field(1, overlay::kWireVersion) + bytes_field(2, 16) +
         message_field(static_cast<uint32_t>(10 + msg.index()), body);
}

}  // namespace forestcast::sim
