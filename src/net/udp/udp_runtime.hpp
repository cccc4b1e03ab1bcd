#pragma once
// The real-network driver of one PastryNode (DESIGN.md §1): a UDP socket and one steady_timer
// on a single io_context thread. It is the node's Environment (encode + send), decodes and
// validates every datagram before the core sees it, and keeps the one real timer armed for the
// node's next deadline. It is also the only place the clock is read: `now` is steady time since
// the runtime was created.
//
// The forwarding path is batched (docs/media.md "Forwarding cost"): datagrams are read with
// recvmmsg(2) while the socket has any, and what the node sends while handling them (or one
// timer, or one with_node() call) is queued and leaves in one sendmmsg(2) when the handler
// returns. A message sent to several peers in a row (a relay's Data to its children) is
// encoded once.
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <span>
#include <vector>

#include "net/udp/link_emulation.hpp"
#include "net/udp/rate_limiter.hpp"
#include "net/udp/send_batch.hpp"
#include "net/udp/token_bucket.hpp"
#include "net/wire/codec.hpp"
#include "overlay/environment.hpp"
#include "overlay/pastry_node.hpp"

namespace forestcast::net {

// Every datagram received is either accepted (handed to the core) or dropped for exactly one
// counted reason: datagrams_in == datagrams_accepted + dropped_total().
struct WireCounters {
  uint64_t datagrams_in = 0;
  uint64_t datagrams_accepted = 0;
  uint64_t datagrams_out = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t dropped_rate_limited = 0;       // this source's own bucket was empty
  uint64_t dropped_untracked_limited = 0;  // a new source while the per-peer table was full
                                           // of busy sources, and their shared bucket empty
  uint64_t dropped_global_limit = 0;       // over the node-wide receive rate
  uint64_t rate_limiter_evictions = 0;     // idle per-peer buckets forgotten to make room
  uint64_t dropped_own_id = 0;             // claims our id: a reflection or an impostor
  uint64_t dropped_after_leave = 0;        // arrived after a graceful leave
  uint64_t send_oversize = 0;              // encoded message over kMaxDatagramBytes, not sent
  uint64_t send_errors = 0;                // the kernel refused it (incl. full socket buffer)
  uint64_t send_batches = 0;               // sendmmsg flushes (datagrams_out / this = batch)
  uint64_t send_encodings = 0;             // messages encoded: below datagrams_out when one
                                           // message went to several peers
  uint64_t receive_batches = 0;            // recvmmsg calls that returned datagrams
  uint64_t receive_errors = 0;
  uint64_t dropped_emulated_loss = 0;  // test-only link emulation (LinkEmulation)
  uint64_t dropped_test_partition = 0;  // test-only drop rule (UdpRuntimeOptions::test_drop_file)
  std::array<uint64_t, wire::kDecodeErrorCount> dropped_decode{};  // by wire::DecodeError

  uint64_t dropped_malformed() const {
    uint64_t total = 0;
    for (uint64_t c : dropped_decode) total += c;
    return total;
  }
  uint64_t dropped_total() const {
    return dropped_rate_limited + dropped_untracked_limited + dropped_global_limit +
           dropped_own_id + dropped_after_leave + dropped_test_partition + dropped_malformed();
  }
};

struct UdpRuntimeOptions {
  overlay::PastryConfig pastry;
  uint64_t seed = 1;
  // The address other nodes should use for us; defaults to the bound address (which must then
  // not be a wildcard such as 0.0.0.0).
  std::optional<overlay::Endpoint> advertise;
  // Generous: Pastry alone sends a few datagrams per second per peer; this is room for the
  // stripes a parent forwards later, while still bounding a flood from one address.
  uint64_t peer_rate_per_second = 5000;
  uint64_t peer_burst = 10000;
  size_t max_rate_limited_peers = 4096;
  // Test-only: hold every received message for the emulated one-way delay from its sender and
  // drop a fraction (see link_emulation.hpp). Unset in production.
  std::optional<LinkEmulationConfig> emulation;
  // Node-wide cap on datagrams handed to the decoder and the core, whatever their source: bounds
  // the CPU a flood from many (spoofed) addresses can take. A video relay receives a few
  // hundred datagrams per second; this is far above that.
  uint64_t global_rate_per_second = 20000;
  uint64_t global_burst = 40000;
  // Key-proven ids (docs/security.md §3): the node's own signer and the checker of others'
  // proofs (node::Ed25519Proofs in the daemon). Null: proofs off, as in tests that need none.
  std::shared_ptr<overlay::KeyProofs> key_proofs;
  // Test only: datagrams from the addresses listed in this file (HOST:PORT, one a line) are
  // dropped, as if the network between us were cut; the file is re-read when it changes
  // (checked at most every 100 ms), so a test makes a partition and heals it by rewriting it.
  std::optional<std::string> test_drop_file;
};

class UdpRuntime final : public overlay::Environment {
 public:
  using StateObserver = std::function<void(overlay::JoinState)>;

  UdpRuntime(boost::asio::io_context& io, overlay::NodeId id, UdpRuntimeOptions options);
  ~UdpRuntime() override;
  UdpRuntime(const UdpRuntime&) = delete;
  UdpRuntime& operator=(const UdpRuntime&) = delete;

  // Binds the socket and creates the node (whose handle needs the bound address). Nothing is
  // received and no timer runs until start_ring()/join(); applications register in between.
  boost::system::error_code open(const overlay::Endpoint& bind);

  void start_ring();
  void join(std::vector<overlay::Endpoint> bootstraps);
  // Graceful leave (the node tells its leaf set); the socket stays open so the Leave messages
  // go out. close() afterwards.
  void leave();
  void close();

  // Calls into the node from the io_context thread (an upper layer's route(), send_direct()...)
  // must go through here so the timer is re-armed for whatever they scheduled.
  template <typename F>
  void with_node(F&& f) {
    const SendScope scope(*this);
    f(*node_, now());
    after_node_call();
  }

  // Called with the new state each time the node's JoinState changes.
  void set_state_observer(StateObserver observer) { observer_ = std::move(observer); }

  overlay::PastryNode& node() { return *node_; }
  const overlay::PastryNode& node() const { return *node_; }
  bool is_open() const { return node_ != nullptr; }
  const overlay::NodeId& id() const { return id_; }
  overlay::Endpoint local_endpoint() const { return local_; }
  const WireCounters& counters() const { return counters_; }
  // The test-only link emulation, when on.
  const std::optional<LinkEmulation>& emulation() const { return emulation_; }
  Time now() const;

  // overlay::Environment
  void send(const overlay::Endpoint& to, const overlay::Message& msg) override;
  overlay::KeyProofs* key_proofs() override { return options_.key_proofs.get(); }

 private:
  // While one is alive, send() queues; the outermost one's end sends the queue. A send outside
  // any (a caller that reached the node without with_node()) leaves at once.
  class SendScope {
   public:
    explicit SendScope(UdpRuntime& rt) : rt_(rt) { ++rt_.send_scopes_; }
    ~SendScope() {
      if (--rt_.send_scopes_ == 0) rt_.flush_sends();
    }
    SendScope(const SendScope&) = delete;
    SendScope& operator=(const SendScope&) = delete;

   private:
    UdpRuntime& rt_;
  };
  void flush_sends();
  void start_receive();
  void on_readable(const boost::system::error_code& ec);
  void on_datagram(std::span<const uint8_t> datagram, const overlay::Endpoint& from);
  // Applies the per-peer and global limits, counting a drop; true if the datagram may be read.
  bool admit(const overlay::Endpoint& from, Time now);
  // The test-only drop rule (UdpRuntimeOptions::test_drop_file).
  bool test_dropped(const overlay::Endpoint& from, Time now);
  void after_node_call();
  void arm_timer(Time deadline);
  void on_timer(uint64_t generation);
  void deliver(Time t, const overlay::NodeHandle& from, const overlay::Message& msg);
  void hold(Time due, overlay::NodeHandle from, overlay::Message msg);
  void arm_hold_timer(Time due);
  void on_hold_timer();

  overlay::NodeId id_;
  UdpRuntimeOptions options_;
  std::chrono::steady_clock::time_point epoch_;
  boost::asio::ip::udp::socket socket_;
  boost::asio::steady_timer timer_;
  std::unique_ptr<overlay::PastryNode> node_;
  overlay::Endpoint local_;
  bool started_ = false;
  bool closed_ = false;

  bool v6_socket_ = false;  // v4 destinations are sent v4-mapped

  // recvmmsg: kReceiveBatch datagrams a call. Each buffer is one byte more than the largest
  // legal datagram, so an oversize one is seen as such instead of silently truncated into
  // something that might parse.
  static constexpr size_t kReceiveBatch = 32;
  struct ReceiveSlots;  // buffers, addresses and headers (udp_runtime.cpp)
  std::unique_ptr<ReceiveSlots> rx_;

  SendBatch batch_;
  int send_scopes_ = 0;
  // The message whose encoding is the batch's current payload, when it can be sent again to
  // another peer as it is (a DirectMsg: the bytes name no destination); held so its address is
  // not reused while we compare against it.
  overlay::AppMessagePtr encoded_app_;
  bool encoded_oversize_ = false;

  Time armed_ = kNever;
  uint64_t timer_generation_ = 0;
  overlay::JoinState last_state_ = overlay::JoinState::kIdle;
  StateObserver observer_;
  wire::AppDecoder app_decoder_;
  RateLimiter<overlay::Endpoint> limiter_;
  TokenBucket::Params global_params_;
  TokenBucket global_bucket_;
  WireCounters counters_;
  std::vector<overlay::Endpoint> test_drop_;
  Time test_drop_checked_{-1};
  int64_t test_drop_mtime_ns_ = -1;

  // Link emulation: messages received but not yet due, earliest first.
  struct Held {
    Time due;
    uint64_t sequence;  // ties keep arrival order
    overlay::NodeHandle from;
    overlay::Message msg;
    bool operator>(const Held& o) const {
      return due != o.due ? due > o.due : sequence > o.sequence;
    }
  };
  std::optional<LinkEmulation> emulation_;
  std::priority_queue<Held, std::vector<Held>, std::greater<>> held_;
  uint64_t held_sequence_ = 0;
  boost::asio::steady_timer hold_timer_;
  Time hold_armed_ = kNever;
};

// Conversions between the core's Endpoint and Asio's.
boost::asio::ip::udp::endpoint to_asio(const overlay::Endpoint& e);
overlay::Endpoint from_asio(const boost::asio::ip::address& addr, uint16_t port);

}  // namespace forestcast::net
