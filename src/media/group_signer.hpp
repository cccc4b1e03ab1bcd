#pragma once
// Group authentication behind two small interfaces, so the daemon signs with the node's Ed25519
// key while the simulator can model signing without paying for it.
#include <array>
#include <cstdint>

#include "media/group_format.hpp"
#include "node/node_key.hpp"

namespace forestcast::media {

class GroupSigner {
 public:
  virtual ~GroupSigner() = default;
  virtual GroupSignature sign(const GroupDigest& digest) = 0;
};

class GroupVerifier {
 public:
  virtual ~GroupVerifier() = default;
  virtual bool verify(const GroupDigest& digest, const GroupSignature& sig) = 0;
};

// Ed25519 over the 32-byte group digest with the publisher's node key.
class Ed25519GroupSigner final : public GroupSigner {
 public:
  explicit Ed25519GroupSigner(node::NodeKey key) : key_(std::move(key)) {}
  GroupSignature sign(const GroupDigest& digest) override;
  const std::array<uint8_t, 32>& public_key() const { return key_.public_key(); }

 private:
  node::NodeKey key_;
};

class Ed25519GroupVerifier final : public GroupVerifier {
 public:
  explicit Ed25519GroupVerifier(const std::array<uint8_t, 32>& publisher_key)
      : publisher_key_(publisher_key) {}
  bool verify(const GroupDigest& digest, const GroupSignature& sig) override;

 private:
  std::array<uint8_t, 32> publisher_key_;
};

// For simulations that trust every node: the "signature" is the digest itself plus a stream
// tag, so forged symbols (wrong hashes) are still caught, at no CPU cost. Not for real use.
class ModelGroupSigner final : public GroupSigner, public GroupVerifier {
 public:
  explicit ModelGroupSigner(uint64_t tag = 0x666f72657374ULL) : tag_(tag) {}
  GroupSignature sign(const GroupDigest& digest) override;
  bool verify(const GroupDigest& digest, const GroupSignature& sig) override;

 private:
  uint64_t tag_;
};

}  // namespace forestcast::media
