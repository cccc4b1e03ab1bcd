#pragma once
// The stream scenario's diagnosis of the viewers that miss a continuity target (docs/media.md
// "Peer fetch"): how many of their stripes were cut and for how long, how soon the viewer asked
// a neighbour, how the fetch rounds went (answered or not, how fast) and whether answers came
// after their group's playout. It says which limit dominates, measured in the run itself.
#include <cstdint>
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

  struct Cut {
    unsigned stripe;
    Time start, end;
    Time first_ask;  // kNever: never asked during the cut
  };
  const std::vector<Cut>& cuts() const { return cuts_; }
  uint64_t replayed_late() const { return replayed_late_; }      // after its group's playout
  uint64_t replayed_useful() const { return replayed_useful_; }  // accepted into a group

 private:
  Duration cut_gap_;
  Time from_;
  std::vector<Time> last_live_;
  std::vector<Time> asked_;  // first ask since the stripe's last live packet (kNever: none)
  std::vector<Cut> cuts_;
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
// with the worst `rows` viewers listed.
nlohmann::ordered_json diagnose(std::vector<ViewerDiagnosis> viewers, double threshold,
                                uint64_t requests_empty, size_t rows = 8);

}  // namespace forestcast::sim
