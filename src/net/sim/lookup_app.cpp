#include "net/sim/lookup_app.hpp"

#include "net/sim/simulator.hpp"

namespace forestcast::sim {

void LookupMessage::encode(std::string& out) const {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(index_ >> shift));
}

void LookupLog::delivered(uint64_t index, uint32_t node, Time at, int hops) {
  if (index >= records_.size()) {
    ++unknown_;
    return;
  }
  LookupRecord& r = records_[index];
  if (r.deliveries++ > 0) {
    ++duplicates_;
    return;
  }
  r.delivered = true;
  r.delivered_by = node;
  r.delivered_at = at;
  r.hops = hops;
}

void LookupApp::deliver(const overlay::RouteInfo& info, const overlay::AppMessagePtr& msg) {
  const auto* lookup = dynamic_cast<const LookupMessage*>(msg.get());
  if (lookup == nullptr) return;
  log_.delivered(lookup->index(), node_, sim_.now(), info.hops);
}

overlay::AppMessagePtr LookupApp::decode(std::string_view body) const {
  if (body.size() != 8) return nullptr;
  uint64_t index = 0;
  for (char c : body) index = (index << 8) | static_cast<uint8_t>(c);
  return std::make_shared<LookupMessage>(index);
}

}  // namespace forestcast::sim
