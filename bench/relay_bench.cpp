// Forwarding cost of a relay (issue 12, "Forwarding cost"): CPU per forwarded copy of
//   raw:        a minimal raw-socket relay, recvmmsg a batch, sendmmsg each packet to N sinks;
//   forestcast: the real relay path, a UdpRuntime + PastryNode + Scribe (key-proven ids, as the
//               daemon runs them) that is interior with N children in one stripe tree,
// both fed on loopback by a source at the same fixed packet rate with datagrams of the same size,
// in one run. The relay runs on its own thread; its CPU is that thread's CPU clock over the
// stream, divided by the copies the sinks counted. Prints a table and one JSON line.
//
//   relay_bench [--rate PKT_PER_S] [--seconds S] [--fanout N] [--payload BYTES] [--rounds R]
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "multicast/credentials.hpp"
#include "multicast/scribe.hpp"
#include "net/udp/udp_runtime.hpp"
#include "net/wire/codec.hpp"
#include "node/node_key.hpp"

namespace {

namespace asio = boost::asio;
namespace mc = forestcast::multicast;
namespace net = forestcast::net;
namespace ov = forestcast::overlay;
using forestcast::Time;
using Clock = std::chrono::steady_clock;

struct Options {
  double rate = 2000;  // packets per second from the source
  double seconds = 10;
  int fanout = 16;
  size_t payload = 1200;  // Data payload; the raw relay's datagrams are the encoded Data's size
  int rounds = 1;         // raw then forestcast, this many times
  bool raw = true;        // --only raw|forestcast: one of the two (for perf)
  bool forestcast = true;
};

struct Result {
  double relay_cpu_s = 0;
  uint64_t sent = 0;       // packets from the source
  uint64_t delivered = 0;  // copies counted at the sinks
  uint64_t relay_out = 0;  // datagrams the relay's kernel took (the forestcast relay's include
                           // its few control messages)
  double us_per_copy() const { return delivered ? relay_cpu_s * 1e6 / double(delivered) : 0; }
  double us_per_sent() const { return relay_out ? relay_cpu_s * 1e6 / double(relay_out) : 0; }
  uint64_t lost(int fanout) const { return sent * uint64_t(fanout) - delivered; }
};

double thread_cpu_seconds(pthread_t thread) {
  clockid_t clock{};
  if (pthread_getcpuclockid(thread, &clock) != 0) return 0;
  timespec ts{};
  clock_gettime(clock, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

// Sleeps until `start + index / rate` (absolute, so the rate does not drift with scheduling).
void pace(Clock::time_point start, uint64_t index, double rate) {
  const auto due = start + std::chrono::nanoseconds(int64_t(double(index) * 1e9 / rate));
  std::this_thread::sleep_until(due);
}

// ---- raw: the minimal relay the issue compares against ----------------------------------------

int udp_socket(sockaddr_in& bound) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) std::abort();
  int buf = 4 << 20;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
  buf = 1 << 20;  // the UdpRuntime's send buffer
  ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
  bound = {};
  bound.sin_family = AF_INET;
  bound.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&bound), sizeof bound) != 0) std::abort();
  socklen_t len = sizeof bound;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  return fd;
}

// recvmmsg a batch (blocking for the first), then one sendmmsg of every packet to every sink.
// A zero-length datagram ends it.
uint64_t raw_relay(int fd, const std::vector<sockaddr_in>& sinks) {
  uint64_t sent = 0;
  constexpr size_t kBatch = 32;
  std::vector<std::array<char, 2048>> bufs(kBatch);
  std::array<mmsghdr, kBatch> rx{};
  std::array<iovec, kBatch> rx_iov{};
  std::vector<mmsghdr> tx(kBatch * sinks.size());
  std::vector<iovec> tx_iov(kBatch);
  for (;;) {
    for (size_t i = 0; i < kBatch; ++i) {
      rx_iov[i] = {bufs[i].data(), bufs[i].size()};
      rx[i].msg_hdr = {};
      rx[i].msg_hdr.msg_iov = &rx_iov[i];
      rx[i].msg_hdr.msg_iovlen = 1;
    }
    const int n = ::recvmmsg(fd, rx.data(), kBatch, MSG_WAITFORONE, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sent;
    }
    size_t k = 0;
    bool stop = false;
    for (int i = 0; i < n; ++i) {
      if (rx[size_t(i)].msg_len == 0) {
        stop = true;
        continue;
      }
      tx_iov[size_t(i)] = {bufs[size_t(i)].data(), rx[size_t(i)].msg_len};
      for (const sockaddr_in& s : sinks) {
        tx[k].msg_hdr = {};
        tx[k].msg_hdr.msg_name = const_cast<sockaddr_in*>(&s);
        tx[k].msg_hdr.msg_namelen = sizeof s;
        tx[k].msg_hdr.msg_iov = &tx_iov[size_t(i)];
        tx[k].msg_hdr.msg_iovlen = 1;
        ++k;
      }
    }
    for (size_t off = 0; off < k;) {
      const int r = ::sendmmsg(fd, tx.data() + off, unsigned(k - off), 0);
      off += r > 0 ? size_t(r) : 1;  // an error drops that one datagram, like a full buffer
      sent += r > 0 ? uint64_t(r) : 0;
    }
    if (stop) return sent;
  }
}

// Counts datagrams on every sink socket until `stop` and 200 ms of silence.
uint64_t count_at_sinks(const std::vector<int>& fds, const std::atomic<bool>& stop) {
  const int ep = ::epoll_create1(0);
  for (int fd : fds) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
  }
  constexpr size_t kBatch = 64;
  std::vector<std::array<char, 2048>> bufs(kBatch);
  std::array<mmsghdr, kBatch> rx{};
  std::array<iovec, kBatch> iov{};
  uint64_t count = 0;
  auto last = Clock::now();
  std::array<epoll_event, 32> events{};
  while (!stop.load() || Clock::now() - last < std::chrono::milliseconds(200)) {
    const int n = ::epoll_wait(ep, events.data(), int(events.size()), 50);
    for (int e = 0; e < n; ++e) {
      for (;;) {
        for (size_t i = 0; i < kBatch; ++i) {
          iov[i] = {bufs[i].data(), bufs[i].size()};
          rx[i].msg_hdr = {};
          rx[i].msg_hdr.msg_iov = &iov[i];
          rx[i].msg_hdr.msg_iovlen = 1;
        }
        const int got = ::recvmmsg(events[size_t(e)].data.fd, rx.data(), kBatch, MSG_DONTWAIT,
                                   nullptr);
        if (got <= 0) break;
        count += uint64_t(got);
        last = Clock::now();
      }
    }
  }
  ::close(ep);
  return count;
}

Result run_raw(const Options& o, size_t datagram) {
  sockaddr_in relay_addr{}, source_addr{};
  const int relay_fd = udp_socket(relay_addr);
  const int source_fd = udp_socket(source_addr);
  std::vector<int> sink_fds;
  std::vector<sockaddr_in> sinks(size_t(o.fanout));
  for (auto& s : sinks) sink_fds.push_back(udp_socket(s));

  std::atomic<bool> stop{false};
  uint64_t delivered = 0;
  std::thread sink_thread([&] { delivered = count_at_sinks(sink_fds, stop); });
  uint64_t relay_out = 0;
  std::thread relay([&] {
    pthread_setname_np(pthread_self(), "raw-relay");  // perf report --comm raw-relay
    relay_out = raw_relay(relay_fd, sinks);
  });
  const double cpu0 = thread_cpu_seconds(relay.native_handle());

  Result r;
  std::string packet(datagram, 'x');
  const uint64_t total = uint64_t(o.rate * o.seconds);
  const auto start = Clock::now();
  for (; r.sent < total; ++r.sent) {
    pace(start, r.sent, o.rate);
    std::memcpy(packet.data(), &r.sent, sizeof r.sent);
    ::sendto(source_fd, packet.data(), packet.size(), 0,
             reinterpret_cast<const sockaddr*>(&relay_addr), sizeof relay_addr);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the relay drains
  r.relay_cpu_s = thread_cpu_seconds(relay.native_handle()) - cpu0;
  ::sendto(source_fd, "", 0, 0, reinterpret_cast<const sockaddr*>(&relay_addr),
           sizeof relay_addr);
  relay.join();
  stop = true;
  sink_thread.join();
  r.delivered = delivered;
  r.relay_out = relay_out;
  for (int fd : sink_fds) ::close(fd);
  ::close(relay_fd);
  ::close(source_fd);
  return r;
}

// ---- forestcast: the real relay path ----------------------------------------------------------

// The source's policy (bench only): it adopts the relay and refuses everyone else, naming the
// relay as where to go instead (Scribe's push-down), so the relay ends up with every sink.
class RelayOnlyRoot final : public mc::ScribeClient {
 public:
  explicit RelayOnlyRoot(ov::NodeHandle relay) : relay_(relay) {}
  bool admit(Time, mc::TopicState&, const ov::NodeHandle& child, uint32_t) override {
    return child.id == relay_.id;
  }
  uint32_t spare() const override { return 0; }
  std::vector<ov::NodeHandle> refusal_candidates(mc::TopicState&, const ov::NodeId&) override {
    return {relay_};
  }
  bool on_refused(Time, mc::TopicState&, const mc::RefuseBody&) override { return false; }
  bool anycast_accepts(Time, const mc::AnycastBody&) override { return false; }
  void on_anycast_failed(Time, const ov::NodeId&) override {}
  void on_data(Time, mc::TopicState&, const mc::DataBody&) override {}
  void on_root_ack(Time, const ov::NodeHandle&, const mc::RootAckBody&) override {}
  void children_changed(Time, mc::TopicState&) override {}
  void on_tick(Time) override {}

 private:
  ov::NodeHandle relay_;
};

// One node as the daemon assembles it for relaying: runtime, key proofs, Scribe.
struct Node {
  Node(asio::io_context& io, const Options& o, mc::Credentials& credentials) {
    forestcast::node::NodeKey key = forestcast::node::NodeKey::generate();
    net::UdpRuntimeOptions options;
    options.seed = key.node_id().lo();
    // Every node in every leaf set: a sink's JOIN goes straight to the source (which hands it to
    // the relay), never through a sink already attached that would adopt it.
    options.pastry.leaf_set_size = ov::kMaxLeafSetSize;
    // The per-peer limit is 5,000/s by default; a faster bench stream must not hit it.
    options.peer_rate_per_second = std::max<uint64_t>(5000, uint64_t(o.rate * 2));
    options.peer_burst = 2 * options.peer_rate_per_second;
    const ov::NodeId id = key.node_id();
    options.key_proofs = std::make_shared<forestcast::node::Ed25519Proofs>(std::move(key));
    runtime = std::make_unique<net::UdpRuntime>(io, id, options);
    if (runtime->open(ov::Endpoint::ipv4(0x7f000001, 0))) std::abort();
    scribe = std::make_unique<mc::Scribe>(runtime->node(), mc::ScribeConfig{}, credentials);
    runtime->node().register_app(mc::kMulticastAppId, scribe.get());
  }
  ov::NodeHandle handle() const { return runtime->node().self(); }
  template <typename F>
  void call(F&& f) {
    runtime->with_node([&](ov::PastryNode&, Time now) { f(now); });
  }
  std::unique_ptr<net::UdpRuntime> runtime;
  std::unique_ptr<mc::Scribe> scribe;
};

template <typename Pred>
bool poll_until(std::vector<asio::io_context*> ios, Pred done, std::chrono::seconds limit) {
  const auto end = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > end) return false;
    for (auto* io : ios) {
      io->poll();
      io->restart();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

std::shared_ptr<const mc::DataMsg> data_packet(const ov::NodeId& topic, uint64_t seq,
                                               const std::shared_ptr<const std::string>& payload) {
  mc::DataBody b;
  b.topic = topic;
  b.seq = seq;
  b.payload = payload;
  b.payload_size = uint32_t(payload->size());
  return std::make_shared<const mc::DataMsg>(std::move(b));
}

Result run_forestcast(const Options& o) {
  mc::ModelledCredentials credentials;  // CREATE is not used: the source is its tree's root
  // One thread per io_context, as in the daemon (concurrency hint 1).
  asio::io_context io_source(1), io_relay(1), io_sinks(1);
  Node source(io_source, o, credentials);
  Node relay(io_relay, o, credentials);
  std::vector<std::unique_ptr<Node>> sinks;
  for (int i = 0; i < o.fanout; ++i)
    sinks.push_back(std::make_unique<Node>(io_sinks, o, credentials));
  std::vector<asio::io_context*> all{&io_source, &io_relay, &io_sinks};

  // The ring, then the tree: the topic is the source's id, so the source is its root.
  const ov::NodeId topic = source.handle().id;
  RelayOnlyRoot policy(relay.handle());
  source.scribe->set_client(&policy);
  source.runtime->start_ring();
  relay.runtime->join({source.handle().endpoint});
  for (auto& s : sinks) s->runtime->join({source.handle().endpoint});
  auto all_active = [&] {
    if (!source.runtime->node().active() || !relay.runtime->node().active()) return false;
    for (auto& s : sinks)
      if (!s->runtime->node().active()) return false;
    return true;
  };
  if (!poll_until(all, all_active, std::chrono::seconds(30))) {
    std::fprintf(stderr, "ring did not form\n");
    std::exit(1);
  }
  source.call([&](Time now) { source.scribe->add_source(now, topic); });
  relay.call([&](Time now) { relay.scribe->subscribe(now, topic); });
  auto attached = [](Node& n, const ov::NodeId& t) {
    const mc::TopicState* s = n.scribe->topic(t);
    return s != nullptr && s->attached;
  };
  if (!poll_until(all, [&] { return attached(relay, topic); }, std::chrono::seconds(10))) {
    std::fprintf(stderr, "relay not attached\n");
    std::exit(1);
  }
  for (auto& s : sinks) s->call([&](Time now) { s->scribe->subscribe(now, topic); });
  auto tree_formed = [&] {
    const mc::TopicState* t = relay.scribe->topic(topic);
    if (t == nullptr || t->children.size() != size_t(o.fanout)) return false;
    for (auto& s : sinks)
      if (!attached(*s, topic)) return false;
    return true;
  };
  if (!poll_until(all, tree_formed, std::chrono::seconds(20))) {
    std::fprintf(stderr, "the relay did not adopt every sink\n");
    std::exit(1);
  }

  // The stream: each io_context on its own thread; the relay's thread is the one measured.
  auto guard_s = asio::make_work_guard(io_source);
  auto guard_r = asio::make_work_guard(io_relay);
  auto guard_k = asio::make_work_guard(io_sinks);
  const uint64_t out0 = relay.runtime->counters().datagrams_out;  // before its thread runs
  std::thread t_relay([&] {
    pthread_setname_np(pthread_self(), "fc-relay");  // perf report --comm fc-relay
    io_relay.run();
  });
  std::thread t_sinks([&] { io_sinks.run(); });
  const double cpu0 = thread_cpu_seconds(t_relay.native_handle());

  Result r;
  std::atomic<bool> finished{false};
  const auto payload = std::make_shared<const std::string>(o.payload, 'x');
  const uint64_t total = uint64_t(o.rate * o.seconds);
  asio::steady_timer timer(io_source);
  const auto start = Clock::now();
  std::function<void()> publish = [&] {
    const auto elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    const uint64_t due = std::min<uint64_t>(total, uint64_t(elapsed * o.rate) + 1);
    source.call([&](Time now) {
      for (; r.sent < due; ++r.sent)
        source.scribe->publish_local(now, data_packet(topic, r.sent + 1, payload));
    });
    if (r.sent >= total) {
      finished = true;
      return;
    }
    timer.expires_at(start + std::chrono::nanoseconds(int64_t(double(r.sent) * 1e9 / o.rate)));
    timer.async_wait([&](const boost::system::error_code& ec) {
      if (!ec) publish();
    });
  };
  publish();
  std::thread t_source([&] { io_source.run(); });
  while (!finished.load()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the relay drains
  r.relay_cpu_s = thread_cpu_seconds(t_relay.native_handle()) - cpu0;
  io_source.stop();
  io_relay.stop();
  io_sinks.stop();
  t_source.join();
  t_relay.join();
  t_sinks.join();
  for (auto& s : sinks) r.delivered += s->scribe->counters().data_received;
  const auto& wc = relay.runtime->counters();
  r.relay_out = wc.datagrams_out - out0;
  std::fprintf(stderr,
               "forestcast relay: %llu datagrams in (%llu recvmmsg), %llu out (%llu sendmmsg, %llu "
               "encodings), %llu send errors, %llu dropped\n",
               static_cast<unsigned long long>(wc.datagrams_in),
               static_cast<unsigned long long>(wc.receive_batches),
               static_cast<unsigned long long>(wc.datagrams_out),
               static_cast<unsigned long long>(wc.send_batches),
               static_cast<unsigned long long>(wc.send_encodings),
               static_cast<unsigned long long>(wc.send_errors),
               static_cast<unsigned long long>(wc.dropped_total()));
  return r;
}

size_t encoded_datagram_size(const Options& o) {
  const auto payload = std::make_shared<const std::string>(o.payload, 'x');
  const ov::NodeId id = ov::NodeId::from_parts(1, 2);
  return forestcast::wire::encode(id, ov::DirectMsg{data_packet(id, 1'000'000, payload)}).size();
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const double v = std::atof(argv[i + 1]);
    if (flag == "--only") {
      o.raw = std::string(argv[i + 1]) == "raw";
      o.forestcast = !o.raw;
    } else if (flag == "--rate") o.rate = v;
    else if (flag == "--seconds") o.seconds = v;
    else if (flag == "--fanout") o.fanout = int(v);
    else if (flag == "--payload") o.payload = size_t(v);
    else if (flag == "--rounds") o.rounds = int(v);
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  spdlog::set_level(spdlog::level::warn);  // the nodes' join lines are not the bench's output
  forestcast::node::NodeKey::generate();  // OpenSSL initialised before any thread is measured
  const size_t datagram = encoded_datagram_size(o);
  std::printf("rate %.0f pkt/s, %.0f s, fan-out %d, %zu-byte datagrams\n", o.rate, o.seconds,
              o.fanout, datagram);
  std::printf(
      "| round | relay | relay CPU s | sent | copies delivered | lost | us per copy delivered | "
      "us per datagram the relay sent |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|\n");
  double raw_sum = 0, fc_sum = 0;
  for (int round = 1; round <= o.rounds; ++round) {
    const Result raw = o.raw ? run_raw(o, datagram) : Result{};
    const Result fc = o.forestcast ? run_forestcast(o) : Result{};
    for (const auto& [name, res] : {std::pair{"raw", raw}, std::pair{"forestcast", fc}}) {
      if (res.sent == 0) continue;  // not run (--only)
      std::printf("| %d | %s | %.3f | %llu | %llu | %llu | %.2f | %.2f |\n", round, name,
                  res.relay_cpu_s, static_cast<unsigned long long>(res.sent),
                  static_cast<unsigned long long>(res.delivered),
                  static_cast<unsigned long long>(res.lost(o.fanout)), res.us_per_copy(),
                  res.us_per_sent());
    }
    raw_sum += raw.us_per_copy();
    fc_sum += fc.us_per_copy();
  }
  if (raw_sum > 0 && fc_sum > 0)
    std::printf("ratio forestcast/raw (mean over rounds): %.2f\n", fc_sum / raw_sum);
  std::printf(
      "{\"rate\":%.0f,\"seconds\":%.0f,\"fanout\":%d,\"datagram\":%zu,\"raw_us_per_copy\":%.3f,"
      "\"forestcast_us_per_copy\":%.3f,\"ratio\":%.3f}\n",
      o.rate, o.seconds, o.fanout, datagram, raw_sum / o.rounds, fc_sum / o.rounds,
      raw_sum > 0 ? fc_sum / raw_sum : 0.0);
  return 0;
}
