#pragma once
// GET /lookup?key=HEX on the admin API: routes a probe message through the overlay to the key's
// root, which answers directly with the hop count, its route delay and the direct latency back
// (the link emulation's, when on). This is how `bench/real_vs_sim.py` measures hops and rdp on
// real processes. The route delay uses CLOCK_MONOTONIC timestamps, which every process on one
// host shares (a cluster on loopback or in network namespaces); across hosts only the
// round-trip time is meaningful.
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "net/udp/udp_runtime.hpp"
#include "overlay/application.hpp"

namespace forestcast::node {

inline constexpr uint16_t kLookupServiceAppId = 20;

struct LookupResult {
  bool answered = false;  // false: timed out
  overlay::NodeHandle root;
  int hops = 0;
  double route_ms = 0;              // origin's route() to the root's deliver(), same-host clocks
  double round_trip_ms = 0;         // route() to the answer's arrival here
  std::optional<double> direct_ms;  // emulated one-way latency origin -> root, when emulated
};

class LookupService final : public overlay::Application {
 public:
  using Done = std::function<void(const LookupResult&)>;

  LookupService(boost::asio::io_context& io, net::UdpRuntime& runtime);

  // Routes a probe toward `key`; `done` runs once, with the answer or after `timeout`.
  void lookup(const overlay::NodeId& key, Duration timeout, Done done);

  // overlay::Application
  void deliver(Time now, const overlay::RouteInfo& info,
               const overlay::AppMessagePtr& msg) override;
  void receive_direct(Time now, const overlay::NodeHandle& from,
                      const overlay::AppMessagePtr& msg) override;
  overlay::AppMessagePtr decode(uint16_t type, std::string_view body) const override;

 private:
  struct Pending {
    Done done;
    int64_t sent_ns = 0;
    std::unique_ptr<boost::asio::steady_timer> timeout;
  };
  void finish(uint64_t nonce, const LookupResult& result);

  boost::asio::io_context& io_;
  net::UdpRuntime& runtime_;
  uint64_t next_nonce_ = 1;
  std::map<uint64_t, Pending> pending_;
};

}  // namespace forestcast::node
