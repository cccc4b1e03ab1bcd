#include "node/metrics.hpp"

#include <cmath>
#include <map>

#include "node/status.hpp"

namespace forestcast::node {
namespace {

// HELP text per counter of counter_list(); escaped for the format by escape_help().
const std::map<std::string, std::string>& counter_help() {
  static const std::map<std::string, std::string> help = {
      {"messages_in", "Pastry messages handed to the core."},
      {"messages_out", "Pastry messages the core sent."},
      {"routed_forwarded", "Routed messages this node forwarded to a next hop."},
      {"routed_delivered", "Routed messages delivered here as the key's root."},
      {"route_retries", "Routed hops retried through another node after a missing ack."},
      {"route_dropped", "Routed messages given up."},
      {"probes_sent", "Liveness and RTT probes sent."},
      {"nodes_declared_dead", "Nodes this node declared dead after unanswered probes."},
      {"leaf_set_repairs", "Leaf set repairs started."},
      {"routing_table_repairs", "Routing table repairs started."},
      {"pongs_unmatched", "Pongs dropped: no probe with that nonce to that address."},
      {"acks_unmatched", "Route acks dropped: no hop with that id sent to that address."},
      {"endpoint_mismatch", "Messages claiming a known node id from another address."},
      {"leaves_checked", "Leave messages answered with one probe before removing the node."},
      {"leaves_ignored", "Leave messages from nodes not held at that address."},
      {"state_unproven", "State transfers from unproven senders, held until they answer a probe."},
      {"replies_deferred", "Replies held until the asker proves its address with a Pong."},
      {"replies_refused", "Replies refused: too many already owed to that unproven node."},
      {"probes_refused", "Probes not sent: the probe table was full."},
      {"route_pending_full", "Routed hops not sent: too many held for acknowledgement."},
      {"departed_probes", "Probes of leaves found dead, looking for the end of a partition."},
      {"departed_returned", "Leaves found dead that answered again (a partition healed)."},
      {"proofs_requested", "Probes that challenged a node to prove the key of its id."},
      {"proofs_made", "Signatures this node made for other nodes' challenges."},
      {"proofs_refused", "Challenges not answered: over the signing rate limit."},
      {"proofs_verified", "Id proofs of other nodes checked and found good."},
      {"proofs_rejected", "Id proofs rejected: wrong key for the id, bad signature or missing."},
      {"unproven_dropped", "Messages dropped: the sender's id is not proven at its address."},
      {"unproven_held", "Messages held until the sender proves the key of its id."},
      {"datagrams_in", "UDP datagrams received."},
      {"datagrams_out", "UDP datagrams sent."},
      {"bytes_in", "UDP payload bytes received."},
      {"bytes_out", "UDP payload bytes sent."},
      {"dropped_rate_limited", "Datagrams dropped by the per-address rate limit."},
      {"dropped_own_id", "Datagrams dropped because they claim this node's id."},
      {"dropped_malformed", "Datagrams dropped as undecodable (sum of the dropped_<reason>)."},
      {"send_oversize", "Messages not sent because they exceed one datagram."},
      {"send_errors", "Sends that failed."},
      {"send_batches", "sendmmsg calls (datagrams_out / send_batches = datagrams per call)."},
      {"send_encodings", "Messages encoded; below datagrams_out when one went to many peers."},
      {"receive_errors", "Receive errors on the UDP socket."},
      {"receive_batches", "recvmmsg calls that returned datagrams."},
      {"dropped_emulated_loss", "Datagrams dropped by the test-only link emulation."},
      {"dropped_test_partition", "Datagrams dropped by the test-only drop rule (a partition)."},
  };
  return help;
}

std::string escape(const std::string& s, bool quote) {
  std::string out;
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (quote && c == '"')
      out += "\\\"";
    else
      out += c;
  }
  return out;
}

std::string format_double(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

}  // namespace

void MetricsWriter::family(const std::string& name, const char* type, const std::string& help) {
  name_ = "forestcast_" + name;
  out_ += "# HELP " + name_ + " " + escape(help, false) + "\n";
  out_ += "# TYPE " + name_ + " " + type + "\n";
}

void MetricsWriter::sample(double value, const MetricLabels& labels) {
  sample_text(format_double(value), labels);
}

void MetricsWriter::sample(uint64_t value, const MetricLabels& labels) {
  sample_text(std::to_string(value), labels);
}

void MetricsWriter::sample_text(const std::string& value, const MetricLabels& labels) {
  out_ += name_;
  if (!labels.empty()) {
    out_ += '{';
    for (size_t i = 0; i < labels.size(); ++i)
      out_ += (i ? "," : "") + labels[i].first + "=\"" + escape(labels[i].second, true) + '"';
    out_ += '}';
  }
  out_ += ' ' + value + '\n';
}

std::string metrics_text(const net::UdpRuntime& rt, const MetricValues& stream_counters,
                         const MetricValues& stream_gauges) {
  const overlay::PastryNode& node = rt.node();
  MetricsWriter w;
  for (const auto& [name, value] : counter_list(rt)) {
    const auto help = counter_help().find(name);
    const std::string reason = name.rfind("dropped_", 0) == 0 ? name.substr(8) : name;
    w.family(name + "_total", "counter",
             help != counter_help().end() ? help->second
                                          : "Datagrams dropped by the decoder as " + reason + ".");
    w.sample(value);
  }
  for (const auto& [name, value] : stream_counters) {
    w.family(name + "_total", "counter",
             "Stream layer (Scribe, SplitStream, directory): " + name + ".");
    w.sample(value);
  }
  for (const auto& [name, value] : stream_gauges) {
    w.family(name, "gauge", "SplitStream: " + name + " (stripe-children, all streams).");
    w.sample(value);
  }
  w.family("leaf_set_size", "gauge", "Nodes in the leaf set (both sides).");
  w.sample(uint64_t{node.leaf_set().members().size()});
  w.family("routing_table_entries", "gauge", "Entries in the routing table.");
  w.sample(uint64_t{node.routing_table().entry_count()});
  w.family("routing_table_rows", "gauge", "Routing table rows allocated.");
  w.sample(static_cast<uint64_t>(node.routing_table().rows_allocated()));
  w.family("neighborhood_set_size", "gauge", "Nodes in the neighbourhood set.");
  w.sample(uint64_t{node.neighborhood_set().size()});
  w.family("active", "gauge", "1 when the node is an active member of the ring.");
  w.sample(uint64_t{node.active() ? 1u : 0u});
  w.family("uptime_seconds", "gauge", "Seconds since the node started.");
  w.sample(static_cast<double>(rt.now().count()) / 1e6);
  w.family("node_info", "gauge", "Constant 1, labelled with the node's id and join state.");
  w.sample(uint64_t{1}, {{"node_id", node.self().id.hex()},
                         {"state", std::string(to_string(node.join_state()))}});
  return w.text();
}

}  // namespace forestcast::node
