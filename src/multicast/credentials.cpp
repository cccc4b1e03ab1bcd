#include "multicast/credentials.hpp"

#include <openssl/evp.h>

#include <cstring>
#include <stdexcept>

namespace forestcast::multicast {

NodeId group_id_of(std::string_view name, const std::array<uint8_t, kPublicKeyBytes>& key) {
  std::string data(name);
  data.append(reinterpret_cast<const char*>(key.data()), key.size());
  return NodeId::sha1_of(std::string_view(data));
}

bool derivations_hold(const CreateBody& c) {
  if (c.stripes < 1 || c.stripes > kMaxStripes || c.stripe >= c.stripes) return false;
  if (c.group != group_id_of(c.name, c.public_key)) return false;
  if (c.topic != c.group.with_digit(0, static_cast<int>(c.stripe))) return false;
  return c.creator == NodeId::sha1_of(std::span<const uint8_t>(c.public_key));
}

CreateBody make_create(const CreatorKey& key, std::string_view name, uint32_t stripe,
                       uint32_t stripes, uint64_t nonce) {
  CreateBody c;
  c.group = group_id_of(name, key.public_key());
  c.topic = c.group.with_digit(0, static_cast<int>(stripe));
  c.stripe = stripe;
  c.stripes = stripes;
  c.name = std::string(name);
  c.public_key = key.public_key();
  c.nonce = nonce;
  c.creator = NodeId::sha1_of(std::span<const uint8_t>(c.public_key));
  c.signature = key.sign(create_signed_bytes(c.topic, c.creator, c.nonce));
  return c;
}

// ---- Ed25519 ---------------------------------------------------------------------------------

std::unique_ptr<Ed25519Key> Ed25519Key::generate() {
  EVP_PKEY* key = nullptr;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
  const bool ok =
      ctx != nullptr && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &key) == 1;
  EVP_PKEY_CTX_free(ctx);
  if (!ok) throw std::runtime_error("cannot generate Ed25519 key");
  return std::unique_ptr<Ed25519Key>(new Ed25519Key(key));
}

Ed25519Key::Ed25519Key(void* pkey) : pkey_(pkey) {
  size_t len = public_.size();
  EVP_PKEY_get_raw_public_key(static_cast<EVP_PKEY*>(pkey_), public_.data(), &len);
}

Ed25519Key::~Ed25519Key() { EVP_PKEY_free(static_cast<EVP_PKEY*>(pkey_)); }

std::array<uint8_t, kSignatureBytes> Ed25519Key::sign(std::string_view data) const {
  std::array<uint8_t, kSignatureBytes> sig{};
  size_t len = sig.size();
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok =
      ctx != nullptr &&
      EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, static_cast<EVP_PKEY*>(pkey_)) == 1 &&
      EVP_DigestSign(ctx, sig.data(), &len, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) throw std::runtime_error("Ed25519 signing failed");
  return sig;
}

bool Ed25519Credentials::verify(const CreateBody& c) {
  if (!derivations_hold(c)) return false;
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, c.public_key.data(),
                                              c.public_key.size());
  if (key == nullptr) return false;
  const std::string data = create_signed_bytes(c.topic, c.creator, c.nonce);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok =
      ctx != nullptr && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
      EVP_DigestVerify(ctx, c.signature.data(), c.signature.size(),
                       reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return ok;
}

// ---- modelled --------------------------------------------------------------------------------

namespace {
std::array<uint8_t, kSignatureBytes> modelled_tag(const std::array<uint8_t, kPublicKeyBytes>& key,
                                                  std::string_view data) {
  std::string all(reinterpret_cast<const char*>(key.data()), key.size());
  all.append(data);
  const auto digest = NodeId::sha1_of(std::string_view(all)).to_bytes();
  std::array<uint8_t, kSignatureBytes> sig{};
  for (size_t i = 0; i < sig.size(); ++i) sig[i] = digest[i % digest.size()];
  return sig;
}
}  // namespace

std::array<uint8_t, kSignatureBytes> ModelledKey::sign(std::string_view data) const {
  return modelled_tag(public_, data);
}

bool ModelledCredentials::verify(const CreateBody& c) {
  verifications_.fetch_add(1, std::memory_order_relaxed);
  if (!derivations_hold(c)) return false;
  return c.signature ==
         modelled_tag(c.public_key, create_signed_bytes(c.topic, c.creator, c.nonce));
}

}  // namespace forestcast::multicast
