#pragma once
// A node's identity (DESIGN.md §2): an Ed25519 key pair kept in a PEM file, created on first
// start with mode 0600 and reused afterwards, so a restarted node keeps its id.
// nodeId = first 16 bytes of SHA-1(raw 32-byte public key).
#include <array>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "overlay/key_proofs.hpp"
#include "overlay/node_id.hpp"

using EVP_PKEY = struct evp_pkey_st;

namespace forestcast::node {

// A key file that cannot be read, parsed or created: a start-up configuration error.
class NodeKeyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class NodeKey {
 public:
  static constexpr size_t kPublicKeyBytes = 32;
  static constexpr size_t kSignatureBytes = 64;

  // Reads the private key at `path`, or creates the file when it does not exist. Throws
  // NodeKeyError with a one-line reason for any other problem (unreadable, corrupt, not
  // Ed25519, cannot create). Never overwrites an existing file.
  static NodeKey load_or_create(const std::string& path);
  // Like load_or_create, but a new key is only written by save_if_new(): the daemon checks
  // everything else (sockets) first, so a failed start leaves no file behind.
  static NodeKey load_or_generate(const std::string& path);
  void save_if_new();
  // Reads an existing key file; throws NodeKeyError if it is missing or bad.
  static NodeKey load(const std::string& path);
  // A fresh key that lives only in memory (tests, throwaway nodes).
  static NodeKey generate();
  // The key whose 32-byte private seed is `seed` (RFC 8032): reproducible simulations.
  static NodeKey from_seed(const std::array<uint8_t, 32>& seed);

  const std::array<uint8_t, kPublicKeyBytes>& public_key() const { return public_key_; }
  const overlay::NodeId& node_id() const { return node_id_; }
  // True when the key file was created by this process (first start).
  bool created() const { return created_; }

  std::array<uint8_t, kSignatureBytes> sign(std::string_view data) const;
  static bool verify(const std::array<uint8_t, kPublicKeyBytes>& public_key, std::string_view data,
                     const std::array<uint8_t, kSignatureBytes>& sig);

 private:
  struct PkeyFree {
    void operator()(EVP_PKEY* p) const;
  };
  explicit NodeKey(EVP_PKEY* key);

  std::shared_ptr<EVP_PKEY> key_;
  std::array<uint8_t, kPublicKeyBytes> public_key_{};
  overlay::NodeId node_id_;
  bool created_ = false;
  std::string unsaved_path_;  // set by load_or_generate for a key not yet written
};

// Id proofs with this node's key (overlay/key_proofs.hpp): what the UDP runtime gives the core,
// and what the simulator uses when it runs real signatures.
class Ed25519Proofs final : public overlay::KeyProofs {
 public:
  explicit Ed25519Proofs(NodeKey key) : key_(std::move(key)) {}
  overlay::IdProof prove(std::span<const uint8_t> statement) override;
  // The id must be the first 16 bytes of SHA-1(public key) (DESIGN.md §2).
  bool verify(const overlay::NodeId& claimed, const overlay::IdProof& proof,
              std::span<const uint8_t> statement) override;

 private:
  NodeKey key_;
};

}  // namespace forestcast::node
