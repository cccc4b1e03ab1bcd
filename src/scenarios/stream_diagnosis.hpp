#pragma once
// The stream scenario's diagnosis of the viewers that miss a continuity target (docs/media.md
// "Peer fetch"): how many of their stripes were cut and for how long, how soon the viewer asked
// a neighbour, how the fetch rounds went (answered or not, how fast) and whether answers came
// after their group's playout. It says which limit dominates, measured in the run itself.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/time.hpp"
#include "media/group_assembler.hpp"
#include "multicast/peer_fetch.hpp"

namespace forestcast::sim {

// One viewer's stripe cuts and fetch timing, fed by the scenario's tap.
class ViewerTrace {
 public:
  // A stripe is cut when no live (not replayed) packet came for longer than `cut_gap`; only
  // what ends at or after `from` (the measurement window) counts.
  ViewerTrace(unsigned stripes, Duration cut_gap, Time from);

  void on_item(Time now, unsigned stripe, bool replayed, media::ItemVerdict verdict);
  // The stripes the viewer asked a neighbour for at `now`.
  void on_asked(Time now, const std::vector<uint32_t>& stripes);
  void close(Time end);  // ends the cuts still open
  // A group that missed its playout at `now` (released without its packets).
  // `lacking`: per stripe, whether its item of the group had not come.
  void on_missed(Time now, uint64_t group, const std::vector<uint8_t>& lacking);

  struct Cut {
    unsigned stripe;
    Time start, end;
    Time first_ask;  // kNever: never asked during the cut
  };
  const std::vector<Cut>& cuts() const { return cuts_; }
  uint64_t replayed_late() const { return replayed_late_; }      // after its group's playout
  uint64_t replayed_useful() const { return replayed_useful_; }  // accepted into a group
  const std::vector<uint64_t>& missed() const { return missed_; }
  // Per missed group, a bit per stripe that lacked its item (parallel to missed()).
  const std::vector<uint32_t>& missed_stripes() const { return missed_stripes_; }

 private:
  Duration cut_gap_;
  Time from_;
  std::vector<Time> last_live_;
  std::vector<Time> asked_;  // first ask since the stripe's last live packet (kNever: none)
  std::vector<Cut> cuts_;
  std::vector<uint64_t> missed_;  // bounded: kMaxMissed
  std::vector<uint32_t> missed_stripes_;
  uint64_t replayed_late_ = 0, replayed_useful_ = 0;
};

struct ViewerDiagnosis {
  uint32_t node = 0;
  double continuity = 1;
  uint64_t late = 0, lost = 0;
  const ViewerTrace* trace = nullptr;
  multicast::FetchCounters fetch;  // the node's Scribe (requester side)
};

// Summary over the viewers below `threshold` (and the same figures over all, for contrast),
// with the worst `rows` viewers listed, and the viewers below split into classes by what
// limited them ("classes": one entry each with its verdict, "limit").
//  - shared: most of the viewer's missed groups were missed by at least 5 % of all viewers too:
//    the cut sat above them all (a stripe root or the top of its tree), so no peer held the
//    packets and only the publisher's replay to a new root could bring them.
//  - own: the cut was the viewer's; its fetch rounds say why they did not fill it in time.
nlohmann::ordered_json diagnose(std::vector<ViewerDiagnosis> viewers, double threshold,
                                uint64_t requests_empty, size_t rows = 8);
// One line per class of `diagnose`'s result, for the scenario's stderr report.
std::vector<std::string> diagnosis_lines(const nlohmann::ordered_json& diagnosis);

}  // namespace forestcast::sim
