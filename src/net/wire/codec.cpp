#include "net/wire/codec.hpp"

#include <cstring>
#include <limits>
#include <optional>
#include <type_traits>

#include "forestcast.pb.h"

namespace forestcast::wire {
namespace {

namespace pb = ::forestcast::wire;  // generated types share our namespace
using overlay::Endpoint;
using overlay::NodeHandle;
using overlay::NodeId;

// ---- encoding -------------------------------------------------------------------------------

void put_handle(const NodeHandle& h, pb::NodeHandle* out) {
  out->set_id(h.id.to_byte_string());
  const Endpoint& e = h.endpoint;
  // IPv4 travels as 4 bytes: the v4-mapped prefix is implied.
  if (e.is_v4())
    out->set_ip(reinterpret_cast<const char*>(e.ip.data()) + 12, 4);
  else
    out->set_ip(reinterpret_cast<const char*>(e.ip.data()), 16);
  out->set_port(e.port);
}

void put_app(const overlay::AppMessagePtr& app, pb::AppPayload* out) {
  out->set_app_id(app->app_id());
  out->set_type(app->type());
  app->encode(*out->mutable_body());
}

pb::StateKind to_pb(overlay::StateKind k) {
  switch (k) {
    case overlay::StateKind::kRoutingRow:
      return pb::STATE_KIND_ROUTING_ROW;
    case overlay::StateKind::kLeafSet:
      return pb::STATE_KIND_LEAF_SET;
    case overlay::StateKind::kNeighborhood:
      return pb::STATE_KIND_NEIGHBORHOOD;
  }
  return pb::STATE_KIND_LEAF_SET;
}

void put_body(const overlay::Message& msg, pb::Envelope& env) {
  std::visit(
      [&](const auto& m) {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, overlay::Ping>) {
          auto* p = env.mutable_ping();
          p->set_nonce(m.nonce);
          p->set_joining(m.joining);
          p->set_challenge(m.challenge);
        } else if constexpr (std::is_same_v<T, overlay::Pong>) {
          auto* p = env.mutable_pong();
          p->set_nonce(m.nonce);
          if (m.proof) {
            p->set_public_key(m.proof->public_key.data(), m.proof->public_key.size());
            p->set_signature(m.proof->signature.data(), m.proof->signature.size());
          }
        } else if constexpr (std::is_same_v<T, overlay::RouteMsg>) {
          auto* r = env.mutable_route();
          r->set_hop_id(m.hop_id);
          r->set_msg_id(m.msg_id);
          r->set_key(m.key.to_byte_string());
          put_handle(m.origin, r->mutable_origin());
          r->set_hops(m.hops);
          r->set_join(m.join);
          if (m.app) put_app(m.app, r->mutable_app());
        } else if constexpr (std::is_same_v<T, overlay::RouteAck>) {
          env.mutable_route_ack()->set_hop_id(m.hop_id);
        } else if constexpr (std::is_same_v<T, overlay::StateTransfer>) {
          auto* s = env.mutable_state_transfer();
          s->set_kind(to_pb(m.kind));
          s->set_row(m.row);
          s->set_for_join(m.for_join);
          s->set_last(m.last);
          for (const auto& h : m.nodes) put_handle(h, s->add_nodes());
          for (uint32_t rtt : m.rtt_us) s->add_rtt_us(rtt);
        } else if constexpr (std::is_same_v<T, overlay::StateRequest>) {
          auto* s = env.mutable_state_request();
          s->set_kind(to_pb(m.kind));
          s->set_row(m.row);
        } else if constexpr (std::is_same_v<T, overlay::Announce>) {
          env.mutable_announce();
        } else if constexpr (std::is_same_v<T, overlay::Leave>) {
          env.mutable_leave();
        } else if constexpr (std::is_same_v<T, overlay::LeafHeartbeat>) {
          env.mutable_leaf_heartbeat();
        } else if constexpr (std::is_same_v<T, overlay::DirectMsg>) {
          auto* d = env.mutable_direct();
          if (m.app) put_app(m.app, d->mutable_app());
        } else {
          static_assert(!sizeof(T), "every overlay::Message alternative needs an encoding");
        }
      },
      msg);
}

// ---- decoding -------------------------------------------------------------------------------

// Either a value or the reason it could not be read; keeps the checks below linear.
template <typename T>
using Checked = std::variant<T, DecodeError>;

template <typename T>
bool failed(const Checked<T>& c) {
  return c.index() == 1;
}

Checked<NodeId> get_id(const std::string& bytes) {
  auto id = NodeId::from_bytes(std::string_view(bytes));
  if (!id) return DecodeError::kBadNodeId;
  return *id;
}

Checked<NodeHandle> get_handle(const pb::NodeHandle& h) {
  auto id = get_id(h.id());
  if (failed(id)) return std::get<1>(id);
  NodeHandle out;
  out.id = std::get<0>(id);
  const std::string& ip = h.ip();
  if (ip.size() == 4) {
    const auto* b = reinterpret_cast<const uint8_t*>(ip.data());
    const uint32_t v4 =
        (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
    out.endpoint = Endpoint::ipv4(v4, 0);
  } else if (ip.size() == 16) {
    std::memcpy(out.endpoint.ip.data(), ip.data(), 16);
  } else {
    return DecodeError::kBadAddress;
  }
  if (h.port() == 0 || h.port() > 65535) return DecodeError::kBadAddress;
  out.endpoint.port = static_cast<uint16_t>(h.port());
  return out;
}

Checked<overlay::StateKind> get_kind(int k) {
  switch (k) {
    case pb::STATE_KIND_ROUTING_ROW:
      return overlay::StateKind::kRoutingRow;
    case pb::STATE_KIND_LEAF_SET:
      return overlay::StateKind::kLeafSet;
    case pb::STATE_KIND_NEIGHBORHOOD:
      return overlay::StateKind::kNeighborhood;
    default:
      return DecodeError::kBadEnum;  // proto3 enums are open: anything can arrive
  }
}

Checked<uint8_t> get_row(uint32_t row) {
  if (row >= static_cast<uint32_t>(NodeId::kDigits)) return DecodeError::kBadRow;
  return static_cast<uint8_t>(row);
}

Checked<overlay::AppMessagePtr> get_app(const pb::AppPayload& p, const AppDecoder& apps) {
  if (p.app_id() > std::numeric_limits<uint16_t>::max()) return DecodeError::kUnknownApp;
  const overlay::Application* app = apps ? apps(static_cast<uint16_t>(p.app_id())) : nullptr;
  if (app == nullptr) return DecodeError::kUnknownApp;
  if (p.type() > std::numeric_limits<uint16_t>::max()) return DecodeError::kBadAppBody;
  overlay::AppMessagePtr msg = app->decode(static_cast<uint16_t>(p.type()), p.body());
  if (!msg) return DecodeError::kBadAppBody;
  return msg;
}

#define FORESTCAST_TRY(var, expr)                               \
  auto var##_checked = (expr);                                  \
  if (failed(var##_checked)) return std::get<1>(var##_checked); \
  auto var = std::move(std::get<0>(var##_checked))

Checked<overlay::Message> get_route(const pb::RouteMsg& r, const AppDecoder& apps) {
  overlay::RouteMsg m;
  m.hop_id = r.hop_id();
  m.msg_id = r.msg_id();
  FORESTCAST_TRY(key, get_id(r.key()));
  m.key = key;
  if (!r.has_origin()) return DecodeError::kBadAddress;
  FORESTCAST_TRY(origin, get_handle(r.origin()));
  m.origin = origin;
  if (r.hops() > std::numeric_limits<uint16_t>::max()) return DecodeError::kBadField;
  m.hops = static_cast<uint16_t>(r.hops());
  m.join = r.join();
  if (r.has_app()) {
    if (m.join) return DecodeError::kBadField;  // a join carries no application message
    FORESTCAST_TRY(app, get_app(r.app(), apps));
    m.app = std::move(app);
  }
  return overlay::Message{std::move(m)};
}

Checked<overlay::Message> get_state_transfer(const pb::StateTransfer& s) {
  overlay::StateTransfer m;
  FORESTCAST_TRY(kind, get_kind(s.kind()));
  m.kind = kind;
  FORESTCAST_TRY(row, get_row(s.row()));
  m.row = row;
  m.for_join = s.for_join();
  m.last = s.last();
  if (static_cast<size_t>(s.nodes_size()) > overlay::kMaxHandlesPerMessage)
    return DecodeError::kTooManyHandles;
  m.nodes.reserve(static_cast<size_t>(s.nodes_size()));
  for (const auto& h : s.nodes()) {
    FORESTCAST_TRY(handle, get_handle(h));
    m.nodes.push_back(handle);
  }
  if (s.rtt_us_size() != 0 && s.rtt_us_size() != s.nodes_size()) return DecodeError::kBadField;
  for (uint32_t rtt : s.rtt_us()) {
    if (rtt > overlay::kMaxRttHintUs) return DecodeError::kBadField;
    m.rtt_us.push_back(rtt);
  }
  return overlay::Message{std::move(m)};
}

#undef FORESTCAST_TRY

Checked<overlay::Message> get_pong(const pb::Pong& p) {
  overlay::Pong m{p.nonce(), nullptr};
  if (p.public_key().empty() && p.signature().empty()) return overlay::Message{std::move(m)};
  auto proof = std::make_shared<overlay::IdProof>();
  if (p.public_key().size() != proof->public_key.size() ||
      p.signature().size() != proof->signature.size())
    return DecodeError::kBadProof;
  std::memcpy(proof->public_key.data(), p.public_key().data(), proof->public_key.size());
  std::memcpy(proof->signature.data(), p.signature().data(), proof->signature.size());
  m.proof = std::move(proof);
  return overlay::Message{std::move(m)};
}

Checked<overlay::Message> get_body(const pb::Envelope& env, const AppDecoder& apps) {
  switch (env.body_case()) {
    case pb::Envelope::kPing:
      return overlay::Message{
          overlay::Ping{env.ping().nonce(), env.ping().joining(), env.ping().challenge()}};
    case pb::Envelope::kPong:
      return get_pong(env.pong());
    case pb::Envelope::kRoute:
      return get_route(env.route(), apps);
    case pb::Envelope::kRouteAck:
      return overlay::Message{overlay::RouteAck{env.route_ack().hop_id()}};
    case pb::Envelope::kStateTransfer:
      return get_state_transfer(env.state_transfer());
    case pb::Envelope::kStateRequest: {
      auto kind = get_kind(env.state_request().kind());
      if (failed(kind)) return std::get<1>(kind);
      auto row = get_row(env.state_request().row());
      if (failed(row)) return std::get<1>(row);
      return overlay::Message{overlay::StateRequest{std::get<0>(kind), std::get<0>(row)}};
    }
    case pb::Envelope::kAnnounce:
      return overlay::Message{overlay::Announce{}};
    case pb::Envelope::kLeave:
      return overlay::Message{overlay::Leave{}};
    case pb::Envelope::kLeafHeartbeat:
      return overlay::Message{overlay::LeafHeartbeat{}};
    case pb::Envelope::kDirect: {
      // A direct message exists only to carry an application message.
      if (!env.direct().has_app()) return DecodeError::kBadField;
      auto app = get_app(env.direct().app(), apps);
      if (failed(app)) return std::get<1>(app);
      return overlay::Message{overlay::DirectMsg{std::move(std::get<0>(app))}};
    }
    case pb::Envelope::BODY_NOT_SET:
      break;
  }
  return DecodeError::kNoBody;
}

}  // namespace

std::string_view to_string(DecodeError e) {
  switch (e) {
    case DecodeError::kOversize:
      return "oversize";
    case DecodeError::kMalformed:
      return "unparsable";
    case DecodeError::kBadVersion:
      return "bad_version";
    case DecodeError::kBadSenderId:
      return "bad_sender_id";
    case DecodeError::kNoBody:
      return "no_body";
    case DecodeError::kBadNodeId:
      return "bad_node_id";
    case DecodeError::kBadAddress:
      return "bad_address";
    case DecodeError::kBadRow:
      return "bad_row";
    case DecodeError::kTooManyHandles:
      return "too_many_handles";
    case DecodeError::kBadEnum:
      return "bad_enum";
    case DecodeError::kBadField:
      return "bad_field";
    case DecodeError::kUnknownApp:
      return "unknown_app";
    case DecodeError::kBadAppBody:
      return "bad_app_body";
    case DecodeError::kBadProof:
      return "bad_proof";
  }
  return "unknown";
}

std::string encode(const NodeId& sender, const overlay::Message& msg) {
  std::string out;
  encode(sender, msg, out);
  return out;
}

void encode(const NodeId& sender, const overlay::Message& msg, std::string& out) {
  pb::Envelope env;
  env.set_version(overlay::kWireVersion);
  env.set_sender_id(sender.to_byte_string());
  put_body(msg, env);
  env.SerializeToString(&out);  // clears `out` first, keeps its capacity
}

DecodeResult decode(std::span<const uint8_t> datagram, const AppDecoder& apps) {
  if (datagram.size() > overlay::kMaxDatagramBytes) return DecodeError::kOversize;
  pb::Envelope env;
  // ParseFromArray is bounds-checked and returns false on any malformed input.
  if (!env.ParseFromArray(datagram.data(), static_cast<int>(datagram.size())))
    return DecodeError::kMalformed;
  if (env.version() != overlay::kWireVersion) return DecodeError::kBadVersion;
  auto sender = NodeId::from_bytes(std::string_view(env.sender_id()));
  if (!sender) return DecodeError::kBadSenderId;
  auto body = get_body(env, apps);
  if (failed(body)) return std::get<1>(body);
  return Decoded{*sender, std::move(std::get<0>(body))};
}

DecodeResult decode(std::string_view datagram, const AppDecoder& apps) {
  return decode(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(datagram.data()), datagram.size()),
      apps);
}

}  // namespace forestcast::wire
