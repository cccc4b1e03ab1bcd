#pragma once
// The stream directory's messages (proto/directory.proto) as the core sees them. Decoding checks
// shapes and sizes only; signatures are checked by StreamDirectory, which counts failures.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "directory/name_record.hpp"
#include "overlay/app_message.hpp"

namespace forestcast::directory {

inline constexpr uint16_t kDirectoryAppId = 3;

enum class DirectoryMsgType : uint16_t {
  kStore = 1,         // routed to the name's key: store and replicate
  kStoreReplica = 2,  // direct, root to replica
  kLookup = 3,        // routed to the name's key: any holder answers
  kLookupReply = 4,   // direct, holder to the asker
};

class DirectoryMessage : public overlay::AppMessage {
 public:
  uint16_t app_id() const override { return kDirectoryAppId; }
  DirectoryMsgType kind() const { return static_cast<DirectoryMsgType>(type()); }
};

class StoreMessage final : public DirectoryMessage {
 public:
  StoreMessage(NameRecord record, bool replica) : record_(std::move(record)), replica_(replica) {}
  uint16_t type() const override {
    return static_cast<uint16_t>(replica_ ? DirectoryMsgType::kStoreReplica
                                          : DirectoryMsgType::kStore);
  }
  void encode(std::string& out) const override;
  const NameRecord& record() const { return record_; }

 private:
  NameRecord record_;
  bool replica_;
};

class LookupMessage final : public DirectoryMessage {
 public:
  LookupMessage(std::string name, uint64_t request_id)
      : name_(std::move(name)), request_id_(request_id) {}
  uint16_t type() const override { return static_cast<uint16_t>(DirectoryMsgType::kLookup); }
  void encode(std::string& out) const override;
  const std::string& name() const { return name_; }
  uint64_t request_id() const { return request_id_; }

 private:
  std::string name_;
  uint64_t request_id_;
};

class LookupReplyMessage final : public DirectoryMessage {
 public:
  LookupReplyMessage(uint64_t request_id, std::optional<NameRecord> record, uint32_t remaining)
      : request_id_(request_id), record_(std::move(record)), remaining_(remaining) {}
  uint16_t type() const override { return static_cast<uint16_t>(DirectoryMsgType::kLookupReply); }
  void encode(std::string& out) const override;
  uint64_t request_id() const { return request_id_; }
  const std::optional<NameRecord>& record() const { return record_; }
  uint32_t remaining() const { return remaining_; }

 private:
  uint64_t request_id_;
  std::optional<NameRecord> record_;
  uint32_t remaining_;
};

// Null when the body does not parse or a field has an impossible shape (key or signature of the
// wrong length, name or SDP too long, an unknown type).
overlay::AppMessagePtr decode_directory_message(uint16_t type, std::string_view body);

}  // namespace forestcast::directory
