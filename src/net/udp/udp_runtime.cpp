#include "net/udp/udp_runtime.hpp"

#include <spdlog/spdlog.h>

#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/asio/ip/v6_only.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "base/log.hpp"

namespace forestcast::net {
namespace {

namespace asio = boost::asio;
using asio::ip::udp;
using overlay::Endpoint;

spdlog::logger& log() {
  static const std::shared_ptr<spdlog::logger> logger = module_logger("net");
  return *logger;
}

// The kernel's address for `e` on our socket: v4 as sockaddr_in, or v4-mapped on a v6 socket.
socklen_t to_sockaddr(const Endpoint& e, bool v6_socket, sockaddr_storage& out) {
  out = {};
  if (e.is_v4() && !v6_socket) {
    auto* a = reinterpret_cast<sockaddr_in*>(&out);
    a->sin_family = AF_INET;
    std::memcpy(&a->sin_addr, e.ip.data() + 12, 4);
    a->sin_port = htons(e.port);
    return sizeof(sockaddr_in);
  }
  // v6, or v4 on a dual-stack socket (Endpoint keeps v4 in its v4-mapped form). A v6
  // destination on a v4 socket is refused by the kernel and counted as a send error.
  auto* a = reinterpret_cast<sockaddr_in6*>(&out);
  a->sin6_family = AF_INET6;
  std::memcpy(&a->sin6_addr, e.ip.data(), 16);
  a->sin6_port = htons(e.port);
  return sizeof(sockaddr_in6);
}

Endpoint from_sockaddr(const sockaddr_storage& s) {
  if (s.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&s);
    return Endpoint::ipv4(ntohl(a->sin_addr.s_addr), ntohs(a->sin_port));
  }
  Endpoint e;
  const auto* a = reinterpret_cast<const sockaddr_in6*>(&s);
  std::memcpy(e.ip.data(), &a->sin6_addr, 16);  // v4-mapped stays v4-mapped, as from_asio()
  e.port = ntohs(a->sin6_port);
  return e;
}

}  // namespace

struct UdpRuntime::ReceiveSlots {
  std::array<std::array<uint8_t, overlay::kMaxDatagramBytes + 1>, kReceiveBatch> buffers{};
  std::array<sockaddr_storage, kReceiveBatch> from{};
  std::array<iovec, kReceiveBatch> iov{};
  std::array<mmsghdr, kReceiveBatch> headers{};
  // recvmmsg overwrites msg_namelen and msg_len: reset before each call.
  void reset() {
    for (size_t i = 0; i < kReceiveBatch; ++i) {
      iov[i] = iovec{buffers[i].data(), buffers[i].size()};
      msghdr& h = headers[i].msg_hdr;
      h = msghdr{};
      h.msg_name = &from[i];
      h.msg_namelen = sizeof(sockaddr_storage);
      h.msg_iov = &iov[i];
      h.msg_iovlen = 1;
      headers[i].msg_len = 0;
    }
  }
};

udp::endpoint to_asio(const Endpoint& e) {
  if (e.is_v4()) return {asio::ip::address_v4(e.v4()), e.port};
  asio::ip::address_v6::bytes_type bytes;
  std::copy(e.ip.begin(), e.ip.end(), bytes.begin());
  return {asio::ip::address_v6(bytes), e.port};
}

Endpoint from_asio(const asio::ip::address& addr, uint16_t port) {
  if (addr.is_v4()) return Endpoint::ipv4(addr.to_v4().to_uint(), port);
  Endpoint e;
  const auto bytes = addr.to_v6().to_bytes();  // v4-mapped stays v4-mapped: same as ipv4()
  std::copy(bytes.begin(), bytes.end(), e.ip.begin());
  e.port = port;
  return e;
}

UdpRuntime::UdpRuntime(asio::io_context& io, overlay::NodeId id, UdpRuntimeOptions options)
    : id_(id),
      options_(std::move(options)),
      epoch_(std::chrono::steady_clock::now()),
      socket_(io),
      timer_(io),
      limiter_(options_.peer_rate_per_second, options_.peer_burst, options_.max_rate_limited_peers),
      global_params_(options_.global_rate_per_second, options_.global_burst),
      global_bucket_(global_params_, Time{0}),
      hold_timer_(io) {
  rx_ = std::make_unique<ReceiveSlots>();
  if (options_.emulation) {
    emulation_.emplace(*options_.emulation, id_, options_.seed ^ 0x5bd1e995ULL);
    log().warn("{} link emulation on: {}-{} ms one way, {:.1f} % loss (test only)", id_.short_hex(),
               options_.emulation->min_latency.count() / 1000,
               options_.emulation->max_latency.count() / 1000, options_.emulation->loss * 100);
  }
}

UdpRuntime::~UdpRuntime() { close(); }

Time UdpRuntime::now() const {
  return std::chrono::duration_cast<Time>(std::chrono::steady_clock::now() - epoch_);
}

boost::system::error_code UdpRuntime::open(const Endpoint& bind) {
  boost::system::error_code ec;
  const udp::endpoint ep = to_asio(bind);
  socket_.open(ep.protocol(), ec);
  if (ec) return ec;
  v6_socket_ = ep.protocol() == udp::v6();
  if (v6_socket_) {
    // Dual-stack, so a node bound to [::] also talks to IPv4 peers (v4-mapped).
    socket_.set_option(asio::ip::v6_only(false), ec);
    ec.clear();
  }
  socket_.bind(ep, ec);
  if (!ec) {
    // Bursts (joins, state transfers, later video stripes) outrun one thread briefly; a larger
    // kernel buffer absorbs them. The kernel caps it (net.core.rmem_max): best effort.
    boost::system::error_code ignored;
    socket_.set_option(asio::socket_base::receive_buffer_size(4 << 20), ignored);
    socket_.set_option(asio::socket_base::send_buffer_size(1 << 20), ignored);
  }
  if (!ec) socket_.non_blocking(true, ec);  // a full send buffer drops, like the network would
  if (!ec) {
    const udp::endpoint local = socket_.local_endpoint(ec);
    if (!ec) local_ = from_asio(local.address(), local.port());
  }
  if (ec) {
    boost::system::error_code ignored;
    socket_.close(ignored);
    return ec;
  }
  const Endpoint self_endpoint = options_.advertise.value_or(local_);
  if (!options_.advertise && to_asio(local_).address().is_unspecified())
    log().warn("{} bound to wildcard {}: other nodes cannot reach that address; use --advertise",
               id_.short_hex(), local_.to_string());
  node_ = std::make_unique<overlay::PastryNode>(overlay::NodeHandle{id_, self_endpoint},
                                                options_.pastry, *this, options_.seed);
  app_decoder_ = [this](uint16_t app_id) -> const overlay::Application* {
    return node_->app(app_id);
  };
  return {};
}

void UdpRuntime::start_ring() {
  const SendScope scope(*this);
  started_ = true;
  start_receive();
  node_->start_ring(now());
  after_node_call();
}

void UdpRuntime::join(std::vector<Endpoint> bootstraps) {
  const SendScope scope(*this);
  started_ = true;
  start_receive();
  node_->join(now(), std::move(bootstraps));
  after_node_call();
}

void UdpRuntime::leave() {
  if (!node_ || closed_) return;
  const SendScope scope(*this);
  node_->leave(now());
  after_node_call();
}

void UdpRuntime::close() {
  if (closed_) return;
  flush_sends();  // what the last handler queued still goes
  closed_ = true;
  boost::system::error_code ignored;
  timer_.cancel();
  hold_timer_.cancel();
  socket_.close(ignored);
}

// ---- sending --------------------------------------------------------------------------------

void UdpRuntime::send(const Endpoint& to, const overlay::Message& msg) {
  if (closed_ || !to.valid()) {
    ++counters_.send_errors;
    return;
  }
  // The same DirectMsg again (a relay's Data to its next child): its bytes are the batch's
  // current payload already. The envelope carries no destination, so they are the same.
  const auto* direct = std::get_if<overlay::DirectMsg>(&msg);
  const bool again = direct != nullptr && direct->app != nullptr && direct->app == encoded_app_;
  if (!again) {
    std::string& bytes = batch_.begin_payload();
    wire::encode(id_, msg, bytes);
    ++counters_.send_encodings;
    encoded_app_ = direct != nullptr ? direct->app : nullptr;
    encoded_oversize_ = bytes.size() > overlay::kMaxDatagramBytes;
    if (encoded_oversize_) {
      log().warn("{} not sending {}-byte message (index {}) to {}: over {} bytes",
                 id_.short_hex(), bytes.size(), msg.index(), to.to_string(),
                 overlay::kMaxDatagramBytes);
      batch_.discard_payload();
    }
  }
  if (encoded_oversize_) {
    ++counters_.send_oversize;
    return;
  }
  sockaddr_storage dest{};
  const socklen_t dest_len = to_sockaddr(to, v6_socket_, dest);
  batch_.add(dest, dest_len);
  if (send_scopes_ == 0 || batch_.full()) flush_sends();
}

void UdpRuntime::flush_sends() {
  encoded_app_.reset();  // the payloads go with the batch
  if (batch_.empty()) return;
  if (closed_) {  // nothing can leave a closed socket
    counters_.send_errors += batch_.size();
    batch_.clear();
    return;
  }
  const FlushResult r = batch_.flush(socket_.native_handle());
  ++counters_.send_batches;
  counters_.datagrams_out += r.sent;
  counters_.bytes_out += r.bytes;
  if (r.failed > 0) {
    counters_.send_errors += r.failed;
    log().debug("{} {} of {} datagrams not sent: {}", id_.short_hex(), r.failed,
                r.failed + r.sent, std::strerror(r.last_error));
  }
}

// ---- receiving ------------------------------------------------------------------------------

void UdpRuntime::start_receive() {
  if (closed_) return;
  socket_.async_wait(udp::socket::wait_read,
                     [this](const boost::system::error_code& ec) { on_readable(ec); });
}

void UdpRuntime::on_readable(const boost::system::error_code& ec) {
  if (closed_ || ec == asio::error::operation_aborted) return;
  if (ec) {
    ++counters_.receive_errors;
    log().debug("{} receive error: {}", id_.short_hex(), ec.message());
    start_receive();
    return;
  }
  {
    // Everything the node sends while handling these datagrams leaves in one batch.
    const SendScope scope(*this);
    // At most kReceiveRounds full batches, then the other handlers (timers) get their turn.
    constexpr int kReceiveRounds = 4;
    for (int round = 0; round < kReceiveRounds && !closed_; ++round) {
      rx_->reset();
      const int n = ::recvmmsg(socket_.native_handle(), rx_->headers.data(), kReceiveBatch,
                               MSG_DONTWAIT, nullptr);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        if (errno == EINTR) continue;
        // Transient (e.g. ICMP feedback surfacing as an error): count and keep receiving.
        ++counters_.receive_errors;
        log().debug("{} receive error: {}", id_.short_hex(), std::strerror(errno));
        continue;
      }
      ++counters_.receive_batches;
      for (size_t i = 0; i < static_cast<size_t>(n) && !closed_; ++i)
        on_datagram(std::span<const uint8_t>(rx_->buffers[i].data(), rx_->headers[i].msg_len),
                    from_sockaddr(rx_->from[i]));
      if (static_cast<size_t>(n) < kReceiveBatch) break;
    }
  }
  start_receive();
}

void UdpRuntime::on_datagram(std::span<const uint8_t> datagram, const Endpoint& from) {
  ++counters_.datagrams_in;
  counters_.bytes_in += datagram.size();
  const Time t = now();
  if (test_dropped(from, t)) {
    ++counters_.dropped_test_partition;
  } else if (!admit(from, t)) {
    // counted by admit()
  } else if (auto decoded = wire::decode(datagram, app_decoder_); !decoded) {
    ++counters_.dropped_decode[static_cast<size_t>(decoded.error())];
    log().debug("{} dropped datagram from {}: {}", id_.short_hex(), from.to_string(),
                wire::to_string(decoded.error()));
  } else if (decoded.value().sender == id_) {
    ++counters_.dropped_own_id;
  } else if (node_->join_state() == overlay::JoinState::kLeft) {
    ++counters_.dropped_after_leave;
  } else {
    ++counters_.datagrams_accepted;
    const overlay::NodeHandle sender{decoded.value().sender, from};
    if (!emulation_) {
      deliver(t, sender, decoded.value().msg);
    } else if (const auto delay = emulation_->delay_from(sender.id)) {
      hold(t + *delay, sender, std::move(decoded.value().msg));  // the emulated link (tests)
    } else {
      ++counters_.dropped_emulated_loss;  // the emulated link's loss, after acceptance
    }
  }
}

void UdpRuntime::deliver(Time t, const overlay::NodeHandle& from, const overlay::Message& msg) {
  if (node_->join_state() == overlay::JoinState::kLeft) return;
  node_->on_message(t, from, msg);
  after_node_call();
}

// ---- link emulation -------------------------------------------------------------------------

void UdpRuntime::hold(Time due, overlay::NodeHandle from, overlay::Message msg) {
  held_.push(Held{due, held_sequence_++, from, std::move(msg)});
  if (due < hold_armed_) arm_hold_timer(due);
}

void UdpRuntime::arm_hold_timer(Time due) {
  hold_armed_ = due;
  hold_timer_.expires_at(epoch_ + due);
  hold_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted || closed_) return;
    on_hold_timer();
  });
}

void UdpRuntime::on_hold_timer() {
  const SendScope scope(*this);
  hold_armed_ = kNever;
  const Time t = now();
  while (!held_.empty() && held_.top().due <= t) {
    Held h = held_.top();  // priority_queue::top is const: copy, then pop
    held_.pop();
    deliver(t, h.from, h.msg);
    if (closed_) return;
  }
  if (!held_.empty()) arm_hold_timer(held_.top().due);
}

bool UdpRuntime::test_dropped(const Endpoint& from, Time now) {
  if (!options_.test_drop_file) return false;
  if (now - test_drop_checked_ >= ms(100) || test_drop_checked_ < Time{0}) {
    test_drop_checked_ = now;
    struct stat st {};
    const int64_t mtime = ::stat(options_.test_drop_file->c_str(), &st) == 0
                              ? int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec
                              : 0;
    if (mtime != test_drop_mtime_ns_) {
      test_drop_mtime_ns_ = mtime;
      test_drop_.clear();
      std::ifstream in(*options_.test_drop_file);
      std::string line;
      while (std::getline(in, line))
        if (const auto e = Endpoint::parse(line)) test_drop_.push_back(*e);
      log().warn("{} test drop rule: {} addresses", id_.short_hex(), test_drop_.size());
    }
  }
  return std::find(test_drop_.begin(), test_drop_.end(), from) != test_drop_.end();
}

bool UdpRuntime::admit(const Endpoint& from, Time now) {
  // Per peer first, so a single flooding peer's excess does not eat the node-wide budget.
  const Admission a = limiter_.admit(from, now);
  counters_.rate_limiter_evictions = limiter_.evicted();
  if (a == Admission::kPeerLimited) {
    ++counters_.dropped_rate_limited;
    return false;
  }
  if (a == Admission::kUntrackedLimited) {
    ++counters_.dropped_untracked_limited;
    return false;
  }
  if (!global_bucket_.take(global_params_, now)) {
    ++counters_.dropped_global_limit;
    return false;
  }
  return true;
}

// ---- timer ----------------------------------------------------------------------------------

void UdpRuntime::after_node_call() {
  const Time deadline = node_->next_deadline();
  // Only ever move the real timer earlier: a later deadline finds the timer firing early,
  // running nothing, and re-arming for the true deadline.
  if (deadline < armed_) arm_timer(deadline);
  const overlay::JoinState state = node_->join_state();
  if (state != last_state_) {
    last_state_ = state;
    if (observer_) observer_(state);
  }
}

void UdpRuntime::arm_timer(Time deadline) {
  if (closed_) return;
  armed_ = deadline;
  const uint64_t generation = ++timer_generation_;
  timer_.expires_at(epoch_ + deadline);
  // Cancelling the previous wait delivers operation_aborted to its handler; a handler that was
  // already queued as expired is recognised by its stale generation instead.
  timer_.async_wait([this, generation](const boost::system::error_code& ec) {
    if (ec == asio::error::operation_aborted) return;
    on_timer(generation);
  });
}

void UdpRuntime::on_timer(uint64_t generation) {
  if (closed_ || generation != timer_generation_) return;
  const SendScope scope(*this);
  armed_ = kNever;
  node_->on_timer(now());
  after_node_call();
}

}  // namespace forestcast::net
