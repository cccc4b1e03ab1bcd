#pragma once
// Datagrams queued while the node handles one event and sent with one sendmmsg(2) at its end
// (docs/media.md "Forwarding cost"). A relay sends the same bytes to every child of a stripe: the
// payload is stored once and each destination points at it, so a fan-out of 16 costs one
// encoding, no copy and one system call per 16 datagrams (per up to kMaxDatagrams).
//
// Buffers are kept between flushes (cleared, capacity kept): after the first packets of a
// stream, queuing allocates nothing.
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace forestcast::net {

struct FlushResult {
  size_t sent = 0;    // datagrams the kernel took
  size_t failed = 0;  // datagrams dropped: the kernel refused them (full buffer, bad address)
  size_t bytes = 0;   // bytes of the datagrams sent
  int last_error = 0;  // errno of the last failure
};

class SendBatch {
 public:
  // The system call; tests replace it to send part of a batch or to fail (EAGAIN, EINTR).
  // Same contract as sendmmsg(2): the number of messages sent from the front (each with its
  // msg_len set), or -1 with errno when the first one could not be sent.
  using SendFn = std::function<int(int fd, mmsghdr* msgs, unsigned count)>;
  // The runtime flushes when this many datagrams are queued (full()); more may be queued, the
  // kernel then takes them UIO_MAXIOV (1,024) a call.
  static constexpr size_t kMaxDatagrams = 256;

  SendBatch();
  explicit SendBatch(SendFn send);

  // Starts the payload the next add() calls send: returns its buffer, empty, to be filled.
  std::string& begin_payload();
  // Forgets the payload begun last (it turned out not to be sendable); no add() may follow
  // until the next begin_payload().
  void discard_payload();
  // Queues the current payload to `to`.
  void add(const sockaddr_storage& to, socklen_t to_len);

  bool empty() const { return entries_.empty(); }
  bool full() const { return entries_.size() >= kMaxDatagrams; }
  size_t size() const { return entries_.size(); }
  size_t payloads() const { return payload_count_; }

  // Sends everything queued, in order, and empties the batch. A partial result goes on from the
  // first datagram not sent; a datagram the kernel refuses (EAGAIN: full send buffer, or any
  // other error) is dropped and counted, and the rest still go: UDP may lose any datagram, and
  // one full buffer or dead address must not hold up the others. EINTR retries.
  FlushResult flush(int fd);
  // Empties the batch without sending (the socket is closed).
  void clear() {
    entries_.clear();
    payload_count_ = 0;
  }

 private:
  struct Entry {
    size_t payload;
    sockaddr_storage to;
    socklen_t to_len;
  };
  SendFn send_;
  std::vector<std::string> payloads_;  // [0, payload_count_) in use
  size_t payload_count_ = 0;
  std::vector<Entry> entries_;
  std::vector<mmsghdr> msgs_;
  std::vector<iovec> iovs_;
};

}  // namespace forestcast::net
