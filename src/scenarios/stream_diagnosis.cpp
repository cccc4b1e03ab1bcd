#include "scenarios/stream_diagnosis.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

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

void ViewerTrace::on_missed(Time now, uint64_t group, const std::vector<uint8_t>& lacking) {
  constexpr size_t kMaxMissed = 4096;
  if (now < from_ || missed_.size() >= kMaxMissed) return;
  missed_.push_back(group);
  uint32_t mask = 0;
  for (size_t s = 0; s < lacking.size() && s < 32; ++s) mask |= lacking[s] ? 1u << s : 0u;
  missed_stripes_.push_back(mask);
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

// What limited a class of viewers, from its summary: the rule the figures point to.
std::string limit_of(const std::string& cls, const nlohmann::ordered_json& s) {
  if (cls == "shared") return "no peer held the packets: the cut was above >= 5 % of the viewers";
  const double answered = s["fetch_answered"].get<double>();
  const double unanswered = s["fetch_unanswered"].get<double>();
  if (s["cuts_never_asked"].get<uint64_t>() * 2 > s["stripe_cuts_per_viewer"].get<double>() *
                                                       s["viewers"].get<double>())
    return "cuts never asked for";
  if (unanswered > answered) return "unanswered rounds (the asked peers lacked the stripe too)";
  if (s["ask_after_ms_p50"].get<double>() > 200) return "late asks";
  return "answer round trips against the playout deadline";
}

}  // namespace

nlohmann::ordered_json diagnose(std::vector<ViewerDiagnosis> viewers, double threshold,
                                uint64_t requests_empty, size_t rows) {
  std::sort(viewers.begin(), viewers.end(),
            [](const ViewerDiagnosis& a, const ViewerDiagnosis& b) { return a.continuity < b.continuity; });
  std::vector<ViewerDiagnosis> below;
  for (const auto& v : viewers)
    if (v.continuity < threshold) below.push_back(v);
  // How many viewers missed each group: a group most of them missed was cut above them all.
  std::map<uint64_t, size_t> missed_by;
  for (const auto& v : viewers)
    for (uint64_t g : v.trace->missed()) ++missed_by[g];
  const size_t shared_at = std::max<size_t>(2, (viewers.size() + 19) / 20);
  std::vector<ViewerDiagnosis> shared, own;
  // The groups most viewers missed, with how many missed each.
  std::vector<std::pair<size_t, uint64_t>> by_count;
  for (const auto& [g, n] : missed_by)
    if (n >= shared_at) by_count.emplace_back(n, g);
  std::sort(by_count.rbegin(), by_count.rend());
  nlohmann::ordered_json shared_groups = nlohmann::ordered_json::array();
  for (size_t i = 0; i < std::min<size_t>(rows, by_count.size()); ++i) {
    // Per stripe, how many of the viewers that missed the group lacked its item: a stripe
    // every one of them lacked was cut at its root (no peer could hold it).
    std::vector<size_t> lacking(32, 0);
    for (const auto& v : viewers)
      for (size_t m = 0; m < v.trace->missed().size(); ++m)
        if (v.trace->missed()[m] == by_count[i].second)
          for (size_t s = 0; s < 32; ++s) lacking[s] += (v.trace->missed_stripes()[m] >> s) & 1u;
    while (!lacking.empty() && lacking.back() == 0) lacking.pop_back();
    shared_groups.push_back({{"group", by_count[i].second},
                             {"viewers", by_count[i].first},
                             {"lacking_per_stripe", lacking}});
  }
  for (const auto& v : below) {
    size_t s = 0;
    for (uint64_t g : v.trace->missed()) s += missed_by[g] >= shared_at ? 1 : 0;
    (s * 2 > v.trace->missed().size() ? shared : own).push_back(v);
  }
  nlohmann::ordered_json classes = nlohmann::ordered_json::array();
  for (const auto& [name, members] : {std::pair{"shared", &shared}, std::pair{"own", &own}}) {
    if (members->empty()) continue;
    auto s = summary(*members);
    nlohmann::ordered_json c = {{"class", name}, {"limit", limit_of(name, s)}};
    c.update(s);
    classes.push_back(std::move(c));
  }
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
      // Groups that at least 5 % of the viewers missed (cut above them all): how many, and the
      // most missed with how many viewers missed each.
      {"shared_missed_groups", by_count.size()},
      {"most_missed_groups", std::move(shared_groups)},
      {"classes", std::move(classes)},
      {"worst", std::move(worst)},
  };
}

std::vector<std::string> diagnosis_lines(const nlohmann::ordered_json& d) {
  std::vector<std::string> out;
  if (!d.contains("classes")) return out;
  for (const auto& c : d["classes"]) {
    char line[512];
    std::snprintf(line, sizeof line,
                  "stream diagnosis: %s: %zu viewers < %.3f, late %llu, lost %llu, %.1f stripes cut "
                  "at once (max %.0f) for %.0f/%.0f ms (p50/p90), first ask %.0f ms after the cut "
                  "(p50), rounds %llu answered / %llu unanswered in %.0f ms, %llu answers after "
                  "playout -> limit: %s",
                  c["class"].get<std::string>().c_str(), c["viewers"].get<size_t>(),
                  d["threshold"].get<double>(), c["late"].get<unsigned long long>(),
                  c["lost"].get<unsigned long long>(), c["concurrent_cuts_mean"].get<double>(),
                  c["concurrent_cuts_max"].get<double>(), c["cut_ms_p50"].get<double>(),
                  c["cut_ms_p90"].get<double>(), c["ask_after_ms_p50"].get<double>(),
                  c["fetch_answered"].get<unsigned long long>(),
                  c["fetch_unanswered"].get<unsigned long long>(), c["answer_ms_mean"].get<double>(),
                  c["replayed_items_after_playout"].get<unsigned long long>(),
                  c["limit"].get<std::string>().c_str());
    out.emplace_back(line);
  }
  if (out.empty()) out.emplace_back("stream diagnosis: every viewer at or above the threshold");
  return out;
}

}  // namespace forestcast::sim
