#include "multicast/messages.hpp"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/wire_format_lite.h>

#include <cstring>

#include "base/varint_size.hpp"
#include "multicast.pb.h"

namespace forestcast::multicast {

namespace pb = ::forestcast::wire::multicast;

namespace {

// ---- encoding -------------------------------------------------------------------------------

void put_handle(const NodeHandle& h, pb::Handle* out) {
  out->set_id(h.id.to_byte_string());
  const auto& e = h.endpoint;
  if (e.is_v4())
    out->set_ip(reinterpret_cast<const char*>(e.ip.data()) + 12, 4);
  else
    out->set_ip(reinterpret_cast<const char*>(e.ip.data()), 16);
  out->set_port(e.port);
}

void to_pb(const CreateBody& b, pb::Create& m) {
  m.set_topic(b.topic.to_byte_string());
  m.set_group(b.group.to_byte_string());
  m.set_stripe(b.stripe);
  m.set_stripes(b.stripes);
  m.set_name(b.name);
  m.set_public_key(reinterpret_cast<const char*>(b.public_key.data()), b.public_key.size());
  m.set_nonce(b.nonce);
  m.set_signature(reinterpret_cast<const char*>(b.signature.data()), b.signature.size());
  m.set_creator(b.creator.to_byte_string());
}
void to_pb(const JoinBody& b, pb::Join& m) {
  m.set_topic(b.topic.to_byte_string());
  if (b.has_avoid) m.set_avoid(b.avoid.to_byte_string());
  m.set_pushdown_left(b.pushdown_left);
  if (b.has_child) put_handle(b.child, m.mutable_child());
  m.set_control(b.control);
  m.set_spare(b.spare);
  m.set_backup(b.backup);
  m.set_have_seq(b.have_seq);
}
void to_pb(const PathBody& b, pb::Path& m) {
  m.set_topic(b.topic.to_byte_string());
  for (const auto& id : b.path) m.add_path(id.to_byte_string());
  if (b.has_parent) put_handle(b.parent, m.mutable_parent());
  m.set_detached(b.detached);
  for (const auto& h : b.ancestors) put_handle(h, m.add_ancestors());
}
void to_pb(const RefuseBody& b, pb::Refuse& m) {
  m.set_topic(b.topic.to_byte_string());
  for (const auto& h : b.candidates) put_handle(h, m.add_candidates());
  m.set_pushdown_left(b.pushdown_left);
}
void to_pb(const TopicBody& b, pb::Topic& m) { m.set_topic(b.topic.to_byte_string()); }
void to_pb(const RefreshBody& b, pb::Refresh& m) {
  for (const auto& id : b.topics) m.add_topics(id.to_byte_string());
  m.set_spare(b.spare);
}
void to_pb(const ResumeBody& b, pb::Resume& m) {
  m.set_topic(b.topic.to_byte_string());
  m.set_seq(b.seq);
}
void to_pb(const FetchBody& b, pb::Fetch& m) {
  m.set_topic(b.topic.to_byte_string());
  m.set_after(b.after);
  for (uint64_t s : b.missing) m.add_missing(s);
}
void to_pb(const RootAckBody& b, pb::RootAck& m) {
  m.set_topic(b.topic.to_byte_string());
  m.set_seq(b.seq);
  m.set_not_root(b.not_root);
  if (b.has_successor) put_handle(b.successor, m.mutable_successor());
  if (b.has_publisher) put_handle(b.publisher, m.mutable_publisher());
  for (const NodeHandle& h : b.children) put_handle(h, m.add_children());
}
void to_pb(const AnycastBody& b, pb::Anycast& m) {
  m.set_topic(b.topic.to_byte_string());
  put_handle(b.requester, m.mutable_requester());
  m.set_want(b.want.to_byte_string());
  for (const auto& id : b.visited) m.add_visited(id.to_byte_string());
  m.set_relaxed(b.relaxed);
  m.set_hops(b.hops);
  m.set_have_seq(b.have_seq);
}

template <typename Pb, typename Body>
void encode_as(const Body& b, std::string& out) {
  Pb m;
  to_pb(b, m);
  m.AppendToString(&out);
}

template <typename Body>
struct PbOf;
template <>
struct PbOf<CreateBody> {
  using type = pb::Create;
};
template <>
struct PbOf<JoinBody> {
  using type = pb::Join;
};
template <>
struct PbOf<PathBody> {
  using type = pb::Path;
};
template <>
struct PbOf<RefuseBody> {
  using type = pb::Refuse;
};
template <>
struct PbOf<TopicBody> {
  using type = pb::Topic;
};
template <>
struct PbOf<RefreshBody> {
  using type = pb::Refresh;
};
template <>
struct PbOf<DataBody> {
  using type = pb::Data;
};
template <>
struct PbOf<RootAckBody> {
  using type = pb::RootAck;
};
template <>
struct PbOf<AnycastBody> {
  using type = pb::Anycast;
};
template <>
struct PbOf<ResumeBody> {
  using type = pb::Resume;
};
template <>
struct PbOf<FetchBody> {
  using type = pb::Fetch;
};

// ---- decoding -------------------------------------------------------------------------------

struct Reader {
  DecodeError error = DecodeError::kNone;
  bool ok() const { return error == DecodeError::kNone; }
  void fail(DecodeError e) {
    if (ok()) error = e;
  }
  NodeId id(const std::string& bytes) {
    auto v = NodeId::from_bytes(std::string_view(bytes));
    if (!v) {
      fail(DecodeError::kBadId);
      return NodeId{};
    }
    return *v;
  }
  std::vector<NodeId> ids(const google::protobuf::RepeatedPtrField<std::string>& list,
                          size_t bound) {
    std::vector<NodeId> out;
    if (static_cast<size_t>(list.size()) > bound) {
      fail(DecodeError::kTooMany);
      return out;
    }
    out.reserve(static_cast<size_t>(list.size()));
    for (const auto& s : list) out.push_back(id(s));
    return out;
  }
  NodeHandle handle(const pb::Handle& h) {
    NodeHandle out;
    out.id = id(h.id());
    const std::string& ip = h.ip();
    if (ip.size() == 4) {
      const auto* b = reinterpret_cast<const uint8_t*>(ip.data());
      out.endpoint = overlay::Endpoint::ipv4(
          (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3], 0);
    } else if (ip.size() == 16) {
      std::memcpy(out.endpoint.ip.data(), ip.data(), 16);
    } else {
      fail(DecodeError::kBadAddress);
    }
    if (h.port() == 0 || h.port() > 65535) fail(DecodeError::kBadAddress);
    out.endpoint.port = static_cast<uint16_t>(h.port());
    return out;
  }
  template <size_t N>
  std::array<uint8_t, N> fixed(const std::string& bytes) {
    std::array<uint8_t, N> out{};
    if (bytes.size() != N) {
      fail(DecodeError::kBadCredentials);
      return out;
    }
    std::memcpy(out.data(), bytes.data(), N);
    return out;
  }
};

CreateBody from_pb(const pb::Create& m, Reader& r) {
  CreateBody b;
  b.topic = r.id(m.topic());
  b.group = r.id(m.group());
  b.stripe = m.stripe();
  b.stripes = m.stripes();
  if (b.stripes < 1 || b.stripes > kMaxStripes || b.stripe >= b.stripes)
    r.fail(DecodeError::kBadStripe);
  if (m.name().size() > kMaxNameBytes) r.fail(DecodeError::kBadCredentials);
  b.name = m.name();
  b.public_key = r.fixed<kPublicKeyBytes>(m.public_key());
  b.nonce = m.nonce();
  b.signature = r.fixed<kSignatureBytes>(m.signature());
  b.creator = r.id(m.creator());
  if (r.ok() && b.topic != b.group.with_digit(0, static_cast<int>(b.stripe)))
    r.fail(DecodeError::kBadCredentials);
  return b;
}
JoinBody from_pb(const pb::Join& m, Reader& r) {
  JoinBody b;
  b.topic = r.id(m.topic());
  if (!m.avoid().empty()) {
    b.has_avoid = true;
    b.avoid = r.id(m.avoid());
  }
  b.pushdown_left = m.pushdown_left();
  if (b.pushdown_left > 64) r.fail(DecodeError::kTooMany);
  if (m.has_child()) {
    b.has_child = true;
    b.child = r.handle(m.child());
  }
  b.control = m.control();
  b.spare = m.spare();
  if (b.spare > 65535) r.fail(DecodeError::kTooMany);
  b.backup = m.backup();
  b.have_seq = m.have_seq();
  if (b.have_seq == UINT64_MAX || (b.control && b.have_seq != 0)) r.fail(DecodeError::kBadSeq);
  return b;
}
PathBody from_pb(const pb::Path& m, Reader& r) {
  PathBody b;
  b.topic = r.id(m.topic());
  b.path = r.ids(m.path(), kMaxPathLength);
  if (m.has_parent()) {
    b.has_parent = true;
    b.parent = r.handle(m.parent());
  }
  b.detached = m.detached();
  if (static_cast<size_t>(m.ancestors_size()) > kMaxAncestors) {
    r.fail(DecodeError::kTooMany);
    return b;
  }
  for (const auto& h : m.ancestors()) b.ancestors.push_back(r.handle(h));
  return b;
}
RefuseBody from_pb(const pb::Refuse& m, Reader& r) {
  RefuseBody b;
  b.topic = r.id(m.topic());
  if (static_cast<size_t>(m.candidates_size()) > kMaxCandidates) {
    r.fail(DecodeError::kTooMany);
    return b;
  }
  for (const auto& h : m.candidates()) b.candidates.push_back(r.handle(h));
  b.pushdown_left = m.pushdown_left();
  if (b.pushdown_left > 64) r.fail(DecodeError::kTooMany);
  return b;
}
TopicBody from_pb(const pb::Topic& m, Reader& r) { return TopicBody{r.id(m.topic())}; }
RefreshBody from_pb(const pb::Refresh& m, Reader& r) {
  RefreshBody b{r.ids(m.topics(), kMaxRefreshTopics), m.spare()};
  if (b.spare > 65535) r.fail(DecodeError::kTooMany);
  return b;
}
// Non-const: the payload string is moved out of the parsed message, not copied (a relay's
// per-packet cost, issue 12's forwarding figure).
DataBody from_pb(pb::Data& m, Reader& r) {
  DataBody b;
  b.topic = r.id(m.topic());
  b.seq = m.seq();
  b.stripe = m.stripe();
  if (b.stripe >= kMaxStripes) r.fail(DecodeError::kBadStripe);
  b.sent_at_us = m.sent_at_us();
  if (m.payload().size() > kMaxPayloadBytes) r.fail(DecodeError::kPayloadTooLarge);
  b.payload_size = static_cast<uint32_t>(m.payload().size());
  b.payload = std::make_shared<const std::string>(std::move(*m.mutable_payload()));
  if (!m.dead_root().empty()) {
    b.has_dead_root = true;
    b.dead_root = r.id(m.dead_root());
  }
  b.replayed = m.replayed();
  return b;
}
ResumeBody from_pb(const pb::Resume& m, Reader& r) { return ResumeBody{r.id(m.topic()), m.seq()}; }
FetchBody from_pb(const pb::Fetch& m, Reader& r) {
  FetchBody b;
  b.topic = r.id(m.topic());
  b.after = m.after();
  if (static_cast<size_t>(m.missing_size()) > kMaxFetchMissing) {
    r.fail(DecodeError::kTooMany);
    return b;
  }
  b.missing.assign(m.missing().begin(), m.missing().end());
  // A hole is below what is asked for in full; seq 0 is never sent.
  for (uint64_t s : b.missing)
    if (s == 0 || (b.after != 0 && s > b.after)) r.fail(DecodeError::kBadSeq);
  return b;
}
RootAckBody from_pb(const pb::RootAck& m, Reader& r) {
  RootAckBody b{r.id(m.topic()), m.seq(), m.not_root()};
  if (m.has_successor()) {
    b.has_successor = true;
    b.successor = r.handle(m.successor());
  }
  if (m.has_publisher()) {
    b.has_publisher = true;
    b.publisher = r.handle(m.publisher());
  }
  if (static_cast<size_t>(m.children_size()) > kMaxRootChildren) {
    r.fail(DecodeError::kTooMany);
    return b;
  }
  for (const auto& h : m.children()) b.children.push_back(r.handle(h));
  return b;
}
AnycastBody from_pb(const pb::Anycast& m, Reader& r) {
  AnycastBody b;
  b.topic = r.id(m.topic());
  if (!m.has_requester()) r.fail(DecodeError::kBadAddress);
  b.requester = r.handle(m.requester());
  b.want = r.id(m.want());
  b.visited = r.ids(m.visited(), kMaxVisited);
  b.relaxed = m.relaxed();
  b.hops = m.hops();
  if (b.hops > kMaxAnycastHops) r.fail(DecodeError::kTooMany);
  b.have_seq = m.have_seq();
  if (b.have_seq == UINT64_MAX) r.fail(DecodeError::kBadSeq);
  return b;
}

template <typename M>
overlay::AppMessagePtr parse(std::string_view bytes, DecodeError& error) {
  typename PbOf<decltype(M::body)>::type m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    error = DecodeError::kUnparsable;
    return nullptr;
  }
  Reader r;
  auto body = from_pb(m, r);
  if (!r.ok()) {
    error = r.error;
    return nullptr;
  }
  return std::make_shared<const M>(std::move(body));
}

}  // namespace

namespace {

using google::protobuf::internal::WireFormatLite;

// pb::Data written straight into `out` with protobuf's own wire primitives, byte for byte what
// SerializeAsString writes (fields in order, zero values left out): the payload is copied once,
// into the datagram, instead of into a pb::Data, then a serialised string, then `out` (a relay
// encodes every packet it forwards).
void encode_data(const DataBody& b, std::string& out) {
  const size_t payload = b.payload ? b.payload->size() : b.payload_size;
  out.reserve(out.size() + 64 + payload);
  google::protobuf::io::StringOutputStream sink(&out);
  google::protobuf::io::CodedOutputStream os(&sink);
  const auto bytes_field = [&os](int field, const void* data, size_t size) {
    if (size == 0) return;  // proto3 leaves empty fields out
    os.WriteTag(WireFormatLite::MakeTag(field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
    os.WriteVarint32(static_cast<uint32_t>(size));
    os.WriteRaw(data, static_cast<int>(size));
  };
  const auto topic = b.topic.to_bytes();
  bytes_field(pb::Data::kTopicFieldNumber, topic.data(), topic.size());
  if (b.seq != 0) {
    os.WriteTag(
        WireFormatLite::MakeTag(pb::Data::kSeqFieldNumber, WireFormatLite::WIRETYPE_FIXED64));
    os.WriteLittleEndian64(b.seq);
  }
  if (b.stripe != 0) {
    os.WriteTag(
        WireFormatLite::MakeTag(pb::Data::kStripeFieldNumber, WireFormatLite::WIRETYPE_VARINT));
    os.WriteVarint32(b.stripe);
  }
  if (b.sent_at_us != 0) {
    os.WriteTag(
        WireFormatLite::MakeTag(pb::Data::kSentAtUsFieldNumber, WireFormatLite::WIRETYPE_FIXED64));
    os.WriteLittleEndian64(static_cast<uint64_t>(b.sent_at_us));
  }
  if (b.payload) {
    bytes_field(pb::Data::kPayloadFieldNumber, b.payload->data(), b.payload->size());
  } else if (b.payload_size != 0) {  // synthetic: zeros of the stated size
    const std::string zeros(b.payload_size, '\0');
    bytes_field(pb::Data::kPayloadFieldNumber, zeros.data(), zeros.size());
  }
  if (b.has_dead_root) {
    const auto dead = b.dead_root.to_bytes();
    bytes_field(pb::Data::kDeadRootFieldNumber, dead.data(), dead.size());
  }
  if (b.replayed) {
    os.WriteTag(
        WireFormatLite::MakeTag(pb::Data::kReplayedFieldNumber, WireFormatLite::WIRETYPE_VARINT));
    os.WriteVarint32(1);
  }
}

}  // namespace

template <MsgType T, typename Body>
void Message<T, Body>::encode(std::string& out) const {
  if constexpr (std::is_same_v<Body, DataBody>)
    encode_data(body, out);
  else
    encode_as<typename PbOf<Body>::type>(body, out);
}

// Closed-form protobuf sizes for the messages the simulator sends most (every send asks for the
// size): fields below tag 16 take one tag byte; ids are always 16 bytes.
namespace {
size_t length_delimited(size_t n) { return 1 + varint_size(n) + n; }
size_t handle_bytes(const NodeHandle& h) {
  const size_t port = h.endpoint.port != 0 ? 1 + varint_size(h.endpoint.port) : 0;
  return length_delimited(length_delimited(16) + length_delimited(h.endpoint.is_v4() ? 4 : 16) +
                          port);
}
constexpr size_t kIdField = 18;  // tag, length, 16 bytes
}  // namespace

template <MsgType T, typename Body>
size_t Message<T, Body>::encoded_size() const {
  if constexpr (std::is_same_v<Body, PathBody>) {
    size_t ancestors = 0;
    for (const NodeHandle& h : body.ancestors) ancestors += handle_bytes(h);
    return kIdField * (1 + body.path.size()) + (body.has_parent ? handle_bytes(body.parent) : 0) +
           (body.detached ? 2 : 0) + ancestors;
  } else if constexpr (std::is_same_v<Body, AnycastBody>) {
    return kIdField * (2 + body.visited.size()) + handle_bytes(body.requester) +
           (body.relaxed ? 2 : 0) +
           (body.hops == 0    ? 0
            : body.hops < 128 ? 2
                              : 3) +
           (body.have_seq != 0 ? 9 : 0);
  } else if constexpr (std::is_same_v<Body, DataBody>) {
    // Closed form, so a simulated stream never encodes: tags, a 16-byte topic, fixed seq and
    // time, stripe varint and the payload with its length prefix.
    const size_t payload = body.payload ? body.payload->size() : body.payload_size;
    return 2 + 16 + 9 + 2 + 9 + 1 + (payload >= 128 ? 2 : 1) + payload +
           (body.has_dead_root ? 18 : 0) + (body.replayed ? 2 : 0);
  } else {
    std::string out;
    encode(out);
    return out.size();
  }
}

// The message types that exist, instantiated once here.
template class Message<MsgType::kCreate, CreateBody>;
template class Message<MsgType::kReplicate, CreateBody>;
template class Message<MsgType::kJoin, JoinBody>;
template class Message<MsgType::kAccept, PathBody>;
template class Message<MsgType::kHeartbeat, PathBody>;
template class Message<MsgType::kRefuse, RefuseBody>;
template class Message<MsgType::kLeave, TopicBody>;
template class Message<MsgType::kRefresh, RefreshBody>;
template class Message<MsgType::kData, DataBody>;
template class Message<MsgType::kRootAck, RootAckBody>;
template class Message<MsgType::kAnycast, AnycastBody>;
template class Message<MsgType::kAnycastFail, TopicBody>;
template class Message<MsgType::kResume, ResumeBody>;
template class Message<MsgType::kFetch, FetchBody>;

overlay::AppMessagePtr decode_message(uint16_t type, std::string_view body, DecodeError& error) {
  error = DecodeError::kNone;
  switch (static_cast<MsgType>(type)) {
    case MsgType::kCreate:
      return parse<CreateMsg>(body, error);
    case MsgType::kReplicate:
      return parse<ReplicateMsg>(body, error);
    case MsgType::kJoin:
      return parse<JoinMsg>(body, error);
    case MsgType::kAccept:
      return parse<AcceptMsg>(body, error);
    case MsgType::kHeartbeat:
      return parse<HeartbeatMsg>(body, error);
    case MsgType::kRefuse:
      return parse<RefuseMsg>(body, error);
    case MsgType::kLeave:
      return parse<LeaveMsg>(body, error);
    case MsgType::kRefresh:
      return parse<RefreshMsg>(body, error);
    case MsgType::kData:
      return parse<DataMsg>(body, error);
    case MsgType::kRootAck:
      return parse<RootAckMsg>(body, error);
    case MsgType::kAnycast:
      return parse<AnycastMsg>(body, error);
    case MsgType::kAnycastFail:
      return parse<AnycastFailMsg>(body, error);
    case MsgType::kResume:
      return parse<ResumeMsg>(body, error);
    case MsgType::kFetch:
      return parse<FetchMsg>(body, error);
  }
  error = DecodeError::kUnknownType;
  return nullptr;
}

const char* to_string(DecodeError e) {
  switch (e) {
    case DecodeError::kNone:
      return "none";
    case DecodeError::kUnknownType:
      return "unknown_type";
    case DecodeError::kUnparsable:
      return "unparsable";
    case DecodeError::kBadId:
      return "bad_id";
    case DecodeError::kBadAddress:
      return "bad_address";
    case DecodeError::kTooMany:
      return "too_many";
    case DecodeError::kBadStripe:
      return "bad_stripe";
    case DecodeError::kBadCredentials:
      return "bad_credentials";
    case DecodeError::kPayloadTooLarge:
      return "payload_too_large";
    case DecodeError::kBadSeq:
      return "bad_seq";
    case DecodeError::kCount:
      break;
  }
  return "?";
}

std::string create_signed_bytes(const NodeId& topic, const NodeId& creator, uint64_t nonce) {
  std::string out = "forestcast-create-v1";
  out += topic.to_byte_string();
  out += creator.to_byte_string();
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(nonce >> shift));
  return out;
}

}  // namespace forestcast::multicast
