#include "scenarios/lookup_app.hpp"

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

void LookupApp::deliver(Time now, const overlay::RouteInfo& info,
                        const overlay::AppMessagePtr& msg) {
  if (msg->type() != LookupMessage::kType) return;
  log_.delivered(static_cast<const LookupMessage&>(*msg).index(), node_, now, info.hops);
}

overlay::AppMessagePtr LookupApp::decode(uint16_t type, std::string_view body) const {
  if (type != LookupMessage::kType || body.size() != 8) return nullptr;
  uint64_t index = 0;
  for (char c : body) index = (index << 8) | static_cast<uint8_t>(c);
  return std::make_shared<LookupMessage>(index);
}

}  // namespace forestcast::sim
