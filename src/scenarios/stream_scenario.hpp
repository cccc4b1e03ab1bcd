#pragma once
// `forestcast sim --scenario stream`: the forest scenario with the media layer on synthetic RTP
// (issue 12 item 7). The publisher runs PublisherPipeline (FEC across the stripes, signed
// groups with the modelled signer), every viewer a ViewerPipeline with its playout buffer, on
// the simulator's clock; the report adds the viewers' continuity, restorations, loss and delay
// measured over the last seconds of the build and the whole kill phase.
#include <nlohmann/json.hpp>

#include "base/time.hpp"
#include "media/fec_scheme.hpp"
#include "scenarios/forest_scenario.hpp"

namespace forestcast::sim {

struct StreamScenarioConfig {
  ForestScenarioConfig forest;
  media::FecScheme fec{14, 2};
  Duration playout = ms(500);
  // Quality is measured from this long before the build ends (the forest has formed) to the
  // end of the run; earlier packets are the forest's start-up, not its steady state.
  Duration measure_before_build_end = seconds(5);
  // Viewers pull what their cut stripes miss from neighbours (docs/media.md "Peer fetch").
  bool peer_fetch = true;
};

struct StreamResult {
  ForestResult forest;
  size_t viewers = 0;  // alive at the end and played out something in the window
  double continuity_mean = 0, continuity_min = 0;
  uint64_t fec_restored = 0;
  uint64_t retransmitted = 0;  // played out in time thanks to a replay (gap repair)
  uint64_t lost = 0;
  uint64_t late = 0;
  double delay_p50_ms = 0, delay_p99_ms = 0;
  // Peer fetch over the whole run, summed over the nodes alive at the end: its traffic cost.
  uint64_t fetch_requests = 0;
  uint64_t fetch_packets_served = 0;
  uint64_t fetch_bytes_served = 0;
  uint64_t fetch_answers_accepted = 0;   // answered packets that filled a hole
  uint64_t fetch_answers_duplicate = 0;  // answered packets the requester had meanwhile
  uint64_t fetch_requests_refused = 0;
  uint64_t live_bytes_received = 0;      // the forest's data bytes (for the fetch share)
  // The viewers below 0.999: their stripe cuts and fetch rounds (stream_diagnosis.hpp).
  nlohmann::ordered_json diagnosis;
};

StreamResult run_stream_scenario(const StreamScenarioConfig& config);
// The forest's report with a "stream" object added.
nlohmann::ordered_json to_json(const StreamResult& result);

}  // namespace forestcast::sim
