// Node identity: the key file is created once (0600), reused after, and every bad file gives a
// clear error instead of silently minting a new identity.
#include "node/node_key.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace forestcast::node {
namespace {

namespace fs = std::filesystem;

class NodeKeyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("forestcast_key_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const char* name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

TEST_F(NodeKeyTest, CreatesOnceAndReusesSameId) {
  const std::string p = path("node.key");
  NodeKey first = NodeKey::load_or_create(p);
  EXPECT_TRUE(first.created());
  struct stat st {};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  NodeKey again = NodeKey::load_or_create(p);
  EXPECT_FALSE(again.created());
  EXPECT_EQ(again.node_id(), first.node_id());
  EXPECT_EQ(again.public_key(), first.public_key());
  EXPECT_EQ(NodeKey::load(p).node_id(), first.node_id());
}

TEST_F(NodeKeyTest, IdIsSha1OfPublicKey) {
  NodeKey k = NodeKey::generate();
  EXPECT_EQ(k.node_id(), overlay::NodeId::sha1_of(std::span<const uint8_t>(k.public_key())));
  EXPECT_NE(NodeKey::generate().node_id(), k.node_id());
}

TEST_F(NodeKeyTest, CorruptFileIsAnError) {
  const std::string p = path("corrupt.key");
  std::ofstream(p) << "-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----\n";
  try {
    NodeKey::load_or_create(p);
    FAIL() << "corrupt key accepted";
  } catch (const NodeKeyError& e) {
    EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
  // The bad file is left alone: never replace someone's identity behind their back.
  std::ifstream in(p);
  std::string first_line;
  std::getline(in, first_line);
  EXPECT_EQ(first_line, "-----BEGIN PRIVATE KEY-----");
}

TEST_F(NodeKeyTest, EmptyFileIsAnError) {
  const std::string p = path("empty.key");
  std::ofstream{p};
  EXPECT_THROW(NodeKey::load_or_create(p), NodeKeyError);
}

TEST_F(NodeKeyTest, DirectoryIsAnError) {
  EXPECT_THROW(NodeKey::load_or_create(dir_.string()), NodeKeyError);
}

TEST_F(NodeKeyTest, UncreatablePathIsAnError) {
  EXPECT_THROW(NodeKey::load_or_create(path("missing-dir/node.key")), NodeKeyError);
}

TEST_F(NodeKeyTest, UnreadableFileIsAnError) {
  const std::string p = path("locked.key");
  NodeKey::load_or_create(p);
  ::chmod(p.c_str(), 0);
  if (::geteuid() == 0) GTEST_SKIP() << "root reads any file";
  EXPECT_THROW(NodeKey::load_or_create(p), NodeKeyError);
}

TEST_F(NodeKeyTest, MissingFileForLoadIsAnError) {
  EXPECT_THROW(NodeKey::load(path("nope.key")), NodeKeyError);
}

TEST_F(NodeKeyTest, GenerateWritesOnlyWhenSaved) {
  const std::string p = path("later.key");
  NodeKey k = NodeKey::load_or_generate(p);
  EXPECT_FALSE(fs::exists(p)) << "nothing written before save_if_new()";
  k.save_if_new();
  EXPECT_TRUE(k.created());
  EXPECT_EQ(NodeKey::load(p).node_id(), k.node_id());
  k.save_if_new();  // idempotent
  EXPECT_EQ(NodeKey::load_or_generate(p).node_id(), k.node_id());
}

TEST_F(NodeKeyTest, SaveRefusesToOverwrite) {
  const std::string p = path("race.key");
  NodeKey mine = NodeKey::load_or_generate(p);
  NodeKey theirs = NodeKey::load_or_create(p);  // someone else got there first
  EXPECT_THROW(mine.save_if_new(), NodeKeyError);
  EXPECT_EQ(NodeKey::load(p).node_id(), theirs.node_id());
}

TEST_F(NodeKeyTest, SignAndVerify) {
  NodeKey k = NodeKey::generate();
  auto sig = k.sign("stream record");
  EXPECT_TRUE(NodeKey::verify(k.public_key(), "stream record", sig));
  EXPECT_FALSE(NodeKey::verify(k.public_key(), "stream recorD", sig));
  sig[0] ^= 1;
  EXPECT_FALSE(NodeKey::verify(k.public_key(), "stream record", sig));
}

}  // namespace
}  // namespace forestcast::node
