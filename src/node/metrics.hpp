#pragma once
// GET /metrics: Prometheus text exposition format 0.0.4. Every family has a HELP and a TYPE line
// and the `forestcast_` prefix; samples may carry labels (stream="...", stripe="..." once
// streams exist), with label values escaped as the format requires.
#include <string>
#include <utility>
#include <vector>

#include "net/udp/udp_runtime.hpp"

namespace forestcast::node {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class MetricsWriter {
 public:
  // Starts a family; `name` without the prefix, `type` counter, gauge or untyped. A family's
  // samples must follow it directly (the format forbids interleaving families).
  void family(const std::string& name, const char* type, const std::string& help);
  void sample(double value, const MetricLabels& labels = {});
  void sample(uint64_t value, const MetricLabels& labels = {});
  const std::string& text() const { return out_; }

 private:
  void sample_text(const std::string& value, const MetricLabels& labels);

  std::string out_;
  std::string name_;
};

// The stream layer's counters and gauges (StreamService), when it runs.
using MetricValues = std::vector<std::pair<std::string, uint64_t>>;
std::string metrics_text(const net::UdpRuntime& runtime, const MetricValues& stream_counters = {},
                         const MetricValues& stream_gauges = {});

}  // namespace forestcast::node
