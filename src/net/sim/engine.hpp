#pragma once
// Which event loop a simulation runs on (simulator.hpp, SimConfig).
namespace forestcast::sim {

// kSerial: one queue in scheduling order, the engine of every figure before session 8.
// kWindowed: the nodes split into partitions (index modulo `partitions`), each with its own queue
// in (time, node, sender's key) order; windows as long as the topology's least latency run the
// partitions on `threads` threads, and datagrams between partitions wait in per-pair outboxes
// until the next window (windowed_engine.cpp). Its results do not depend on the threads or the
// partitions; they differ from kSerial's only in how same-instant events are ordered.
enum class SimEngine { kSerial, kWindowed };

}  // namespace forestcast::sim
