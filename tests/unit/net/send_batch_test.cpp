// SendBatch: one sendmmsg for a tick's datagrams. Real loopback sockets for "everything
// arrives"; a scripted system call for partial results, EAGAIN and EINTR (the kernel does not
// produce them on demand), with fault injection at every position (STYLE.md §12).
#include "net/udp/send_batch.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace forestcast::net {
namespace {

struct Socket {
  Socket() {
    fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    addr_len = len;
  }
  ~Socket() { ::close(fd); }
  // Every datagram waiting, in arrival order (waits up to 1 s for the first).
  std::vector<std::string> receive_all(size_t expected) const {
    std::vector<std::string> got;
    char buf[2048];
    while (got.size() < expected) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 1000) <= 0) break;
      const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n < 0) break;
      got.emplace_back(buf, static_cast<size_t>(n));
    }
    return got;
  }
  int fd = -1;
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
};

// Address -> port, to name a destination in the scripted call's record.
uint16_t port_of(const void* name) {
  return ntohs(static_cast<const sockaddr_in*>(name)->sin_port);
}

sockaddr_storage fake_addr(uint16_t port) {
  sockaddr_storage s{};
  auto* a = reinterpret_cast<sockaddr_in*>(&s);
  a->sin_family = AF_INET;
  a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a->sin_port = htons(port);
  return s;
}

// A scripted sendmmsg: takes at most `per_call` messages a call and refuses the datagrams whose
// overall index is in `refuse` with `error` (as the kernel does: an error only when it is the
// first of the call, otherwise the call stops short before it). Records what it "sent".
struct ScriptedSend {
  size_t per_call = 1024;
  std::map<size_t, int> refuse;  // overall datagram index -> errno
  size_t next = 0;               // overall index of the next datagram offered
  std::vector<std::pair<uint16_t, std::string>> sent;
  size_t calls = 0;
  int operator()(int, mmsghdr* msgs, unsigned count) {
    ++calls;
    size_t n = 0;
    while (n < count && n < per_call) {
      if (auto it = refuse.find(next); it != refuse.end()) {
        if (n > 0) break;  // reported on the next call, as the kernel does
        errno = it->second;
        if (it->second != EINTR) ++next;  // EINTR: the same datagram is offered again
        refuse.erase(it);
        return -1;
      }
      const msghdr& h = msgs[n].msg_hdr;
      sent.emplace_back(port_of(h.msg_name),
                        std::string(static_cast<const char*>(h.msg_iov[0].iov_base),
                                    h.msg_iov[0].iov_len));
      msgs[n].msg_len = static_cast<unsigned>(h.msg_iov[0].iov_len);
      ++n;
      ++next;
    }
    return static_cast<int>(n);
  }
};

// Payload p to destinations `fanout` ports: 1000 + i.
void queue(SendBatch& b, const std::string& payload, size_t fanout) {
  b.begin_payload() = payload;
  for (size_t i = 0; i < fanout; ++i) {
    const sockaddr_storage a = fake_addr(static_cast<uint16_t>(1000 + i));
    b.add(a, sizeof(sockaddr_in));
  }
}

TEST(SendBatch, EveryDatagramOfABatchArrivesOnce) {
  Socket sender;
  std::vector<std::unique_ptr<Socket>> sinks;
  for (int i = 0; i < 4; ++i) sinks.push_back(std::make_unique<Socket>());
  SendBatch batch;
  // Three payloads, each to every sink: 12 datagrams, 3 payload buffers, one flush.
  for (const char* p : {"first", "second payload", "third"}) {
    batch.begin_payload() = p;
    for (auto& s : sinks) batch.add(s->addr, s->addr_len);
  }
  EXPECT_EQ(batch.size(), 12u);
  EXPECT_EQ(batch.payloads(), 3u);
  const FlushResult r = batch.flush(sender.fd);
  EXPECT_EQ(r.sent, 12u);
  EXPECT_EQ(r.failed, 0u);
  EXPECT_EQ(r.bytes, 4u * (5 + 14 + 5));
  EXPECT_TRUE(batch.empty());
  for (auto& s : sinks)
    EXPECT_EQ(s->receive_all(3), (std::vector<std::string>{"first", "second payload", "third"}));
  // The batch is reusable: buffers kept, nothing left over from the last flush.
  batch.begin_payload() = "again";
  batch.add(sinks[0]->addr, sinks[0]->addr_len);
  EXPECT_EQ(batch.flush(sender.fd).sent, 1u);
  EXPECT_EQ(sinks[0]->receive_all(1), std::vector<std::string>{"again"});
}

TEST(SendBatch, DiscardedPayloadIsNotSent) {
  ScriptedSend script;
  SendBatch batch(std::ref(script));
  queue(batch, "kept", 2);
  batch.begin_payload() = "too big";
  batch.discard_payload();
  queue(batch, "also kept", 1);
  EXPECT_EQ(batch.flush(3).sent, 3u);
  ASSERT_EQ(script.sent.size(), 3u);
  EXPECT_EQ(script.sent[2], (std::pair<uint16_t, std::string>{1000, "also kept"}));
}

TEST(SendBatch, PartialResultsGoOnFromTheFirstUnsent) {
  for (size_t per_call : {1u, 2u, 5u, 7u}) {
    ScriptedSend script;
    script.per_call = per_call;
    SendBatch batch(std::ref(script));
    queue(batch, "a", 16);
    queue(batch, "b", 16);
    const FlushResult r = batch.flush(3);
    EXPECT_EQ(r.sent, 32u) << per_call;
    EXPECT_EQ(r.failed, 0u);
    EXPECT_EQ(r.bytes, 32u);
    EXPECT_EQ(script.calls, (32 + per_call - 1) / per_call);
    ASSERT_EQ(script.sent.size(), 32u);
    for (size_t i = 0; i < 32; ++i) {  // each exactly once, in order
      EXPECT_EQ(script.sent[i].first, 1000 + i % 16);
      EXPECT_EQ(script.sent[i].second, i < 16 ? "a" : "b");
    }
  }
}

// A full send buffer (EAGAIN) or any refusal drops exactly that datagram; the others still go.
TEST(SendBatch, ARefusedDatagramIsDroppedAndTheRestGo) {
  for (int error : {EAGAIN, ENOBUFS, EINVAL}) {
    for (size_t nth = 0; nth < 20; ++nth) {
      ScriptedSend script;
      script.per_call = 8;
      script.refuse[nth] = error;
      SendBatch batch(std::ref(script));
      queue(batch, "x", 10);
      queue(batch, "y", 10);
      const FlushResult r = batch.flush(3);
      EXPECT_EQ(r.sent, 19u) << nth;
      EXPECT_EQ(r.failed, 1u);
      EXPECT_EQ(r.last_error, error);
      ASSERT_EQ(script.sent.size(), 19u);
      size_t k = 0;
      for (size_t i = 0; i < 20; ++i) {
        if (i == nth) continue;
        EXPECT_EQ(script.sent[k].first, 1000 + i % 10) << nth << " " << i;
        EXPECT_EQ(script.sent[k].second, i < 10 ? "x" : "y");
        ++k;
      }
    }
  }
}

TEST(SendBatch, MoreThanFullIsStillSentInOrder) {
  ScriptedSend script;
  SendBatch batch(std::ref(script));
  const size_t n = SendBatch::kMaxDatagrams + 40;
  for (size_t i = 0; i < n; ++i) queue(batch, std::to_string(i), 1);
  EXPECT_TRUE(batch.full());
  EXPECT_EQ(batch.flush(3).sent, n);
  ASSERT_EQ(script.sent.size(), n);
  for (size_t i = 0; i < n; ++i) EXPECT_EQ(script.sent[i].second, std::to_string(i));
}

TEST(SendBatch, InterruptedCallIsRetriedWithoutLoss) {
  ScriptedSend script;
  script.per_call = 3;
  script.refuse[0] = EINTR;
  script.refuse[4] = EINTR;
  SendBatch batch(std::ref(script));
  queue(batch, "z", 9);
  const FlushResult r = batch.flush(3);
  EXPECT_EQ(r.sent, 9u);
  EXPECT_EQ(r.failed, 0u);
  EXPECT_EQ(script.sent.size(), 9u);
}

TEST(SendBatch, EveryDatagramRefusedStillEnds) {
  SendBatch batch([](int, mmsghdr*, unsigned) {
    errno = EAGAIN;
    return -1;
  });
  queue(batch, "never", 5);
  const FlushResult r = batch.flush(3);
  EXPECT_EQ(r.sent, 0u);
  EXPECT_EQ(r.failed, 5u);
  EXPECT_TRUE(batch.empty());
}

}  // namespace
}  // namespace forestcast::net
