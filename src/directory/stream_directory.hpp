#pragma once
// Streams by name (DESIGN.md §2), a sans-IO application over Pastry. A publisher keeps its
// signed name record stored at key SHA-1(name): routed there, kept by the key's root and
// replicated on the key's replica set, refreshed at a third of its TTL. A viewer resolves
// "NAME" or "NAME@PUBKEYHEX" by routing a lookup toward the same key; the first holder on the
// way answers. Every record is verified (signature, fields) by whoever stores it and again by
// whoever receives it in an answer.
#include <cstdint>
#include <functional>
#include <map>
#include <unordered_map>
#include <vector>

#include "directory/directory_messages.hpp"
#include "directory/name_record.hpp"
#include "overlay/application.hpp"
#include "overlay/overlay.hpp"

namespace forestcast::directory {

struct DirectoryConfig {
  size_t replicas = 4;  // the root plus this many - 1 nearest to the key
  Duration lookup_timeout = seconds(3);
  Duration sweep_period = seconds(5);  // drops expired records
  size_t max_records = 4096;           // stored for others, all names together
  size_t max_per_name = 8;             // publishers claiming one name
  size_t max_pending_lookups = 64;
};

struct DirectoryCounters {
  uint64_t stores_accepted = 0;
  uint64_t stores_refreshed = 0;
  uint64_t rejected_invalid = 0;  // failed check(): bad field or signature
  uint64_t rejected_stale = 0;    // an older version than the one held
  uint64_t rejected_full = 0;     // the store or the name's slots were full
  uint64_t replicas_sent = 0;
  uint64_t lookups_answered = 0;
  uint64_t lookups_not_found = 0;
  uint64_t lookups_timed_out = 0;
  uint64_t replies_invalid = 0;  // answers carrying a record that failed check()
  uint64_t replies_unexpected = 0;
  uint64_t malformed = 0;  // messages of a type this application does not send that way
};

class StreamDirectory final : public overlay::Application {
 public:
  // The records found for a query (verified, matching it), newest version first; empty when
  // nothing answered within the lookup timeout or nothing is known.
  using ResolveCallback = std::function<void(Time now, std::vector<NameRecord> found)>;

  StreamDirectory(overlay::Overlay& overlay, DirectoryConfig config = {});

  // Keeps `record` (signed by its publisher) stored until withdraw(); it is sent now if the
  // overlay is active, else when it becomes active.
  void publish(Time now, NameRecord record);
  void withdraw(const std::string& name);
  // At most max_pending_lookups at once; past that, `done` runs at once with nothing.
  void resolve(Time now, const StreamQuery& query, ResolveCallback done);

  // Every valid record this node knows: published here, stored for others, or resolved.
  std::vector<NameRecord> known() const;
  const DirectoryCounters& counters() const { return counters_; }

  // overlay::Application
  void forward(Time now, overlay::ForwardContext& ctx) override;
  void deliver(Time now, const overlay::RouteInfo& info,
               const overlay::AppMessagePtr& msg) override;
  void receive_direct(Time now, const overlay::NodeHandle& from,
                      const overlay::AppMessagePtr& msg) override;
  void leafset_changed(Time now, const overlay::NodeHandle& node, bool joined) override;
  void became_active(Time now) override;
  void on_timer(Time now, uint64_t token) override;
  overlay::AppMessagePtr decode(uint16_t type, std::string_view body) const override {
    return decode_directory_message(type, body);
  }

 private:
  struct Held {
    NameRecord record;
    Time expires{0};
  };
  struct PendingLookup {
    StreamQuery query;
    ResolveCallback done;
    std::vector<NameRecord> found;
    TimerId timer = 0;
  };
  enum class TimerKind : uint64_t { kSweep = 1, kRefresh = 2, kLookupTimeout = 3 };

  // Verifies and keeps a record for others; false when refused (counted).
  bool store(Time now, const NameRecord& record);
  void replicate(Time now, const NameRecord& record, const overlay::NodeHandle* only_to);
  void answer(Time now, const overlay::NodeHandle& asker, const std::string& name,
              uint64_t request_id);
  std::vector<const NameRecord*> held_for(const std::string& name, Time now) const;
  void on_reply(Time now, const LookupReplyMessage& reply);
  void finish_lookup(Time now, uint64_t request_id);
  void send_published(Time now);
  void remember_resolved(const NameRecord& record);
  TimerId schedule(Time at, TimerKind kind, uint64_t value = 0);

  overlay::Overlay& overlay_;
  DirectoryConfig config_;
  DirectoryCounters counters_;
  std::map<std::string, NameRecord> published_;  // by name: what this node publishes
  std::multimap<std::string, Held> held_;        // stored for others, by name
  std::vector<NameRecord> resolved_;             // answers we accepted, newest per publication
  std::unordered_map<uint64_t, PendingLookup> pending_;
  bool sweeping_ = false;
  bool refreshing_ = false;
};

}  // namespace forestcast::directory
