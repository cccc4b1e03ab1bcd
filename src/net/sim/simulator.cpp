#include "net/sim/simulator.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "net/wire/codec.hpp"

namespace forestcast::sim {

namespace {

constexpr uint32_t kFirstAddress = 0x0A000001;  // 10.0.0.1 is node 0
constexpr uint16_t kPort = 4000;

// Independent streams for independent purposes, so adding a node does not shift loss draws.
uint64_t derive_seed(uint64_t seed, uint64_t stream) {
  Rng rng(seed ^ (0x5bd1e995ULL * (stream + 1)));
  return rng.next();
}

uint64_t mix(uint64_t h, uint64_t v) { return (h ^ v) * 1099511628211ULL; }

}  // namespace

Simulator::Simulator(SimConfig config)
    : config_(config),
      topology_(config.topology),
      loss_rng_(derive_seed(config.seed, 1)),
      position_rng_(derive_seed(config.seed, 2)) {
  if (config_.engine == SimEngine::kWindowed) {
    loss_seed_ = derive_seed(config.seed, 3);
    start_windowed();
  }
}

SimCounters& SimCounters::operator+=(const SimCounters& o) {
  events += o.events;
  messages_sent += o.messages_sent;
  messages_delivered += o.messages_delivered;
  messages_lost += o.messages_lost;
  messages_to_dead += o.messages_to_dead;
  timers_fired += o.timers_fired;
  actions_run += o.actions_run;
  messages_oversize += o.messages_oversize;
  return *this;
}

Endpoint Simulator::endpoint_of(uint32_t index) {
  return Endpoint::ipv4(kFirstAddress + index, kPort);
}

std::optional<uint32_t> Simulator::index_of(const Endpoint& endpoint) {
  if (!endpoint.is_v4() || endpoint.port != kPort) return std::nullopt;
  const uint32_t addr = endpoint.v4();
  // Only 10.0.0.1 upward inside 10/8 belongs to the simulated network.
  if (addr < kFirstAddress || addr >= kFirstAddress + (1u << 24) - 1) return std::nullopt;
  return addr - kFirstAddress;
}

uint32_t Simulator::add_node(const overlay::NodeId& id, uint64_t node_seed) {
  return place_node(topology_.add_random(position_rng_), id, node_seed);
}

uint32_t Simulator::add_node(const overlay::NodeId& id, uint64_t node_seed, Position position) {
  return place_node(topology_.add(position), id, node_seed);
}

uint32_t Simulator::place_node(uint32_t i, const overlay::NodeId& id, uint64_t node_seed) {
  auto& n = nodes_.emplace_back(*this, i);
  n.handle = NodeHandle{id, endpoint_of(i)};
  if (config_.key_proofs) n.env.proofs = config_.key_proofs(n.handle);
  n.pastry = std::make_unique<PastryNode>(n.handle, config_.pastry, n.env, node_seed);
  pastry_.push_back(n.pastry.get());
  alive_.push_back(1);
  ++alive_count_;
  return i;
}

void Simulator::start_ring(uint32_t i) {
  with_node(i, [&](PastryNode& n) { n.start_ring(now_); });
}

void Simulator::join(uint32_t i, std::vector<Endpoint> bootstraps) {
  with_node(i, [&](PastryNode& n) { n.join(now_, std::move(bootstraps)); });
}

void Simulator::route(uint32_t i, const overlay::NodeId& key, overlay::AppMessagePtr msg) {
  with_node(i, [&](PastryNode& n) { n.route(now_, key, std::move(msg)); });
}

void Simulator::kill(uint32_t i) {
  SimNode& n = nodes_[i];
  if (!n.alive) return;
  set_active(i, false);
  n.alive = false;
  alive_[i] = 0;
  n.armed = kNever;  // its queued timer event becomes stale
  --alive_count_;
}

void Simulator::set_active(uint32_t i, bool active) {
  SimNode& n = nodes_[i];
  if (n.active == active) return;
  n.active = active;
  list_active(i, active);
}

void Simulator::list_active(uint32_t i, bool active) {
  SimNode& n = nodes_[i];
  if (active) {
    n.active_pos = static_cast<uint32_t>(active_.size());
    active_.push_back(i);
    oracle_.add(n.handle.id, i);
  } else {
    // Swap-remove keeps this O(1); the order stays a deterministic function of the run.
    const uint32_t last = active_.back();
    active_[n.active_pos] = last;
    nodes_[last].active_pos = n.active_pos;
    active_.pop_back();
    oracle_.remove(n.handle.id);
  }
}

void Simulator::after_call(uint32_t i) {
  if (windowed_) return after_call_windowed(i);
  SimNode& n = nodes_[i];
  if (!n.alive) return;
  Time deadline = n.pastry->next_deadline();
  if (deadline < n.armed) {
    if (deadline < now_) deadline = now_;  // overdue: run it as soon as possible
    queue_.push(deadline, EventKind::kTimer, i, 0);
    n.armed = deadline;
  }
  const bool active = n.pastry->active();
  if (active != n.active) set_active(i, active);
}

std::optional<size_t> Simulator::wire_size(uint32_t from, const overlay::Message& msg,
                                           SimCounters& counters) {
  if (!config_.check_wire_size) return estimated_wire_size(msg);
  const size_t size = wire::encode(nodes_[from].handle.id, msg).size();
  if (size <= overlay::kMaxDatagramBytes) return size;
  ++counters.messages_oversize;
  const auto app = app_id_of(msg);
  spdlog::error(
      "sim: node {} sent a {}-byte message (variant {}, app {}), over the {}-byte "
      "datagram limit: dropped, as UDP would",
      from, size, msg.index(), app ? static_cast<int>(*app) : -1, overlay::kMaxDatagramBytes);
  return std::nullopt;
}

void Simulator::send_from(uint32_t from, const Endpoint& to, const overlay::Message& msg) {
  if (windowed_) return transmit_windowed(from, to, msg);
  if (tamper_) {
    const auto dest = index_of(to);
    if (dest && *dest < nodes_.size())
      if (auto lie = tamper_(from, *dest, msg)) return transmit(from, to, *lie);
  }
  transmit(from, to, msg);
}

void Simulator::transmit(uint32_t from, const Endpoint& to, const overlay::Message& msg) {
  ++counters_.messages_sent;
  const auto bytes = wire_size(from, msg, counters_);
  if (!bytes) return;  // the UDP runtime never sends it either
  TrafficCount& sent = nodes_[from].traffic.count_for(msg);
  ++sent.sent_messages;
  sent.sent_bytes += *bytes;
  const auto dest = index_of(to);
  if (!dest || *dest >= alive_.size() || alive_[*dest] == 0) {
    ++counters_.messages_to_dead;
    return;
  }
  if (config_.loss > 0.0 && loss_rng_.chance(config_.loss)) {
    ++counters_.messages_lost;
    return;
  }
  if (drop_filter_ && drop_filter_(from, *dest, msg)) {
    ++counters_.messages_lost;
    return;
  }
  const Time arrival = now_ + topology_.latency(from, *dest);
  const auto size = static_cast<uint32_t>(*bytes);
  if (const auto* direct = std::get_if<overlay::DirectMsg>(&msg)) {
    queue_.push(arrival, EventKind::kDirect, *dest, directs_.put({from, size, direct->app}));
    return;
  }
  queue_.push(arrival, EventKind::kMessage, *dest, messages_.put(InFlight{from, size, msg}));
}

bool Simulator::deliver(uint32_t to, uint32_t from, uint32_t bytes, const overlay::Message& msg) {
  SimNode& n = nodes_[to];
  if (!n.alive) {  // died while the datagram was in flight
    ++counters_.messages_to_dead;
    return false;
  }
  ++counters_.messages_delivered;
  TrafficCount& received = n.traffic.count_for(msg);
  ++received.received_messages;
  received.received_bytes += bytes;
  n.pastry->on_message(now_, nodes_[from].handle, msg);
  after_call(to);
  return true;
}

void Simulator::schedule(Time t, std::function<void()> action) {
  if (in_window_) throw std::logic_error("Simulator::schedule from inside a window");
  if (t < now_) t = now_;
  queue_.push(t, EventKind::kAction, 0, actions_.put(std::move(action)));
}

bool Simulator::step() {
  if (windowed_) {
    const Time next = std::min(queue_.next_time(), next_node_event());
    if (next == kNever) return false;
    run_until(next);
    return true;
  }
  if (queue_.empty()) return false;
  const Event e = queue_.pop();
  now_ = e.at;
  execute(e);
  return true;
}

void Simulator::prefetch_for(const Event& next) const {
  const auto line = [](const void* p, size_t lines) {
    const char* c = static_cast<const char*>(p);
    for (size_t i = 0; i < lines; ++i) __builtin_prefetch(c + 64 * i);
  };
  switch (next.event_kind()) {
    case EventKind::kAction:
      return;
    case EventKind::kMessage:
      if (const InFlight* in = messages_.address(next.slot)) line(in, 1);
      break;
    case EventKind::kDirect:
      if (const DirectInFlight* in = directs_.address(next.slot)) line(in, 1);
      break;
    case EventKind::kTimer:
      break;
  }
  if (next.target >= pastry_.size()) return;
  line(&nodes_[next.target], 4);
  line(pastry_[next.target], 4);
}

void Simulator::run_until(Time t) {
  if (windowed_) return run_until_windowed(t);
  while (!queue_.empty() && queue_.top().at <= t) {
    const Event e = queue_.pop();
    if (!queue_.empty()) prefetch_for(queue_.top());
    now_ = e.at;
    execute(e);
  }
  if (t > now_) now_ = t;
}

void Simulator::execute(const Event& e) {
  switch (e.event_kind()) {
    case EventKind::kMessage: {
      const InFlight in = messages_.take(e.slot);
      if (!deliver(e.target, in.from, in.bytes, in.msg)) return;
      break;
    }
    case EventKind::kDirect: {
      DirectInFlight in = directs_.take(e.slot);
      // The variant is built on the stack around the moved pointer: no reference-count traffic.
      const overlay::Message msg{overlay::DirectMsg{std::move(in.app)}};
      if (!deliver(e.target, in.from, in.bytes, msg)) return;
      break;
    }
    case EventKind::kTimer: {
      SimNode& n = nodes_[e.target];
      if (!n.alive || n.armed != e.at) return;  // stale: re-armed earlier, or dead
      n.armed = kNever;
      ++counters_.timers_fired;
      n.pastry->on_timer(now_);
      after_call(e.target);
      break;
    }
    case EventKind::kAction:
      return run_action(e);
  }
  ++counters_.events;
  trace_hash_ = mix(mix(trace_hash_, static_cast<uint64_t>(e.at.count())),
                    (static_cast<uint64_t>(e.kind) << 32) | e.target);
}

void Simulator::run_action(const Event& e) {
  std::function<void()> action = actions_.take(e.slot);
  ++counters_.actions_run;
  action();
  ++counters_.events;
  trace_hash_ = mix(mix(trace_hash_, static_cast<uint64_t>(e.at.count())),
                    (static_cast<uint64_t>(e.kind) << 32) | e.target);
}

void Simulator::set_drop_filter(DropFilter filter) {
  if (windowed_ && filter) throw std::logic_error("drop filters need the serial engine");
  drop_filter_ = std::move(filter);
}

void Simulator::set_tamper(Tamper tamper) {
  if (windowed_ && tamper) throw std::logic_error("tampering needs the serial engine");
  tamper_ = std::move(tamper);
}

}  // namespace forestcast::sim
