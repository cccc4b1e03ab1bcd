#pragma once
// The secure lookup's messages (app id kSecureLookupAppId):
//   Query  routed toward the key; its root answers the requester with a Reply
//   Relay  direct, requester -> one of its leaf set: "route this Query for me" (redundant routing)
//   Reply  direct, root -> requester: the root and its leaf set, for the routing failure test;
//          also the answer to a Near
//   Near   direct, "which nodes do you know closest to this key?" (neighbourhood_guard.hpp)
// Body: fixed big-endian fields, a handle is id(16) ip(16) port(2). decode() rejects any body
// whose length or counts do not match exactly.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "overlay/app_message.hpp"
#include "overlay/node_handle.hpp"

namespace forestcast::secure {

inline constexpr uint16_t kSecureLookupAppId = 101;
// The neighbourhood guard (neighbourhood_guard.hpp) speaks Near and Reply under its own id, so
// its cost is counted apart from the lookups'.
inline constexpr uint16_t kNeighbourhoodGuardAppId = 102;
// A root names itself and at most this many others (a 24-node leaf set fits one datagram).
inline constexpr size_t kMaxReplyMembers = 24;

enum class SecureType : uint16_t { kQuery = 1, kRelay = 2, kReply = 3, kNear = 4 };

// Query, Relay and Near carry the same fields: which lookup, which copy of it, for whom, which key.
class SecureQuery final : public overlay::AppMessage {
 public:
  SecureQuery(SecureType type, uint64_t lookup_id, uint8_t copy, overlay::NodeId key,
              overlay::NodeHandle requester)
      : type_(type), lookup_id_(lookup_id), copy_(copy), key_(key), requester_(requester) {}
  uint16_t app_id() const override {
    return type_ == SecureType::kNear ? kNeighbourhoodGuardAppId : kSecureLookupAppId;
  }
  uint16_t type() const override { return static_cast<uint16_t>(type_); }
  void encode(std::string& out) const override;
  size_t encoded_size() const override;

  uint64_t lookup_id() const { return lookup_id_; }
  uint8_t copy() const { return copy_; }
  const overlay::NodeId& key() const { return key_; }
  const overlay::NodeHandle& requester() const { return requester_; }

 private:
  SecureType type_;
  uint64_t lookup_id_;
  uint8_t copy_;
  overlay::NodeId key_;
  overlay::NodeHandle requester_;
};

class SecureReply final : public overlay::AppMessage {
 public:
  SecureReply(uint64_t lookup_id, uint8_t copy, overlay::NodeHandle root,
              std::vector<overlay::NodeHandle> members, uint16_t app_id = kSecureLookupAppId)
      : lookup_id_(lookup_id),
        copy_(copy),
        root_(root),
        members_(std::move(members)),
        app_id_(app_id) {}
  uint16_t app_id() const override { return app_id_; }
  uint16_t type() const override { return static_cast<uint16_t>(SecureType::kReply); }
  void encode(std::string& out) const override;
  size_t encoded_size() const override;

  uint64_t lookup_id() const { return lookup_id_; }
  uint8_t copy() const { return copy_; }
  const overlay::NodeHandle& root() const { return root_; }
  // The root's leaf set as it claims it (the root itself not included).
  const std::vector<overlay::NodeHandle>& members() const { return members_; }

 private:
  uint64_t lookup_id_;
  uint8_t copy_;
  overlay::NodeHandle root_;
  std::vector<overlay::NodeHandle> members_;
  uint16_t app_id_;
};

// Null on any malformed body, or a type that `app_id` does not speak (Query and Relay are the
// lookups', Near the guard's, Reply both's).
overlay::AppMessagePtr decode_secure(uint16_t app_id, uint16_t type, std::string_view body);

}  // namespace forestcast::secure
