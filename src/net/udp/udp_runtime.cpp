#include "net/udp/udp_runtime.hpp"

#include <spdlog/spdlog.h>

#include <sys/stat.h>

#include <algorithm>
#include <boost/asio/ip/v6_only.hpp>
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

}  // namespace

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
  if (ep.protocol() == udp::v6()) {
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
  started_ = true;
  start_receive();
  node_->start_ring(now());
  after_node_call();
}

void UdpRuntime::join(std::vector<Endpoint> bootstraps) {
  started_ = true;
  start_receive();
  node_->join(now(), std::move(bootstraps));
  after_node_call();
}

void UdpRuntime::leave() {
  if (!node_ || closed_) return;
  node_->leave(now());
  after_node_call();
}

void UdpRuntime::close() {
  if (closed_) return;
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
  const std::string bytes = wire::encode(id_, msg);
  if (bytes.size() > overlay::kMaxDatagramBytes) {
    ++counters_.send_oversize;
    log().warn("{} not sending {}-byte message (index {}) to {}: over {} bytes", id_.short_hex(),
               bytes.size(), msg.index(), to.to_string(), overlay::kMaxDatagramBytes);
    return;
  }
  udp::endpoint dest = to_asio(to);
  if (dest.address().is_v4() && socket_.local_endpoint().protocol() == udp::v6())
    dest = {asio::ip::address_v6::v4_mapped(dest.address().to_v4()), dest.port()};
  boost::system::error_code ec;
  socket_.send_to(asio::buffer(bytes), dest, 0, ec);
  if (ec) {
    ++counters_.send_errors;
    log().debug("{} send to {} failed: {}", id_.short_hex(), to.to_string(), ec.message());
    return;
  }
  ++counters_.datagrams_out;
  counters_.bytes_out += bytes.size();
}

// ---- receiving ------------------------------------------------------------------------------

void UdpRuntime::start_receive() {
  if (closed_) return;
  socket_.async_receive_from(
      asio::buffer(rx_buffer_), rx_from_,
      [this](const boost::system::error_code& ec, size_t bytes) { on_receive(ec, bytes); });
}

void UdpRuntime::on_receive(const boost::system::error_code& ec, size_t bytes) {
  if (closed_ || ec == asio::error::operation_aborted) return;
  if (ec) {
    // Transient (e.g. ICMP feedback surfacing as an error): count and keep receiving.
    ++counters_.receive_errors;
    log().debug("{} receive error: {}", id_.short_hex(), ec.message());
    start_receive();
    return;
  }
  ++counters_.datagrams_in;
  counters_.bytes_in += bytes;
  const Time t = now();
  const Endpoint from = from_asio(rx_from_.address(), rx_from_.port());
  if (test_dropped(from, t)) {
    ++counters_.dropped_test_partition;
  } else if (!admit(from, t)) {
    // counted by admit()
  } else if (auto decoded =
                 wire::decode(std::span<const uint8_t>(rx_buffer_.data(), bytes), app_decoder_);
             !decoded) {
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
  start_receive();
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
  armed_ = kNever;
  node_->on_timer(now());
  after_node_call();
}

}  // namespace forestcast::net
