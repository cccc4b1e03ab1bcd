#include "net/udp/send_batch.hpp"

#include <cassert>
#include <cerrno>

namespace forestcast::net {

SendBatch::SendBatch()
    : SendBatch([](int fd, mmsghdr* msgs, unsigned count) {
        return ::sendmmsg(fd, msgs, count, 0);
      }) {}

SendBatch::SendBatch(SendFn send) : send_(std::move(send)) {
  entries_.reserve(kMaxDatagrams);
  msgs_.resize(kMaxDatagrams);
  iovs_.resize(kMaxDatagrams);
}

std::string& SendBatch::begin_payload() {
  if (payload_count_ == payloads_.size()) payloads_.emplace_back();
  std::string& p = payloads_[payload_count_++];
  p.clear();
  return p;
}

void SendBatch::discard_payload() {
  assert(payload_count_ > 0);
  assert(entries_.empty() || entries_.back().payload + 1 < payload_count_);
  --payload_count_;
}

void SendBatch::add(const sockaddr_storage& to, socklen_t to_len) {
  assert(payload_count_ > 0);
  entries_.push_back(Entry{payload_count_ - 1, to, to_len});
}

FlushResult SendBatch::flush(int fd) {
  FlushResult result;
  const size_t n = entries_.size();
  if (msgs_.size() < n) {  // a caller that queued past full(): slower, still correct
    msgs_.resize(n);
    iovs_.resize(n);
  }
  // Built here, not in add(): payloads_ may have moved its strings while growing.
  for (size_t i = 0; i < n; ++i) {
    std::string& p = payloads_[entries_[i].payload];
    iovs_[i] = iovec{p.data(), p.size()};
    msghdr& h = msgs_[i].msg_hdr;
    h = msghdr{};
    h.msg_name = &entries_[i].to;
    h.msg_namelen = entries_[i].to_len;
    h.msg_iov = &iovs_[i];
    h.msg_iovlen = 1;
    msgs_[i].msg_len = 0;
  }
  size_t off = 0;
  while (off < n) {
    const int r = send_(fd, msgs_.data() + off, static_cast<unsigned>(n - off));
    if (r > 0) {
      for (size_t i = off; i < off + static_cast<size_t>(r); ++i) result.bytes += msgs_[i].msg_len;
      result.sent += static_cast<size_t>(r);
      off += static_cast<size_t>(r);
      continue;
    }
    if (r < 0 && errno == EINTR) continue;
    // The datagram at `off` was refused (r == 0 is not in the contract: treated alike, so the
    // loop always moves on).
    result.last_error = r < 0 ? errno : EIO;
    ++result.failed;
    ++off;
  }
  entries_.clear();
  payload_count_ = 0;
  return result;
}

}  // namespace forestcast::net
