#include "node/media_service.hpp"

#include <map>

#include "base/log.hpp"
#include "node/metrics.hpp"

namespace forestcast::node {
namespace {

spdlog::logger& log() {
  static const std::shared_ptr<spdlog::logger> logger = module_logger("media");
  return *logger;
}

}  // namespace

MediaService::MediaService(boost::asio::io_context& io, MediaConfig config, const NodeKey& key,
                           StreamService& streams)
    : io_(io), config_(std::move(config)), clock_domain_(media_clock_domain()) {
  if (config_.ingest) ingest_.emplace(io_, *config_.ingest, key, clock_domain_, streams);
  if (config_.rtsp) rtsp_.emplace(io_, *config_.rtsp);
}

MediaService::~MediaService() = default;

void MediaService::open() {
  if (ingest_) ingest_->open();
  if (rtsp_) rtsp_->open();
}

nlohmann::json MediaService::rtsp_json() const {
  return rtsp_ ? rtsp_->status_json() : nlohmann::json(nullptr);
}

// A node without --rtp-in publishes a synthetic stream: nothing to wait for.
bool MediaService::ready_to_publish() { return !ingest_ || ingest_->ready(); }

void MediaService::describe(directory::NameRecord& record) const {
  if (ingest_) ingest_->describe(record);
}

void MediaService::on_published(const overlay::NodeId& group) {
  if (ingest_) ingest_->start(group);
}

multicast::PacketSink* MediaService::on_resolved(size_t index,
                                                 const directory::NameRecord& record) {
  if (viewers_.size() <= index) viewers_.resize(index + 1);
  if (record.sdp.empty()) {
    if (config_.viewer.rtp_out)
      log().error("'{}' is a synthetic stream (no SDP in its record): nothing to send to {}",
                  record.name, config_.viewer.rtp_out->to_string());
    return nullptr;
  }
  // Only the first (and, with --rtp-out, only) view plays out to the player.
  MediaViewerConfig vc = config_.viewer;
  if (index != 0) vc.rtp_out.reset(), vc.sdp_out.reset();
  try {
    viewers_[index] = std::make_unique<MediaViewer>(io_, record, vc, clock_domain_,
                                                    rtsp_ ? &*rtsp_ : nullptr);
  } catch (const std::exception& e) {
    log().error("cannot play '{}': {}", record.name, e.what());
    return nullptr;
  }
  return viewers_[index].get();
}

void MediaService::annotate_status(nlohmann::json& streams) const {
  size_t view = 0;
  for (auto& s : streams) {
    const std::string role = s.value("role", "");
    if (role == "publisher" && ingest_) s["media"] = ingest_->status_json();
    if (role != "viewer") continue;
    if (view < viewers_.size() && viewers_[view]) s["media"] = viewers_[view]->status_json();
    ++view;
  }
}

std::string MediaService::metrics_text() const {
  // Prometheus wants each family once: gather every stream's sample under its family.
  std::vector<std::string> order;
  std::map<std::string, std::pair<MediaMetric, std::vector<std::pair<std::string, double>>>> fams;
  auto add = [&](const std::string& stream, const std::vector<MediaMetric>& ms) {
    for (const auto& m : ms) {
      auto [it, fresh] = fams.try_emplace(m.name, m, std::vector<std::pair<std::string, double>>{});
      if (fresh) order.push_back(m.name);
      it->second.second.emplace_back(stream, m.value);
    }
  };
  if (ingest_) add(ingest_->name(), ingest_->metrics());
  for (const auto& v : viewers_)
    if (v) add(v->name(), v->metrics());
  MetricsWriter w;
  for (const auto& name : order) {
    const auto& [m, samples] = fams.at(name);
    w.family(m.name, m.type, m.help);
    for (const auto& [stream, value] : samples) w.sample(value, {{"stream", stream}});
  }
  return w.text();
}

}  // namespace forestcast::node
