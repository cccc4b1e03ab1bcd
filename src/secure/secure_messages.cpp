#include "secure/secure_messages.hpp"

#include <optional>

namespace forestcast::secure {

namespace {

constexpr size_t kHandleBytes = overlay::NodeId::kBytes + 16 + 2;
constexpr size_t kQueryBytes = 8 + 1 + overlay::NodeId::kBytes + kHandleBytes;
constexpr size_t kReplyFixedBytes = 8 + 1 + kHandleBytes + 1;

void put_u64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

void put_id(std::string& out, const overlay::NodeId& id) {
  for (uint8_t b : id.to_bytes()) out.push_back(static_cast<char>(b));
}

void put_handle(std::string& out, const overlay::NodeHandle& h) {
  put_id(out, h.id);
  for (uint8_t b : h.endpoint.ip) out.push_back(static_cast<char>(b));
  out.push_back(static_cast<char>(h.endpoint.port >> 8));
  out.push_back(static_cast<char>(h.endpoint.port));
}

// Reads fixed fields front to back; every read checks the length first.
class Reader {
 public:
  explicit Reader(std::string_view body) : body_(body) {}
  bool done() const { return pos_ == body_.size(); }
  std::optional<uint8_t> u8() {
    if (body_.size() - pos_ < 1) return std::nullopt;
    return static_cast<uint8_t>(body_[pos_++]);
  }
  std::optional<uint64_t> u64() {
    if (body_.size() - pos_ < 8) return std::nullopt;
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(body_[pos_++]);
    return v;
  }
  std::optional<overlay::NodeId> id() {
    if (body_.size() - pos_ < overlay::NodeId::kBytes) return std::nullopt;
    auto id = overlay::NodeId::from_bytes(body_.substr(pos_, overlay::NodeId::kBytes));
    pos_ += overlay::NodeId::kBytes;
    return id;
  }
  std::optional<overlay::NodeHandle> handle() {
    const auto node = id();
    if (!node || body_.size() - pos_ < 18) return std::nullopt;
    overlay::NodeHandle h{*node, {}};
    for (auto& b : h.endpoint.ip) b = static_cast<uint8_t>(body_[pos_++]);
    h.endpoint.port = static_cast<uint16_t>((static_cast<uint8_t>(body_[pos_]) << 8) |
                                            static_cast<uint8_t>(body_[pos_ + 1]));
    pos_ += 2;
    if (!h.endpoint.valid()) return std::nullopt;  // port 0: nobody to answer
    return h;
  }

 private:
  std::string_view body_;
  size_t pos_ = 0;
};

}  // namespace

void SecureQuery::encode(std::string& out) const {
  put_u64(out, lookup_id_);
  out.push_back(static_cast<char>(copy_));
  put_id(out, key_);
  put_handle(out, requester_);
}

size_t SecureQuery::encoded_size() const { return kQueryBytes; }

void SecureReply::encode(std::string& out) const {
  put_u64(out, lookup_id_);
  out.push_back(static_cast<char>(copy_));
  put_handle(out, root_);
  out.push_back(static_cast<char>(members_.size()));
  for (const auto& h : members_) put_handle(out, h);
}

size_t SecureReply::encoded_size() const {
  return kReplyFixedBytes + kHandleBytes * members_.size();
}

overlay::AppMessagePtr decode_secure(uint16_t app_id, uint16_t type, std::string_view body) {
  const bool guard = app_id == kNeighbourhoodGuardAppId;
  if (app_id != kSecureLookupAppId && !guard) return nullptr;
  if ((static_cast<SecureType>(type) == SecureType::kNear) != guard &&
      static_cast<SecureType>(type) != SecureType::kReply)
    return nullptr;
  Reader r(body);
  switch (static_cast<SecureType>(type)) {
    case SecureType::kQuery:
    case SecureType::kRelay:
    case SecureType::kNear: {
      const auto id = r.u64();
      const auto copy = r.u8();
      const auto key = r.id();
      const auto requester = r.handle();
      if (!id || !copy || !key || !requester || !r.done()) return nullptr;
      return std::make_shared<SecureQuery>(static_cast<SecureType>(type), *id, *copy, *key,
                                           *requester);
    }
    case SecureType::kReply: {
      const auto id = r.u64();
      const auto copy = r.u8();
      const auto root = r.handle();
      const auto count = r.u8();
      if (!id || !copy || !root || !count || *count > kMaxReplyMembers) return nullptr;
      std::vector<overlay::NodeHandle> members;
      for (uint8_t k = 0; k < *count; ++k) {
        const auto h = r.handle();
        if (!h) return nullptr;
        members.push_back(*h);
      }
      if (!r.done()) return nullptr;
      return std::make_shared<SecureReply>(*id, *copy, *root, std::move(members), app_id);
    }
  }
  return nullptr;
}

}  // namespace forestcast::secure
