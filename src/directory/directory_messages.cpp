#include "directory/directory_messages.hpp"

#include <algorithm>

#include "directory.pb.h"

namespace forestcast::directory {
namespace {

namespace pb = ::forestcast::wire::directory;

// Refuses rather than truncates anything longer than the limits: the record would not fit in a
// datagram or would be rejected by check() anyway.
inline constexpr size_t kMaxLookupName = kMaxNameBytes;

void put_record(const NameRecord& r, pb::NameRecord* out) {
  out->set_name(r.name);
  out->set_publisher_key(r.publisher_key.data(), r.publisher_key.size());
  out->set_stripes(r.stripes);
  out->set_fec_data(r.fec_data);
  out->set_fec_parity(r.fec_parity);
  out->set_bitrate_kbps(r.bitrate_kbps);
  out->set_sdp(r.sdp);
  out->set_ttl_ms(r.ttl_ms);
  out->set_version(r.version);
  out->set_clock_domain(r.clock_domain);
  out->set_signature(r.signature.data(), r.signature.size());
}

std::optional<NameRecord> get_record(const pb::NameRecord& in) {
  NameRecord r;
  if (in.name().size() > kMaxNameBytes || in.sdp().size() > kMaxSdpBytes) return std::nullopt;
  if (in.publisher_key().size() != r.publisher_key.size()) return std::nullopt;
  if (in.signature().size() != r.signature.size()) return std::nullopt;
  r.name = in.name();
  std::copy(in.publisher_key().begin(), in.publisher_key().end(), r.publisher_key.begin());
  r.stripes = in.stripes();
  r.fec_data = in.fec_data();
  r.fec_parity = in.fec_parity();
  r.bitrate_kbps = in.bitrate_kbps();
  r.sdp = in.sdp();
  r.ttl_ms = in.ttl_ms();
  r.version = in.version();
  r.clock_domain = in.clock_domain();
  std::copy(in.signature().begin(), in.signature().end(), r.signature.begin());
  return r;
}

template <typename Pb>
bool parse(Pb& msg, std::string_view body) {
  return msg.ParseFromArray(body.data(), static_cast<int>(body.size()));
}

}  // namespace

void StoreMessage::encode(std::string& out) const {
  pb::Store msg;
  put_record(record_, msg.mutable_record());
  msg.AppendToString(&out);
}

void LookupMessage::encode(std::string& out) const {
  pb::Lookup msg;
  msg.set_name(name_);
  msg.set_request_id(request_id_);
  msg.AppendToString(&out);
}

void LookupReplyMessage::encode(std::string& out) const {
  pb::LookupReply msg;
  msg.set_request_id(request_id_);
  if (record_) put_record(*record_, msg.mutable_record());
  msg.set_remaining(remaining_);
  msg.AppendToString(&out);
}

overlay::AppMessagePtr decode_directory_message(uint16_t type, std::string_view body) {
  switch (static_cast<DirectoryMsgType>(type)) {
    case DirectoryMsgType::kStore:
    case DirectoryMsgType::kStoreReplica: {
      // Store and StoreReplica share one layout.
      pb::Store msg;
      if (!parse(msg, body) || !msg.has_record()) return nullptr;
      auto record = get_record(msg.record());
      if (!record) return nullptr;
      return std::make_shared<StoreMessage>(
          std::move(*record), type == static_cast<uint16_t>(DirectoryMsgType::kStoreReplica));
    }
    case DirectoryMsgType::kLookup: {
      pb::Lookup msg;
      if (!parse(msg, body) || msg.name().empty() || msg.name().size() > kMaxLookupName)
        return nullptr;
      return std::make_shared<LookupMessage>(msg.name(), msg.request_id());
    }
    case DirectoryMsgType::kLookupReply: {
      pb::LookupReply msg;
      if (!parse(msg, body)) return nullptr;
      std::optional<NameRecord> record;
      if (msg.has_record()) {
        record = get_record(msg.record());
        if (!record) return nullptr;
      }
      return std::make_shared<LookupReplyMessage>(msg.request_id(), std::move(record),
                                                  msg.remaining());
    }
  }
  return nullptr;
}

}  // namespace forestcast::directory
