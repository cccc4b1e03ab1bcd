#pragma once
// Key lookups as an application over Pastry: the origin routes a LookupMessage toward a key and
// the LookupApp at the root records who received it, when, and after how many hops. The record
// lives in a LookupLog owned by the scenario (never in a global), shared by all nodes' apps.
#include <cstdint>
#include <string>
#include <vector>

#include "base/time.hpp"
#include "overlay/app_message.hpp"
#include "overlay/application.hpp"
#include "overlay/node_id.hpp"

namespace forestcast::sim {

inline constexpr uint16_t kLookupAppId = 100;

class LookupMessage final : public overlay::AppMessage {
 public:
  explicit LookupMessage(uint64_t index) : index_(index) {}
  static constexpr uint16_t kType = 1;
  uint16_t app_id() const override { return kLookupAppId; }
  uint16_t type() const override { return kType; }
  void encode(std::string& out) const override;
  uint64_t index() const { return index_; }

 private:
  uint64_t index_;
};

struct LookupRecord {
  Time issued{0};
  uint32_t source = 0;  // node index that called route()
  overlay::NodeId key;
  uint32_t expected = 0;  // the oracle's root (node index) when the lookup was issued
  bool delivered = false;
  uint32_t delivered_by = 0;
  Time delivered_at{0};
  int hops = 0;
  uint32_t deliveries = 0;  // more than 1 means a duplicate delivery
};

class LookupLog {
 public:
  uint64_t add(LookupRecord record) {
    records_.push_back(record);
    return records_.size() - 1;
  }
  // First delivery wins; later ones only count as duplicates.
  void delivered(uint64_t index, uint32_t node, Time at, int hops);
  const std::vector<LookupRecord>& records() const { return records_; }
  const LookupRecord& operator[](uint64_t i) const { return records_[i]; }
  size_t size() const { return records_.size(); }
  uint64_t duplicates() const { return duplicates_; }
  uint64_t unknown() const { return unknown_; }

 private:
  std::vector<LookupRecord> records_;
  uint64_t duplicates_ = 0;
  uint64_t unknown_ = 0;
};

class LookupApp final : public overlay::Application {
 public:
  LookupApp(uint32_t node, LookupLog& log) : node_(node), log_(log) {}
  void deliver(Time now, const overlay::RouteInfo& info,
               const overlay::AppMessagePtr& msg) override;
  overlay::AppMessagePtr decode(uint16_t type, std::string_view body) const override;

 private:
  uint32_t node_;
  LookupLog& log_;
};

}  // namespace forestcast::sim
