#include "node/daemon.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <csignal>
#include <random>

#include "net/udp/udp_runtime.hpp"
#include "node/admin_server.hpp"
#include "node/logging.hpp"
#include "node/lookup_service.hpp"
#include "node/media_service.hpp"
#include "node/metrics.hpp"
#include "node/node_key.hpp"
#include "node/status.hpp"
#include "node/status_page.hpp"
#include "node/stream_service.hpp"

namespace forestcast::node {
namespace {

namespace asio = boost::asio;

// Long enough for the Leave datagrams to leave the socket, short enough for a prompt exit.
constexpr auto kLeaveGrace = std::chrono::milliseconds(200);

std::string join_endpoints(const std::vector<overlay::Endpoint>& endpoints) {
  std::string out;
  for (const auto& e : endpoints) out += (out.empty() ? "" : ", ") + e.to_string();
  return out;
}

constexpr auto kLookupTimeout = std::chrono::seconds(5);

nlohmann::json lookup_json(const LookupResult& r) {
  if (!r.answered) return {{"answered", false}};
  nlohmann::json j = {
      {"answered", true}, {"root", r.root.id.hex()}, {"root_addr", r.root.endpoint.to_string()},
      {"hops", r.hops},   {"route_ms", r.route_ms},  {"round_trip_ms", r.round_trip_ms}};
  if (r.direct_ms) j["direct_ms"] = *r.direct_ms;
  return j;
}

void handle_admin(const net::UdpRuntime& rt, const AdminLinks& links, LookupService& lookups,
                  const StreamService* streams, const MediaService* media,
                  std::string_view method, std::string_view target,
                  AdminResponder respond) {
  const std::string_view path = target.substr(0, target.find('?'));
  if (path != "/status" && path != "/metrics" && path != "/" && path != "/lookup" &&
      path != "/streams")
    return respond({404, "text/plain", "not found\n"});
  if (method != "GET") return respond({405, "text/plain", "method not allowed\n"});
  if (path == "/status") {
    nlohmann::json j = status_json(rt, links);
    j["streams"] = streams ? streams->status_json() : nlohmann::json::array();
    if (media) {
      media->annotate_status(j["streams"]);
      j["rtsp"] = media->rtsp_json();
    }
    if (streams) {
      for (const auto& [name, value] : streams->counters()) j["counters"][name] = value;
      for (const auto& [name, value] : streams->gauges()) j[name] = value;
    }
    return respond({200, "application/json", j.dump(2) + "\n"});
  }
  if (path == "/streams")
    return respond({200, "application/json",
                    (streams ? streams->known_json() : nlohmann::json::array()).dump(2) + "\n"});
  if (path == "/")
    return respond({200, "text/html; charset=utf-8", std::string(status_page_html())});
  if (path == "/metrics")
    return respond(
        {200, "text/plain; version=0.0.4; charset=utf-8",
         (streams ? metrics_text(rt, streams->counters(), streams->gauges()) : metrics_text(rt)) +
             (media ? media->metrics_text() : std::string())});
  // /lookup?key=<32 hex digits>
  const auto query = target.find("?key=");
  const auto key = query == std::string_view::npos
                       ? std::nullopt
                       : overlay::NodeId::from_hex(target.substr(query + 5));
  if (!key) return respond({400, "text/plain", "usage: /lookup?key=<32 hex digits>\n"});
  if (!rt.node().active()) return respond({503, "text/plain", "not active in the ring\n"});
  lookups.lookup(*key, kLookupTimeout, [respond](const LookupResult& r) {
    respond({r.answered ? 200u : 504u, "application/json", lookup_json(r).dump() + "\n"});
  });
}

}  // namespace

int run_node(const NodeConfig& config) {
  // 1. Identity: a bad key file stops us before anything listens.
  NodeKey key = NodeKey::load_or_generate(config.key_file);
  const std::string short_id = key.node_id().short_hex();
  setup_logging(config.log_json, config.log_level, config.module_log_levels, short_id);
  spdlog::logger& log = node_log();

  // 2. Sockets: bind both before starting anything, so a busy port is a clean exit 2.
  asio::io_context io(1);
  net::UdpRuntimeOptions options;
  options.pastry.leaf_set_size = config.leaf_set_size;
  options.advertise = config.advertise;
  options.emulation = config.emulation;
  options.test_drop_file = config.test_drop_file;
  // Every node proves the key of its id on first contact and accepts only proven peers.
  options.key_proofs = std::make_shared<Ed25519Proofs>(key);
  // Randomness is chosen here, once; the node id mixes in so two nodes started in the same
  // instant still differ.
  options.seed =
      (uint64_t{std::random_device{}()} << 32 | std::random_device{}()) ^ key.node_id().lo();
  net::UdpRuntime runtime(io, key.node_id(), options);
  if (auto ec = runtime.open(config.bind))
    throw ConfigError("cannot bind UDP " + config.bind.to_string() + ": " + ec.message());

  LookupService lookups(io, runtime);
  runtime.node().register_app(kLookupServiceAppId, &lookups);
  // Streams: every node carries Scribe and the directory (it relays and stores names for
  // others); publishing and viewing are what the flags add.
  StreamService streams(io, runtime, key, config.streams);
  // Media: RTP in at a publisher, playout and RTP out at a viewer (binds --rtp-in now).
  MediaService media(io, config.media, key, streams);
  streams.set_media(&media);
  media.open();

  std::optional<AdminServer> admin;
  AdminLinks links;
  links.peer_port_offset = config.peer_admin_offset;
  if (config.admin) {
    admin.emplace(
        io, [&runtime, &links, &lookups, &streams, &media](
                std::string_view method, std::string_view target, AdminResponder respond) {
          handle_admin(runtime, links, lookups, &streams, &media, method, target,
                       std::move(respond));
        });
    if (auto ec = admin->open(*config.admin))
      throw ConfigError("cannot listen for admin HTTP on " + config.admin->to_string() + ": " +
                        ec.message());
    links.self = admin->local_endpoint();
  }

  // 3. Only now, with everything checked, does a first start write its key file.
  key.save_if_new();

  // 4. Run.
  int exit_code = 0;
  asio::steady_timer stop_timer(io);
  auto stop = [&] {
    runtime.close();
    if (admin) admin->close();
    io.stop();
  };

  asio::signal_set signals(io, SIGINT, SIGTERM);
  bool leaving = false;
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signo) {
        if (ec) return;
        if (leaving) {  // second signal: don't wait any longer
          stop();
          return;
        }
        leaving = true;
        log.info("signal {}: leaving the ring", signo);
        streams.leave();  // children first: they re-attach while Pastry's leave goes out
        runtime.leave();
        stop_timer.expires_after(kLeaveGrace);
        stop_timer.async_wait([&](const boost::system::error_code& tec) {
          if (!tec) stop();
        });
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);

  runtime.set_state_observer([&](overlay::JoinState state) {
    if (state == overlay::JoinState::kActive) {
      log.info("active in the ring ({} leaf set members)",
               runtime.node().leaf_set().members().size());
    } else if (state == overlay::JoinState::kFailed) {
      log.error("cannot join: no answer from bootstrap {}", join_endpoints(config.bootstraps));
      exit_code = 1;
      stop();
    }
  });

  log.info("node {} on udp {}{}", key.node_id().hex(), runtime.local_endpoint().to_string(),
           key.created() ? " (new key " + config.key_file + ")" : "");
  if (admin) {
    admin->start();
    log.info("admin http on {}", admin->local_endpoint().to_string());
  }
  streams.start();
  if (config.bootstraps.empty()) {
    runtime.start_ring();
  } else {
    log.info("joining through {}", join_endpoints(config.bootstraps));
    runtime.join(config.bootstraps);
  }
  io.run();
  log.info("stopped");
  spdlog::default_logger()->flush();
  return exit_code;
}

}  // namespace forestcast::node
