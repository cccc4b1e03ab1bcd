// The windowed engine (SimEngine::kWindowed): conservative parallel discrete-event simulation.
//
// Nodes belong to partitions by index modulo the partition count. No datagram arrives sooner
// than the topology's least latency (the lookahead), so in a window [t, t + lookahead) no
// partition can receive anything another partition sends in it: the partitions run the window
// independently, on as many threads as there are, and datagrams between partitions wait in
// per-(source, destination) outboxes that the destination drains at the start of the next
// window. Scripted actions (joins, the publisher's sends, subscriptions) may touch any node, so
// they run alone between windows, before the node events of their instant.
//
// Determinism: a partition's queue orders its events by (time, node, key), the key of a datagram
// being its sender's index and the sender's own send counter, and of a timer a constant. Each
// node therefore sees its events in an order fixed by the run alone, whatever the threads or
// the partitions. What a window writes outside its nodes (counters, the active list and the
// oracle) is kept per partition and merged at the barrier in node order.
#include <spdlog/spdlog.h>
#include <time.h>

#include <algorithm>
#include <barrier>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "net/sim/simulator.hpp"

namespace forestcast::sim {

namespace {

uint64_t mix(uint64_t h, uint64_t v) { return (h ^ v) * 1099511628211ULL; }

// A node's timer sorts after its datagrams of the same instant; a datagram's key is below it
// since sender indices stay under 2^24.
constexpr uint64_t kTimerKey = ~uint64_t{0};
constexpr unsigned kCounterBits = 40;

uint64_t message_key(uint32_t from, uint64_t sent) {
  return (uint64_t{from} << kCounterBits) | (sent & ((uint64_t{1} << kCounterBits) - 1));
}

// The loss draw of one datagram, from its key alone: no generator shared between threads.
double loss_draw(uint64_t seed, uint64_t key) {
  uint64_t z = seed ^ (key * 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

// Threads 1.. wait at a barrier for each window; the caller is thread 0. Thread k runs
// partitions k, k + threads, ...
class Simulator::WindowThreads {
 public:
  WindowThreads(Simulator& sim, unsigned threads)
      : sim_(sim), count_(threads), start_(threads), done_(threads) {
    for (unsigned k = 1; k < threads; ++k) workers_.emplace_back([this, k] { loop(k); });
  }
  ~WindowThreads() {
    stop_ = true;  // published by the barrier
    start_.arrive_and_wait();
    for (std::thread& w : workers_) w.join();
  }
  WindowThreads(const WindowThreads&) = delete;
  WindowThreads& operator=(const WindowThreads&) = delete;

  void run(Time end) {
    end_ = end;
    start_.arrive_and_wait();
    work(0);
    done_.arrive_and_wait();
  }

 private:
  void loop(unsigned k) {
    while (true) {
      start_.arrive_and_wait();
      if (stop_) return;
      work(k);
      done_.arrive_and_wait();
    }
  }
  void work(unsigned k) {
    for (size_t p = k; p < sim_.parts_.size(); p += count_) {
      sim_.run_partition(static_cast<uint32_t>(p), end_);
      sim_.window_stats_.thread_cpu_s[k] += sim_.parts_[p]->cpu_s;
    }
  }

  Simulator& sim_;
  unsigned count_;
  std::barrier<> start_, done_;
  std::vector<std::thread> workers_;
  Time end_{0};
  bool stop_ = false;
};

Simulator::~Simulator() = default;

void Simulator::WindowThreadsDeleter::operator()(WindowThreads* threads) const { delete threads; }

void Simulator::start_windowed() {
  windowed_ = true;
  lookahead_ = topology_.min_latency();
  if (lookahead_ <= Duration{0})
    throw std::invalid_argument("the windowed engine needs a topology with a positive latency");
  const unsigned partitions = std::max(1u, config_.partitions);
  const unsigned threads = std::clamp(config_.threads, 1u, partitions);
  for (unsigned p = 0; p < partitions; ++p) {
    auto part = std::make_unique<Partition>();
    for (auto& box : part->out_messages) box.resize(partitions);
    for (auto& box : part->out_directs) box.resize(partitions);
    parts_.push_back(std::move(part));
  }
  window_stats_.thread_cpu_s.assign(threads, 0.0);
  if (threads > 1) threads_.reset(new WindowThreads(*this, threads));
}

uint64_t Simulator::trace_hash() const {
  if (!windowed_) return trace_hash_;
  uint64_t h = trace_hash_;
  for (const SimNode& n : nodes_) h = mix(h, n.trace);
  return h;
}

size_t Simulator::pending_events() const {
  size_t n = queue_.size();
  for (const auto& part : parts_) {
    n += part->queue.size();
    for (const auto& boxes : part->out_messages)
      for (const auto& box : boxes) n += box.size();
    for (const auto& boxes : part->out_directs)
      for (const auto& box : boxes) n += box.size();
  }
  return n;
}

Time Simulator::next_node_event() const {
  Time next = kNever;
  for (const auto& part : parts_) next = std::min({next, part->queue.next_time(), part->out_min});
  return next;
}

void Simulator::transmit_windowed(uint32_t from, const Endpoint& to,
                                  const overlay::Message& msg) {
  const uint32_t pf = partition_of(from);
  Partition& part = *parts_[pf];
  // Between windows (scripted actions) the caller is alone and writes the totals directly.
  SimCounters& counters = in_window_ ? part.counters : counters_;
  const Time now = in_window_ ? part.now : now_;
  ++counters.messages_sent;
  const auto bytes = wire_size(from, msg, counters);
  if (!bytes) return;
  SimNode& sender = nodes_[from];
  TrafficCount& sent = sender.traffic.count_for(msg);
  ++sent.sent_messages;
  sent.sent_bytes += *bytes;
  const uint64_t key = message_key(from, sender.sent++);
  const auto dest = index_of(to);
  if (!dest || *dest >= alive_.size() || alive_[*dest] == 0) {
    ++counters.messages_to_dead;
    return;
  }
  if (config_.loss > 0.0 && loss_draw(loss_seed_, key) < config_.loss) {
    ++counters.messages_lost;
    return;
  }
  const Duration latency = topology_.latency(from, *dest);
  if (latency < lookahead_) {  // the topology broke its own floor: the windows would be wrong
    spdlog::critical("sim: latency {} us between {} and {} is below the lookahead {} us",
                     latency.count(), from, *dest, lookahead_.count());
    std::abort();
  }
  const Time arrival = now + latency;
  const auto size = static_cast<uint32_t>(*bytes);
  const uint32_t pd = partition_of(*dest);
  const auto* direct = std::get_if<overlay::DirectMsg>(&msg);
  if (!in_window_ || pd == pf) {  // the destination's queue is ours to write
    Partition& dst = *parts_[pd];
    if (direct != nullptr)
      dst.queue.push_keyed(arrival, EventKind::kDirect, *dest,
                           dst.directs.put({from, size, direct->app}), key);
    else
      dst.queue.push_keyed(arrival, EventKind::kMessage, *dest,
                           dst.messages.put(InFlight{from, size, msg}), key);
    return;
  }
  part.out_min = std::min(part.out_min, arrival);
  if (direct != nullptr)
    part.out_directs[window_parity_][pd].push_back({arrival, *dest, key, {from, size, direct->app}});
  else
    part.out_messages[window_parity_][pd].push_back({arrival, *dest, key, {from, size, msg}});
}

void Simulator::after_call_windowed(uint32_t i) {
  SimNode& n = nodes_[i];
  if (!n.alive) return;
  Partition& part = *parts_[partition_of(i)];
  const Time now = in_window_ ? part.now : now_;
  Time deadline = n.pastry->next_deadline();
  if (deadline < n.armed) {
    if (deadline < now) deadline = now;  // overdue: run it as soon as possible
    part.queue.push_keyed(deadline, EventKind::kTimer, i, 0, kTimerKey);
    n.armed = deadline;
  }
  const bool active = n.pastry->active();
  if (active == n.active) return;
  if (!in_window_) return set_active(i, active);
  n.active = active;
  part.active_changes.emplace_back(i, active);
}

void Simulator::run_until_windowed(Time t) {
  while (true) {
    const Time node_next = next_node_event();
    const Time action_next = queue_.next_time();
    const Time next = std::min(node_next, action_next);
    if (next == kNever || next > t) break;
    if (action_next <= node_next) {
      const Event e = queue_.pop();
      now_ = e.at;
      run_action(e);
      continue;
    }
    run_window(std::min({node_next + lookahead_, action_next, t + Duration{1}}));
  }
  if (t > now_) now_ = t;
}

void Simulator::run_window(Time end) {
  in_window_ = true;
  window_parity_ ^= 1;
  if (threads_) {
    threads_->run(end);
  } else {
    for (uint32_t p = 0; p < parts_.size(); ++p) {
      run_partition(p, end);
      window_stats_.thread_cpu_s[0] += parts_[p]->cpu_s;
    }
  }
  in_window_ = false;

  // The barrier: totals, then the active list and the oracle in node order (each node's own
  // changes stay in their order: they all come from its one partition).
  std::vector<std::pair<uint32_t, bool>> changes;
  double busiest = 0;
  for (auto& part : parts_) {
    counters_ += part->counters;
    part->counters = SimCounters{};
    now_ = std::max(now_, part->now);
    busiest = std::max(busiest, part->cpu_s);
    window_stats_.partition_cpu_s += part->cpu_s;
    changes.insert(changes.end(), part->active_changes.begin(), part->active_changes.end());
    part->active_changes.clear();
  }
  ++window_stats_.windows;
  window_stats_.busiest_cpu_s += busiest;
  std::stable_sort(changes.begin(), changes.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [i, active] : changes) list_active(i, active);
}

void Simulator::run_partition(uint32_t p, Time end) {
  const double cpu_start = thread_cpu_s();
  Partition& part = *parts_[p];
  // What the other partitions sent us in the previous window.
  const uint32_t inbox = window_parity_ ^ 1;
  for (auto& source : parts_) {
    for (OutMessage& m : source->out_messages[inbox][p])
      part.queue.push_keyed(m.at, EventKind::kMessage, m.to, part.messages.put(std::move(m.in)),
                            m.key);
    source->out_messages[inbox][p].clear();
    for (OutDirect& m : source->out_directs[inbox][p])
      part.queue.push_keyed(m.at, EventKind::kDirect, m.to, part.directs.put(std::move(m.in)),
                            m.key);
    source->out_directs[inbox][p].clear();
  }
  part.out_min = kNever;
  while (!part.queue.empty() && part.queue.top().at < end) {
    const Event e = part.queue.pop();
    if (!part.queue.empty()) prefetch_windowed(part, part.queue.top());
    part.now = e.at;
    execute_windowed(part, e);
  }
  part.cpu_s = thread_cpu_s() - cpu_start;
}

void Simulator::prefetch_windowed(const Partition& part, const Event& next) const {
  const auto line = [](const void* p, size_t lines) {
    const char* c = static_cast<const char*>(p);
    for (size_t i = 0; i < lines; ++i) __builtin_prefetch(c + 64 * i);
  };
  if (next.event_kind() == EventKind::kMessage) {
    if (const InFlight* in = part.messages.address(next.slot)) line(in, 1);
  } else if (next.event_kind() == EventKind::kDirect) {
    if (const DirectInFlight* in = part.directs.address(next.slot)) line(in, 1);
  }
  if (next.target >= pastry_.size()) return;
  line(&nodes_[next.target], 4);
  line(pastry_[next.target], 4);
}

void Simulator::execute_windowed(Partition& part, const Event& e) {
  switch (e.event_kind()) {
    case EventKind::kMessage: {
      const InFlight in = part.messages.take(e.slot);
      if (!deliver_windowed(part, e.target, in.from, in.bytes, in.msg)) return;
      break;
    }
    case EventKind::kDirect: {
      DirectInFlight in = part.directs.take(e.slot);
      const overlay::Message msg{overlay::DirectMsg{std::move(in.app)}};
      if (!deliver_windowed(part, e.target, in.from, in.bytes, msg)) return;
      break;
    }
    case EventKind::kTimer: {
      SimNode& n = nodes_[e.target];
      if (!n.alive || n.armed != e.at) return;  // stale: re-armed earlier, or dead
      n.armed = kNever;
      ++part.counters.timers_fired;
      n.pastry->on_timer(part.now);
      after_call_windowed(e.target);
      break;
    }
    case EventKind::kAction:  // actions live in the serial queue only
      std::abort();
  }
  ++part.counters.events;
  SimNode& n = nodes_[e.target];
  n.trace = mix(mix(mix(n.trace, static_cast<uint64_t>(e.at.count())),
                    (static_cast<uint64_t>(e.kind) << 32) | e.target),
                e.seq);
}

bool Simulator::deliver_windowed(Partition& part, uint32_t to, uint32_t from, uint32_t bytes,
                                 const overlay::Message& msg) {
  SimNode& n = nodes_[to];
  if (!n.alive) {  // died while the datagram was in flight
    ++part.counters.messages_to_dead;
    return false;
  }
  ++part.counters.messages_delivered;
  TrafficCount& received = n.traffic.count_for(msg);
  ++received.received_messages;
  received.received_bytes += bytes;
  n.pastry->on_message(part.now, nodes_[from].handle, msg);
  after_call_windowed(to);
  return true;
}

}  // namespace forestcast::sim
