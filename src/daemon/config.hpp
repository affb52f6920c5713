// mamorid's configuration: the clamd.conf options that apply to mamori, under clamd's names, in clamd.conf's format
// ("Option value" per line, '#' comments, yes/no booleans, sizes with K/M/G suffixes). Unknown or inapplicable
// options are not errors: they come back as warnings so an existing clamd.conf can be reused.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.hpp"

namespace mamori::daemon {

struct Config {
  // Listening.
  std::string local_socket = "/run/mamorid/mamorid.ctl";  // LocalSocket ("" = no UNIX socket)
  unsigned local_socket_mode = 0666;                       // LocalSocketMode (octal)
  std::string local_socket_group;                          // LocalSocketGroup
  int tcp_port = 0;                                        // TCPSocket (0 = no TCP socket)
  std::vector<std::string> tcp_addr;                       // TCPAddr (default 127.0.0.1)
  int max_connection_queue_length = 200;                   // MaxConnectionQueueLength (listen backlog)

  // Work.
  int max_threads = 10;   // MaxThreads: the worker pool
  int max_queue = 100;    // MaxQueue: open connections at most; accepting pauses beyond it
  std::uint64_t stream_max_length = 25ull << 20;  // StreamMaxLength: INSTREAM bytes at most
  std::uint64_t max_file_size = 100ull << 20;     // MaxFileSize: larger files/streams get Mamori.Limits.Exceeded.FileSize
  int read_timeout = 120;          // ReadTimeout (s): waiting for stream data or the next command of a session
  int command_read_timeout = 30;   // CommandReadTimeout (s): waiting for the first command after connecting
  int send_timeout = 120;          // SendBufTimeout is in ms in clamd; mamori uses ReadTimeout for sends too
  int idle_timeout = 30;           // IdleTimeout: accepted for compatibility (workers are a fixed pool)
  // INSTREAM data beyond this many bytes goes to an unlinked file in TemporaryDirectory instead of memory, so
  // MaxQueue clients streaming StreamMaxLength each cannot exhaust RAM.
  std::uint64_t stream_spool_threshold = 8ull << 20;  // StreamSpoolThreshold (mamori)
  std::string temporary_directory = "/tmp";           // TemporaryDirectory

  // Commands.
  bool allow_all_match_scan = true;     // AllowAllMatchScan
  bool enable_shutdown_command = true;  // EnableShutdownCommand
  bool enable_reload_command = true;    // EnableReloadCommand
  bool enable_version_command = true;   // EnableVersionCommand
  bool enable_stats_command = true;     // EnableStatsCommand
  bool follow_file_symlinks = false;    // FollowFileSymlinks (inside scanned folders)

  // Engine.
  std::string model_dir;        // DatabaseDirectory: folder holding pe/ (default: the installed models)
  bool alert_suspicious = true; // HeuristicAlerts: report suspicious scores as FOUND

  // On-access protection (fanotify; see docs/onaccess.md). Off unless an OnAccessIncludePath is given.
  std::vector<std::string> onaccess_include;  // OnAccessIncludePath (repeatable; absolute folders or mount points)
  std::vector<std::string> onaccess_exclude;  // OnAccessExcludePath (repeatable)
  bool onaccess_prevention = false;            // OnAccessPrevention: deny opens of detected files
  bool onaccess_extra_scanning = false;        // OnAccessExtraScanning: also scan files when closed after writing
  int onaccess_timeout_ms = 5000;              // OnAccessTimeout (mamori, ms): allow when the scan takes longer
  int onaccess_max_threads = 2;                // OnAccessMaxThreads: on-access scanning workers
  std::uint64_t onaccess_max_file_size = 5ull << 20;  // OnAccessMaxFileSize: larger files are allowed unscanned
  int onaccess_test_delay_ms = 0;  // OnAccessTestDelayMs: TEST ONLY, honoured only with MAMORI_TEST_HOOKS=1

  // Quarantine (mamori's own options; docs/quarantine.md).
  // MamoriQuarantine: move files found by SCAN, CONTSCAN, MULTISCAN, ALLMATCHSCAN, FILDES (a descriptor of a named
  // file) and on-access with OnAccessPrevention into the vault.
  bool quarantine = false;
  // MamoriQuarantineStreams: keep a copy of INSTREAM data (and of FILDES descriptors with no name) found to be
  // malicious in the vault, origin "stream" / "fildes". Off by default: a mail gateway usually rejects the message.
  bool quarantine_streams = false;
  std::string quarantine_dir = "/var/lib/mamori/quarantine";   // MamoriQuarantineDir

  // Containers (archives, e-mail), mapped onto engine::Limits; defaults are the engine's (docs/containers.md).
  unsigned max_recursion = 10;                    // MaxRecursion: nesting depth (Mamori.Limits.Exceeded.Depth)
  std::uint64_t max_files = 10000;                // MaxFiles: members per scanned file (....Members)
  std::uint64_t max_scan_size = 1ull << 30;       // MaxScanSize: bytes extracted per scanned file (....Size)
  double max_ratio = 1000;                        // MaxRatio (mamori): expansion over the archive's size (....Ratio)
  std::uint64_t max_decompressed_size = 4ull << 30;  // MaxDecompressedSize (mamori): work per scanned file (....Size)
  double max_decompressed_ratio = 1100;             // MaxDecompressedRatio (mamori): work over the file's size, 0 off
  std::uint64_t max_scan_time_ms = 60000;         // MaxScanTime (ms, as clamd): per scanned file (....Time)
  bool alert_exceeds_max = true;                  // AlertExceedsMax: limit hits are FOUND (yes) or only logged
  bool alert_encrypted_archive = true;            // AlertEncryptedArchive: Mamori.Encrypted.Archive FOUND
  bool alert_encrypted_doc = true;                // AlertEncryptedDoc: Mamori.Office.Encrypted FOUND
  std::vector<std::string> archive_passwords;     // ArchivePassword (mamori, repeatable): tried before the defaults
  std::string archive_password_file;              // ArchivePasswordFile (mamori): one password a line

  // Process.
  bool foreground = false;   // Foreground
  std::string pid_file;      // PidFile
  std::string log_file;      // LogFile ("" = stderr unless LogSyslog)
  bool log_syslog = false;   // LogSyslog
  std::string log_facility = "LOG_LOCAL6";  // LogFacility
  bool log_verbose = false;  // LogVerbose / Debug
  bool log_time = false;     // LogTime
  bool log_clean = false;    // LogClean: log clean results too
};

struct ParsedConfig {
  Config config;
  std::vector<std::string> warnings;  // "line N: ..." for unknown, ignored or deprecated options
};

/// Parses clamd.conf-format text. Errors are values that cannot be understood (a bad number, a bad boolean);
/// unknown options are warnings.
Result<ParsedConfig> parse_config(const std::string& text);
Result<ParsedConfig> load_config(const std::string& path);

/// "25M" -> 26214400; plain numbers are bytes.
Result<std::uint64_t> parse_size(const std::string& s);

}  // namespace mamori::daemon
