#include "media/group_signer.hpp"

#include <algorithm>
#include <cstring>
#include <string_view>

namespace forestcast::media {

namespace {
std::string_view as_chars(const GroupDigest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}
}  // namespace

GroupSignature Ed25519GroupSigner::sign(const GroupDigest& digest) {
  return key_.sign(as_chars(digest));
}

bool Ed25519GroupVerifier::verify(const GroupDigest& digest, const GroupSignature& sig) {
  return node::NodeKey::verify(publisher_key_, as_chars(digest), sig);
}

GroupSignature ModelGroupSigner::sign(const GroupDigest& digest) {
  GroupSignature s{};
  std::copy(digest.begin(), digest.end(), s.begin());
  std::memcpy(s.data() + digest.size(), &tag_, sizeof(tag_));
  return s;
}

bool ModelGroupSigner::verify(const GroupDigest& digest, const GroupSignature& sig) {
  return sig == sign(digest);
}

}  // namespace forestcast::media
