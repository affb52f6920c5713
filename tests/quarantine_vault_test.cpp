// The quarantine vault as a library: move in, restore exactly, refuse unsafe restores and swapped files, and turn
// damaged databases, keys and vault files into clear errors.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

#include "common/hash.hpp"
#include "support/files.hpp"
#include "quarantine/internal.hpp"
#include "quarantine/quarantine.hpp"

namespace fs = std::filesystem;
namespace q = mamori::quarantine;

namespace {

using mamori::test::random_bytes;
using mamori::test::slurp;

std::string sha(const std::string& s) { return mamori::sha256_hex(mamori::ByteView(s.data(), s.size())); }

class QuarantineVault : public ::testing::Test {
 protected:
  void SetUp() override {
    root = mamori::test::fresh_test_dir("mamori-qv");
    fs::create_directories(root / "data");
    vault_dir = root / "vault";
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(root, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(root, ec);
  }
  fs::path write(const std::string& rel, const std::string& content) {
    return mamori::test::write_file(root / "data" / rel, content);
  }
  std::unique_ptr<q::Vault> open() {
    auto v = q::Vault::open(vault_dir.string());
    EXPECT_TRUE(v.ok()) << (v.ok() ? "" : v.error().message);
    return v.ok() ? std::move(v).value() : nullptr;
  }
  static q::Detection det(const std::string& content) {
    q::Detection d;
    d.verdict = "malicious";
    d.signature = "Mamori.Test.Malicious";
    d.reasons = {"imports.api_injection=3 (+0.8)"};
    d.sha256 = sha(content);
    d.size = content.size();
    return d;
  }
  std::size_t vault_files() const {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(vault_dir / "files")) n += e.is_regular_file() ? 1 : 0;
    return n;
  }
  fs::path root, vault_dir;
};

TEST_F(QuarantineVault, MovesNeuteredAndRecordsMetadata) {
  const std::string content = "MZ" + random_bytes(100000, 1);
  const auto p = write("evil.exe", content);
  ::chmod(p.c_str(), 0755);
  auto v = open();
  ASSERT_TRUE(v);
  auto r = v->quarantine(p.string(), det(content));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(fs::exists(p));
  const fs::path vf = r->vault_file;
  ASSERT_TRUE(fs::exists(vf));
  // Neutered: not executable, private, no extension, and none of the original bytes in clear.
  struct stat st{};
  ASSERT_EQ(::stat(vf.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(vf.extension(), "");
  const std::string stored = slurp(vf);
  EXPECT_EQ(stored.size(), content.size() + q::detail::kHeaderSize);
  EXPECT_EQ(stored.find(content.substr(0, 64)), std::string::npos);
  EXPECT_NE(stored.substr(q::detail::kHeaderSize, 2), "MZ");
  ASSERT_EQ(::stat(vault_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  auto e = v->get(r->entry.id);
  ASSERT_TRUE(e.ok() && *e);
  EXPECT_EQ((*e)->state, q::State::quarantined);
  EXPECT_EQ((*e)->original_path, fs::canonical(p.parent_path()).string() + "/evil.exe");
  EXPECT_EQ((*e)->sha256, sha(content));
  EXPECT_EQ((*e)->size, content.size());
  EXPECT_EQ((*e)->mode, 0755u);
  EXPECT_EQ((*e)->uid, ::getuid());
  EXPECT_EQ((*e)->signature, "Mamori.Test.Malicious");
  EXPECT_EQ((*e)->reasons, std::vector<std::string>{"imports.api_injection=3 (+0.8)"});
  EXPECT_NE((*e)->quarantined_by.find("uid " + std::to_string(::getuid())), std::string::npos);
  EXPECT_GT((*e)->quarantined_at, 0);
  EXPECT_TRUE(v->verify(r->entry.id).ok());
  auto l = v->list();
  ASSERT_TRUE(l.ok());
  EXPECT_EQ(l->size(), 1u);
}

TEST_F(QuarantineVault, RestoreReproducesContentModeTimesAndOwner) {
  const std::string content = random_bytes(200000, 2);
  const auto p = write("sub/payload.bin", content);
  ::chmod(p.c_str(), 0741);
  const struct timespec times[2] = {{1600000000, 123456789}, {1500000000, 987654321}};
  ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, 0), 0);
  const bool root_user = ::geteuid() == 0;
  if (root_user) {
    ASSERT_EQ(::chown(p.c_str(), 4321, 4322), 0);
  }
  auto v = open();
  ASSERT_TRUE(v);
  auto r = v->quarantine(p.string(), det(content));
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_FALSE(fs::exists(p));
  auto back = v->restore(r->entry.id, {});
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->path, fs::canonical(p.parent_path()).string() + "/payload.bin");
  struct stat st{};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);  // before reading it, which may move atime
  EXPECT_EQ(sha(slurp(p)), sha(content));
  EXPECT_EQ(st.st_mode & 07777, 0741u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1500000000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 987654321);
  EXPECT_EQ(st.st_atim.tv_sec, 1600000000);
  if (root_user) {
    EXPECT_EQ(st.st_uid, 4321u);
    EXPECT_EQ(st.st_gid, 4322u);
  }
  // The entry is history now and its vault file is gone.
  EXPECT_EQ(vault_files(), 0u);
  auto e = v->get(r->entry.id);
  ASSERT_TRUE(e.ok() && *e);
  EXPECT_EQ((*e)->state, q::State::restored);
  EXPECT_EQ(v->list()->size(), 0u);
  EXPECT_EQ(v->list(true)->size(), 1u);
  // A second restore of the same entry is refused.
  auto again = v->restore(r->entry.id, {});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, mamori::ErrorCode::invalid_argument);
}

TEST_F(QuarantineVault, RestoreRefusesToOverwriteWithoutForce) {
  const std::string content = random_bytes(5000, 3);
  const auto p = write("a.bin", content);
  auto v = open();
  ASSERT_TRUE(v);
  auto r = v->quarantine(p.string(), det(content));
  ASSERT_TRUE(r.ok()) << r.error().message;
  write("a.bin", "a new file with the same name");
  auto refused = v->restore(r->entry.id, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, mamori::ErrorCode::invalid_argument);
  EXPECT_NE(refused.error().message.find("--force"), std::string::npos) << refused.error().message;
  EXPECT_EQ(slurp(p), "a new file with the same name");
  EXPECT_EQ(vault_files(), 1u);
  auto forced = v->restore(r->entry.id, {"", true});
  ASSERT_TRUE(forced.ok()) << forced.error().message;
  EXPECT_EQ(slurp(p), content);
  // No temporary file is left next to it.
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(p.parent_path())) ++n;
  EXPECT_EQ(n, 1u);
}

TEST_F(QuarantineVault, RestoreRefusesWhenAParentBecameASymlink) {
  const std::string content = random_bytes(3000, 4);
  const auto p = write("inbox/mail/att.bin", content);
  auto v = open();
  ASSERT_TRUE(v);
  auto r = v->quarantine(p.string(), det(content));
  ASSERT_TRUE(r.ok()) << r.error().message;
  // An attacker replaces a parent folder with a symlink to somewhere the restore must not write.
  fs::create_directories(root / "elsewhere" / "mail");
  fs::remove_all(root / "data" / "inbox");
  fs::create_directory_symlink(root / "elsewhere", root / "data" / "inbox");
  auto refused = v->restore(r->entry.id, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, mamori::ErrorCode::invalid_argument);
  EXPECT_NE(refused.error().message.find("symlink"), std::string::npos) << refused.error().message;
  EXPECT_TRUE(fs::is_empty(root / "elsewhere" / "mail"));
  EXPECT_EQ((*v->get(r->entry.id))->state, q::State::quarantined);
  // Path traversal in --to is refused as well.
  auto dots = v->restore(r->entry.id, {(root / "data" / ".." / "x.bin").string(), false});
  ASSERT_FALSE(dots.ok());
  EXPECT_NE(dots.error().message.find(".."), std::string::npos) << dots.error().message;
  // A symlink as the target itself is replaced only with --force, and then the link is replaced, not followed.
  write("victim.txt", "keep me");
  fs::create_symlink(root / "data" / "victim.txt", root / "data" / "link.bin");
  auto over_link = v->restore(r->entry.id, {(root / "data" / "link.bin").string(), false});
  ASSERT_FALSE(over_link.ok());
  auto forced = v->restore(r->entry.id, {(root / "data" / "link.bin").string(), true});
  ASSERT_TRUE(forced.ok()) << forced.error().message;
  EXPECT_EQ(slurp(root / "data" / "victim.txt"), "keep me");
  EXPECT_FALSE(fs::is_symlink(root / "data" / "link.bin"));
  EXPECT_EQ(slurp(root / "data" / "link.bin"), content);
}

TEST_F(QuarantineVault, RestoreToAFolderUsesTheOriginalName) {
  const std::string content = random_bytes(100, 5);
  const auto p = write("doc.pdf", content);
  fs::create_directories(root / "out");
  auto v = open();
  ASSERT_TRUE(v);
  auto r = v->quarantine(p.string(), det(content));
  ASSERT_TRUE(r.ok());
  auto back = v->restore(r->entry.id, {(root / "out").string(), false});
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(slurp(root / "out" / "doc.pdf"), content);
  EXPECT_FALSE(fs::exists(p));
}

TEST_F(QuarantineVault, RefusesContentThatChangedSinceTheScan) {
  const std::string scanned = random_bytes(4000, 6);
  const std::string now = random_bytes(4000, 7);  // same size, other bytes: swapped after the scan
  const auto p = write("swap.bin", now);
  auto v = open();
  ASSERT_TRUE(v);
  auto r = v->quarantine(p.string(), det(scanned));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, mamori::ErrorCode::invalid_argument);
  EXPECT_NE(r.error().message.find("changed since it was scanned"), std::string::npos) << r.error().message;
  EXPECT_EQ(slurp(p), now);
  EXPECT_EQ(vault_files(), 0u);
  EXPECT_EQ(v->list(true)->size(), 0u);
  // A size change is refused before anything is copied.
  auto d = det(scanned);
  d.size = 1;
  EXPECT_FALSE(v->quarantine(p.string(), d).ok());
  EXPECT_TRUE(fs::exists(p));
}

TEST_F(QuarantineVault, RefusesWhatIsNotARegularFile) {
  auto v = open();
  ASSERT_TRUE(v);
  const auto fifo = root / "data" / "pipe";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto r = v->quarantine(fifo.string(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not a regular file"), std::string::npos) << r.error().message;
  auto d = v->quarantine((root / "data").string(), {});
  EXPECT_FALSE(d.ok());
  auto missing = v->quarantine((root / "data" / "nope").string(), {});
  EXPECT_FALSE(missing.ok());
}

TEST_F(QuarantineVault, DeleteRemovesTheVaultFileAndKeepsHistory) {
  const std::string content = random_bytes(777, 8);
  const auto p = write("x.bin", content);
  auto v = open();
  ASSERT_TRUE(v);
  auto r = v->quarantine(p.string(), det(content));
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(v->remove(r->entry.id).ok());
  EXPECT_EQ(vault_files(), 0u);
  EXPECT_EQ((*v->get(r->entry.id))->state, q::State::deleted);
  EXPECT_FALSE(v->remove(r->entry.id).ok());
  EXPECT_FALSE(v->restore(r->entry.id, {}).ok());
  EXPECT_FALSE(fs::exists(p));
}

TEST_F(QuarantineVault, RefusesAnInsecureVaultFolder) {
  fs::create_directories(vault_dir);
  ::chmod(vault_dir.c_str(), 0755);
  auto open_dir = q::Vault::open(vault_dir.string());
  ASSERT_FALSE(open_dir.ok());
  EXPECT_NE(open_dir.error().message.find("open to group/others"), std::string::npos) << open_dir.error().message;
  fs::create_directories(root / "real");
  ::chmod((root / "real").c_str(), 0700);
  fs::create_directory_symlink(root / "real", root / "linked");
  auto linked = q::Vault::open((root / "linked").string());
  ASSERT_FALSE(linked.ok());
  EXPECT_NE(linked.error().message.find("symlink"), std::string::npos) << linked.error().message;
}

TEST_F(QuarantineVault, DamagedVaultFileIsAClearErrorAndNothingIsRestored) {
  const std::string content = random_bytes(150000, 9);
  const auto p = write("t.bin", content);
  auto v = open();
  ASSERT_TRUE(v);
  auto r = v->quarantine(p.string(), det(content));
  ASSERT_TRUE(r.ok());
  const std::string good = slurp(r->vault_file);
  auto put = [&](const std::string& bytes) { std::ofstream(r->vault_file, std::ios::binary | std::ios::trunc) << bytes; };
  // Truncated at several points, a flipped byte, a foreign header, an empty file.
  std::vector<std::string> damaged = {good.substr(0, good.size() - 1), good.substr(0, q::detail::kHeaderSize),
                                      good.substr(0, 10), std::string(), good + "x"};
  std::string flipped = good;
  flipped[good.size() / 2] = static_cast<char>(flipped[good.size() / 2] ^ 1);
  damaged.push_back(flipped);
  std::string foreign = good;
  foreign[0] = 'X';
  damaged.push_back(foreign);
  for (std::size_t i = 0; i < damaged.size(); ++i) {
    put(damaged[i]);
    EXPECT_FALSE(v->verify(r->entry.id).ok()) << i;
    auto back = v->restore(r->entry.id, {});
    ASSERT_FALSE(back.ok()) << i;
    EXPECT_FALSE(back.error().message.empty());
    EXPECT_NE(back.error().message.find("vault file"), std::string::npos) << back.error().message;
    EXPECT_FALSE(fs::exists(p)) << i;
    EXPECT_EQ(std::distance(fs::directory_iterator(p.parent_path()), fs::directory_iterator()), 0) << i;
    EXPECT_EQ((*v->get(r->entry.id))->state, q::State::quarantined);
  }
  put(good);
  EXPECT_TRUE(v->restore(r->entry.id, {}).ok());
  EXPECT_EQ(slurp(p), content);
}

TEST_F(QuarantineVault, DamagedKeyIsAClearError) {
  const std::string content = random_bytes(100, 10);
  const auto p = write("k.bin", content);
  {
    auto v = open();
    ASSERT_TRUE(v);
    ASSERT_TRUE(v->quarantine(p.string(), det(content)).ok());
  }
  fs::resize_file(vault_dir / "vault.key", 5);
  auto short_key = q::Vault::open(vault_dir.string());
  ASSERT_FALSE(short_key.ok());
  EXPECT_NE(short_key.error().message.find("vault key"), std::string::npos) << short_key.error().message;
  fs::remove(vault_dir / "vault.key");
  auto no_key = q::Vault::open(vault_dir.string());
  ASSERT_FALSE(no_key.ok());
  EXPECT_NE(no_key.error().message.find("missing"), std::string::npos) << no_key.error().message;
}

TEST_F(QuarantineVault, GarbageDatabaseIsAClearError) {
  fs::create_directories(vault_dir);
  ::chmod(vault_dir.c_str(), 0700);
  std::ofstream(vault_dir / "quarantine.db", std::ios::binary) << random_bytes(8192, 11);
  auto v = q::Vault::open(vault_dir.string());
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("quarantine database"), std::string::npos) << v.error().message;
}

// Truncations and byte flips of a real database: every outcome is a value (an error or a listing), never a crash,
// and whatever is still listed decrypts or fails cleanly.
TEST_F(QuarantineVault, TruncatedOrScribbledDatabaseNeverCrashes) {
  {
    auto v = open();
    ASSERT_TRUE(v);
    for (int i = 0; i < 12; ++i) {
      const std::string c = random_bytes(300 + static_cast<std::size_t>(i), 20 + static_cast<unsigned>(i));
      const auto p = write("f" + std::to_string(i), c);
      ASSERT_TRUE(v->quarantine(p.string(), det(c)).ok());
    }
    ASSERT_TRUE(v->remove(3).ok());
  }
  const std::string good = slurp(vault_dir / "quarantine.db");
  ASSERT_GT(good.size(), 4096u);
  std::mt19937 g(12345);
  int errors = 0, opened = 0;
  auto attempt = [&](const std::string& bytes) {
    std::ofstream(vault_dir / "quarantine.db", std::ios::binary | std::ios::trunc) << bytes;
    auto v = q::Vault::open(vault_dir.string());
    if (!v.ok()) {
      ++errors;
      EXPECT_FALSE(v.error().message.empty());
      return;
    }
    ++opened;
    auto l = (*v)->list(true);
    if (!l.ok()) return;
    for (const auto& e : *l) {
      (*v)->get(e.id).ignore();
      (*v)->verify(e.id).ignore();
    }
  };
  for (std::size_t cut = 0; cut < good.size(); cut += 2048) attempt(good.substr(0, cut));
  for (int i = 0; i < 80; ++i) {
    std::string b = good;
    const int flips = 1 + static_cast<int>(g() % 8);
    for (int k = 0; k < flips; ++k) b[g() % b.size()] = static_cast<char>(g() & 0xff);
    attempt(b);
  }
  std::cout << "[ figures  ] " << errors + opened << " damaged databases: " << errors << " refused with an error, "
            << opened << " opened and read without a crash\n";
  EXPECT_GT(errors, 0);
  EXPECT_GT(opened, 0);
}

TEST_F(QuarantineVault, SealAndUnsealRoundTripAndRejectGarbage) {
  q::detail::Key key{};
  key.fill(7);
  const std::string content = random_bytes(q::detail::kChunk * 2 + 17, 30);
  const auto in_path = write("plain", content);
  const auto out_path = root / "sealed";
  {
    q::detail::Fd in(::open(in_path.c_str(), O_RDONLY));
    q::detail::Fd out(::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600));
    auto r = q::detail::seal(in.get(), out.get(), key, content.size());
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->sha256, sha(content));
    // A file that is longer than announced (it grew during the copy) is refused.
    q::detail::Fd in2(::open(in_path.c_str(), O_RDONLY));
    q::detail::Fd out2(::open((root / "sealed2").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600));
    EXPECT_FALSE(q::detail::seal(in2.get(), out2.get(), key, content.size() - 1).ok());
  }
  q::detail::Fd sealed(::open(out_path.c_str(), O_RDONLY));
  auto u = q::detail::unseal(sealed.get(), -1, key);
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_EQ(u->sha256, sha(content));
  EXPECT_EQ(u->size, content.size());
  key.fill(8);  // the wrong key decrypts to other bytes: the hash tells
  q::detail::Fd sealed2(::open(out_path.c_str(), O_RDONLY));
  auto wrong = q::detail::unseal(sealed2.get(), -1, key);
  ASSERT_TRUE(wrong.ok());
  EXPECT_NE(wrong->sha256, sha(content));
}

}  // namespace

// Data without a file (an INSTREAM stream): stored under an origin, never "restored" to a made-up path.
TEST_F(QuarantineVault, StoredStreamsKeepTheirBytesAndNeedAnExplicitTarget) {
  auto v = open();
  ASSERT_TRUE(v);
  const std::string data = random_bytes(150 * 1024, 7);  // more than one 64 KiB chunk
  q::Detection d;
  d.verdict = "malicious";
  d.signature = "Mamori.Test.Stream";
  d.sha256 = sha(data);
  d.size = data.size();
  d.via = "mamorid INSTREAM from local#9";
  auto r = v->store(reinterpret_cast<const std::uint8_t*>(data.data()), data.size(), "stream", d);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->entry.original_path, "stream");
  EXPECT_EQ(r->entry.state, q::State::quarantined);
  EXPECT_EQ(r->entry.mode, 0600u);
  EXPECT_FALSE(q::is_file_origin(r->entry.original_path));
  EXPECT_EQ(slurp(r->vault_file).find(data.substr(0, 64)), std::string::npos);  // neutered like a moved file
  EXPECT_TRUE(v->verify(r->entry.id).ok());

  // No path to go back to: refused without --to (and nothing is created anywhere), restored with it.
  auto refused = v->restore(r->entry.id, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, mamori::ErrorCode::invalid_argument);
  EXPECT_NE(refused.error().message.find("--to"), std::string::npos) << refused.error().message;
  EXPECT_FALSE(fs::exists("stream"));
  q::RestoreOptions to;
  to.to = (root / "data").string() + "/";  // a folder: the entry is written as stream-<id>
  auto back = v->restore(r->entry.id, to);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->path, (root / "data" / ("stream-" + std::to_string(r->entry.id))).string());
  EXPECT_EQ(slurp(back->path), data);

  // The scanner's hash must match the bytes handed over; a path is not an origin.
  d.sha256 = sha("something else");
  EXPECT_FALSE(v->store(reinterpret_cast<const std::uint8_t*>(data.data()), data.size(), "stream", d).ok());
  d.sha256.clear();
  EXPECT_FALSE(v->store(reinterpret_cast<const std::uint8_t*>(data.data()), data.size(), "/etc/passwd", d).ok());
  d.size = 3;
  EXPECT_FALSE(v->store(reinterpret_cast<const std::uint8_t*>(data.data()), data.size(), "stream", d).ok());
  auto all = v->list(true);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 1u);  // the refused stores left no row
  EXPECT_TRUE(fs::is_empty(vault_dir / "files"));
}

// FILDES and on-access pass the identity of the file they read: a path that names another file now is refused.
TEST_F(QuarantineVault, RefusesAPathThatNoLongerNamesTheScannedFile) {
  const auto p = write("swap.bin", "first content");
  struct stat st{};
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  fs::rename(p, root / "data" / "moved-away.bin");
  write("swap.bin", "first content");  // same bytes, another inode
  auto v = open();
  ASSERT_TRUE(v);
  q::Detection d;
  d.verdict = "malicious";
  d.signature = "Mamori.Test";
  d.sha256 = sha("first content");
  d.dev = static_cast<std::uint64_t>(st.st_dev);
  d.ino = static_cast<std::uint64_t>(st.st_ino);
  auto r = v->quarantine(p.string(), d);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("no longer the file that was scanned"), std::string::npos) << r.error().message;
  EXPECT_TRUE(fs::exists(p));
  auto ok = v->quarantine((root / "data" / "moved-away.bin").string(), d);
  EXPECT_TRUE(ok.ok()) << ok.error().message;
}
