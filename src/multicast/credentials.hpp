#pragma once
// Who may create a topic and publish into it (DESIGN.md §2, §4). A stream's groupId is the first
// 16 bytes of SHA-1(name || publisher public key) and the publisher node's id is SHA-1(public
// key), so a CREATE proves its right by carrying name, public key and an Ed25519 signature over
// (topic, creator id, nonce). Signing and checking sit behind two small interfaces: the daemon
// and the unit tests use real Ed25519 (OpenSSL 3); the simulator uses the modelled pair, which
// checks the same derivations but stands a keyed hash in for the signature and counts itself, so
// 10,000 simulated nodes don't spend their CPU on curve arithmetic.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "multicast/messages.hpp"

namespace forestcast::multicast {

// The publisher's side: holds the key a stream's groupId derives from.
class CreatorKey {
 public:
  virtual ~CreatorKey() = default;
  virtual const std::array<uint8_t, kPublicKeyBytes>& public_key() const = 0;
  virtual std::array<uint8_t, kSignatureBytes> sign(std::string_view data) const = 0;
};

// The root's side.
class Credentials {
 public:
  virtual ~Credentials() = default;
  // True when `c` is a valid proof: group and topic derive from name and key, the creator id
  // derives from the key, and the signature verifies.
  virtual bool verify(const CreateBody& c) = 0;
};

// groupId = first 16 bytes of SHA-1(name || public key).
NodeId group_id_of(std::string_view name, const std::array<uint8_t, kPublicKeyBytes>& key);
// The derivations every verifier checks before looking at the signature.
bool derivations_hold(const CreateBody& c);
// A CREATE for stripe `stripe` of `stripes` of stream `name`, signed with `key`.
CreateBody make_create(const CreatorKey& key, std::string_view name, uint32_t stripe,
                       uint32_t stripes, uint64_t nonce);

// Real Ed25519 through OpenSSL's EVP API.
class Ed25519Key final : public CreatorKey {
 public:
  static std::unique_ptr<Ed25519Key> generate();
  ~Ed25519Key() override;
  const std::array<uint8_t, kPublicKeyBytes>& public_key() const override { return public_; }
  std::array<uint8_t, kSignatureBytes> sign(std::string_view data) const override;

 private:
  explicit Ed25519Key(void* pkey);
  void* pkey_;  // EVP_PKEY*
  std::array<uint8_t, kPublicKeyBytes> public_{};
};

class Ed25519Credentials final : public Credentials {
 public:
  bool verify(const CreateBody& c) override;
};

// The simulator's stand-in: the "signature" is a keyed hash of the signed bytes and the public
// key. Same derivation checks, same refusal paths; counted so the report can say what was
// modelled rather than computed.
class ModelledKey final : public CreatorKey {
 public:
  explicit ModelledKey(const std::array<uint8_t, kPublicKeyBytes>& public_key)
      : public_(public_key) {}
  const std::array<uint8_t, kPublicKeyBytes>& public_key() const override { return public_; }
  std::array<uint8_t, kSignatureBytes> sign(std::string_view data) const override;

 private:
  std::array<uint8_t, kPublicKeyBytes> public_;
};

class ModelledCredentials final : public Credentials {
 public:
  bool verify(const CreateBody& c) override;
  uint64_t verifications() const { return verifications_.load(std::memory_order_relaxed); }

 private:
  // Atomic: the simulator's windowed engine verifies on several threads at once.
  std::atomic<uint64_t> verifications_{0};
};

}  // namespace forestcast::multicast
