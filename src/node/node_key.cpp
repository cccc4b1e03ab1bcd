#include "node/node_key.hpp"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace forestcast::node {
namespace {

std::string openssl_reason() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return buf;
}

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

// Reads the whole file; returns false with errno preserved.
bool read_file(const std::string& path, std::string& out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out.clear();
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      ::close(fd);
      errno = saved;
      return false;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > 64 * 1024) {  // a PEM Ed25519 key is ~120 bytes
      ::close(fd);
      errno = EFBIG;
      return false;
    }
  }
  ::close(fd);
  return true;
}

}  // namespace

void NodeKey::PkeyFree::operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }

NodeKey::NodeKey(EVP_PKEY* key) : key_(key, PkeyFree{}) {
  size_t len = public_key_.size();
  if (EVP_PKEY_get_raw_public_key(key, public_key_.data(), &len) != 1 || len != public_key_.size())
    throw NodeKeyError("cannot extract Ed25519 public key: " + openssl_reason());
  node_id_ = overlay::NodeId::sha1_of(std::span<const uint8_t>(public_key_));
}

NodeKey NodeKey::generate() {
  EVP_PKEY* key = nullptr;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
  const bool ok =
      ctx != nullptr && EVP_PKEY_keygen_init(ctx) == 1 && EVP_PKEY_keygen(ctx, &key) == 1;
  EVP_PKEY_CTX_free(ctx);
  if (!ok) throw NodeKeyError("cannot generate Ed25519 key: " + openssl_reason());
  return NodeKey(key);
}

NodeKey NodeKey::from_seed(const std::array<uint8_t, 32>& seed) {
  EVP_PKEY* key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size());
  if (key == nullptr) throw NodeKeyError("cannot make Ed25519 key from seed: " + openssl_reason());
  return NodeKey(key);
}

NodeKey NodeKey::load(const std::string& path) {
  std::string pem;
  if (!read_file(path, pem))
    throw NodeKeyError("cannot read key file " + path + ": " + std::strerror(errno));
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) throw NodeKeyError("cannot read key file " + path + ": out of memory");
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (key == nullptr) {
    ERR_clear_error();
    throw NodeKeyError("key file " + path + " is not a PEM private key (corrupt?)");
  }
  if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    throw NodeKeyError("key file " + path + " does not hold an Ed25519 key");
  }
  return NodeKey(key);
}

NodeKey NodeKey::load_or_generate(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) throw NodeKeyError("key file " + path + " is not a regular file");
    return load(path);
  }
  if (errno != ENOENT)
    throw NodeKeyError("cannot read key file " + path + ": " + std::strerror(errno));
  NodeKey key = generate();
  key.unsaved_path_ = path;
  return key;
}

void NodeKey::save_if_new() {
  if (unsaved_path_.empty()) return;
  const std::string path = std::exchange(unsaved_path_, {});
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    throw NodeKeyError("cannot encode key: " + openssl_reason());
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);

  // O_EXCL: two nodes started on the same path must not overwrite each other's identity; the
  // mode is set at creation so the private key is never readable by others, not even briefly.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST)
      throw NodeKeyError("key file " + path + " was created by someone else while starting");
    throw NodeKeyError("cannot create key file " + path + ": " + std::strerror(errno));
  }
  const ssize_t written = ::write(fd, data, static_cast<size_t>(len));
  const int write_errno = errno;
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (written != len || !synced) {
    ::unlink(path.c_str());
    throw NodeKeyError("cannot write key file " + path + ": " + std::strerror(write_errno));
  }
  created_ = true;
}

NodeKey NodeKey::load_or_create(const std::string& path) {
  NodeKey key = load_or_generate(path);
  try {
    key.save_if_new();
  } catch (const NodeKeyError&) {
    // Another process created it between our check and our write: that identity wins.
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && !key.created_) return load(path);
    throw;
  }
  return key;
}

std::array<uint8_t, NodeKey::kSignatureBytes> NodeKey::sign(std::string_view data) const {
  std::array<uint8_t, kSignatureBytes> sig{};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = sig.size();
  const bool ok =
      ctx != nullptr && EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key_.get()) == 1 &&
      EVP_DigestSign(ctx, sig.data(), &len, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  // Signing with a valid in-memory Ed25519 key only fails on allocation failure.
  if (!ok) throw std::runtime_error("Ed25519 signing failed: " + openssl_reason());
  return sig;
}

bool NodeKey::verify(const std::array<uint8_t, kPublicKeyBytes>& public_key, std::string_view data,
                     const std::array<uint8_t, kSignatureBytes>& sig) {
  EVP_PKEY* key =
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, public_key.data(), public_key.size());
  if (key == nullptr) {
    ERR_clear_error();
    return false;
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok =
      ctx != nullptr && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
      EVP_DigestVerify(ctx, sig.data(), sig.size(),
                       reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  ERR_clear_error();
  return ok;
}

}  // namespace forestcast::node

namespace forestcast::node {

overlay::IdProof Ed25519Proofs::prove(std::span<const uint8_t> statement) {
  overlay::IdProof proof;
  proof.public_key = key_.public_key();
  proof.signature = key_.sign(
      std::string_view(reinterpret_cast<const char*>(statement.data()), statement.size()));
  return proof;
}

bool Ed25519Proofs::verify(const overlay::NodeId& claimed, const overlay::IdProof& proof,
                           std::span<const uint8_t> statement) {
  if (overlay::NodeId::sha1_of(std::span<const uint8_t>(proof.public_key)) != claimed)
    return false;
  return NodeKey::verify(
      proof.public_key,
      std::string_view(reinterpret_cast<const char*>(statement.data()), statement.size()),
      proof.signature);
}

}  // namespace forestcast::node
