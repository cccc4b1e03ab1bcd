#include "scenarios/stream_diagnosis.hpp"

#include <algorithm>
#include <cmath>

namespace forestcast::sim {

ViewerTrace::ViewerTrace(unsigned stripes, Duration cut_gap, Time from)
    : cut_gap_(cut_gap), from_(from), last_live_(stripes, kNever), asked_(stripes, kNever) {}

void ViewerTrace::on_item(Time now, unsigned stripe, bool replayed, media::ItemVerdict verdict) {
  if (stripe >= last_live_.size()) return;
  if (replayed && now >= from_) {
    replayed_late_ += verdict == media::ItemVerdict::kLate ? 1 : 0;
    replayed_useful_ += verdict == media::ItemVerdict::kAccepted ? 1 : 0;
  }
  if (replayed) return;
  const Time last = last_live_[stripe];
  if (last != kNever && now - last > cut_gap_ && now >= from_)
    cuts_.push_back({stripe, last, now, asked_[stripe]});
  last_live_[stripe] = now;
  asked_[stripe] = kNever;
}

void ViewerTrace::on_asked(Time now, const std::vector<uint32_t>& stripes) {
  for (uint32_t s : stripes)
    if (s < asked_.size() && asked_[s] == kNever) asked_[s] = now;
}

void ViewerTrace::close(Time end) {
  for (unsigned s = 0; s < last_live_.size(); ++s) {
    if (last_live_[s] != kNever && end - last_live_[s] > cut_gap_)
      cuts_.push_back({s, last_live_[s], end, asked_[s]});
    last_live_[s] = kNever;
  }
}

namespace {

double ms_of(Duration d) { return static_cast<double>(d.count()) / 1000.0; }

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

double round1(double v) { return std::round(v * 10.0) / 10.0; }

// The most stripes cut at the same moment.
size_t concurrent_max(const std::vector<ViewerTrace::Cut>& cuts) {
  std::vector<std::pair<Time, int>> edges;
  for (const auto& c : cuts) {
    edges.emplace_back(c.start, 1);
    edges.emplace_back(c.end, -1);
  }
  std::sort(edges.begin(), edges.end());  // an end before a start at the same instant
  size_t best = 0;
  long open = 0;
  for (const auto& [t, d] : edges) {
    open += d;
    best = std::max(best, static_cast<size_t>(std::max(0L, open)));
  }
  return best;
}

nlohmann::ordered_json summary(const std::vector<ViewerDiagnosis>& vs) {
  std::vector<double> cut_ms, ask_ms, concurrent;
  uint64_t cuts = 0, never_asked = 0, late = 0, lost = 0, replayed_late = 0, replayed_useful = 0;
  multicast::FetchCounters f;
  for (const auto& v : vs) {
    for (const auto& c : v.trace->cuts()) {
      ++cuts;
      cut_ms.push_back(ms_of(c.end - c.start));
      if (c.first_ask == kNever)
        ++never_asked;
      else
        ask_ms.push_back(ms_of(c.first_ask - c.start));
    }
    concurrent.push_back(static_cast<double>(concurrent_max(v.trace->cuts())));
    late += v.late;
    lost += v.lost;
    replayed_late += v.trace->replayed_late();
    replayed_useful += v.trace->replayed_useful();
    f.requests_sent += v.fetch.requests_sent;
    f.requests_answered += v.fetch.requests_answered;
    f.requests_unanswered += v.fetch.requests_unanswered;
    f.answer_delay_us_sum += v.fetch.answer_delay_us_sum;
    f.answer_delay_us_max = std::max(f.answer_delay_us_max, v.fetch.answer_delay_us_max);
  }
  const double n = vs.empty() ? 1.0 : static_cast<double>(vs.size());
  double concurrent_sum = 0;
  for (double c : concurrent) concurrent_sum += c;
  return {
      {"viewers", vs.size()},
      {"late", late},
      {"lost", lost},
      {"stripe_cuts_per_viewer", round1(static_cast<double>(cuts) / n)},
      {"concurrent_cuts_mean", round1(concurrent_sum / n)},
      {"concurrent_cuts_max", quantile(concurrent, 1.0)},
      {"cut_ms_p50", round1(quantile(cut_ms, 0.5))},
      {"cut_ms_p90", round1(quantile(cut_ms, 0.9))},
      {"cuts_never_asked", never_asked},
      // From the stripe's last live packet to the viewer's first ask for it.
      {"ask_after_ms_p50", round1(quantile(ask_ms, 0.5))},
      {"ask_after_ms_p90", round1(quantile(ask_ms, 0.9))},
      {"fetch_requests", f.requests_sent},
      {"fetch_answered", f.requests_answered},
      {"fetch_unanswered", f.requests_unanswered},
      {"answer_ms_mean", f.requests_answered == 0
                             ? 0.0
                             : round1(static_cast<double>(f.answer_delay_us_sum) /
                                      static_cast<double>(f.requests_answered) / 1000.0)},
      {"answer_ms_max", round1(static_cast<double>(f.answer_delay_us_max) / 1000.0)},
      {"replayed_items_useful", replayed_useful},
      {"replayed_items_after_playout", replayed_late},
  };
}

}  // namespace

nlohmann::ordered_json diagnose(std::vector<ViewerDiagnosis> viewers, double threshold,
                                uint64_t requests_empty, size_t rows) {
  std::sort(viewers.begin(), viewers.end(),
            [](const ViewerDiagnosis& a, const ViewerDiagnosis& b) { return a.continuity < b.continuity; });
  std::vector<ViewerDiagnosis> below;
  for (const auto& v : viewers)
    if (v.continuity < threshold) below.push_back(v);
  nlohmann::ordered_json worst = nlohmann::ordered_json::array();
  for (size_t i = 0; i < std::min(rows, below.size()); ++i) {
    auto j = summary({below[i]});
    j.erase("viewers");
    nlohmann::ordered_json row = {{"node", below[i].node},
                                  {"continuity", std::round(below[i].continuity * 1e4) / 1e4}};
    row.update(j);
    worst.push_back(std::move(row));
  }
  return {
      {"threshold", threshold},
      {"below", summary(below)},
      {"all", summary(viewers)},
      // Requests a peer could not serve at all: it lacked the same packets (cut too).
      {"peer_requests_empty", requests_empty},
      {"worst", std::move(worst)},
  };
}

}  // namespace forestcast::sim
