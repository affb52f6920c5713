// `mamori quarantine list|show|restore|delete|verify`: the vault that `mamori scan --quarantine` and mamorid fill.
#include <ctime>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.hpp"
#include "quarantine/quarantine.hpp"

namespace mamori::cli {

namespace {

namespace q = mamori::quarantine;

// Exit codes (docs/quarantine.md).
constexpr int kOk = 0;
constexpr int kRefused = 1;
constexpr int kError = 2;
constexpr int kNoSuchEntry = 3;

struct QuarantineFlags {
  std::string dir;
  bool json = false;
  bool all = false;
  std::int64_t id = 0;
  std::string to;
  bool force = false;
};

std::string utc(std::int64_t t) {
  if (t == 0) return "";
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  ::gmtime_r(&tt, &tm);
  std::ostringstream s;
  s << std::put_time(&tm, "%Y-%m-%d %H:%M:%S");
  return s.str();
}

std::string utc_ns(const q::Timespec& t) {
  std::ostringstream s;
  s << utc(t.sec) << "." << std::setw(9) << std::setfill('0') << t.nsec << " UTC";
  return s.str();
}

std::string octal(std::uint32_t m) {
  std::ostringstream s;
  s << std::oct << std::setw(4) << std::setfill('0') << m;
  return s.str();
}

nlohmann::ordered_json entry_json(const q::Entry& e, const q::Vault& v) {
  nlohmann::ordered_json j = {
      {"id", e.id},
      {"state", q::state_name(e.state)},
      {"original_path", e.original_path},
      {"vault_file", v.vault_file(e)},
      {"size", e.size},
      {"sha256", e.sha256},
      {"verdict", e.verdict},
      {"signature", e.signature},
      {"reasons", e.reasons},
      {"uid", e.uid},
      {"gid", e.gid},
      {"mode", octal(e.mode)},
      {"atime", utc_ns(e.atime)},
      {"mtime", utc_ns(e.mtime)},
      {"ctime", utc_ns(e.ctime)},
      {"hard_links", e.nlink},
      {"quarantined_at", utc(e.quarantined_at) + " UTC"},
      {"quarantined_by", e.quarantined_by},
      {"via", e.via},
  };
  if (e.finished_at) {
    j["finished_at"] = utc(e.finished_at) + " UTC";
    j["finished_by"] = e.finished_by;
  }
  if (!e.restored_to.empty()) j["restored_to"] = e.restored_to;
  return j;
}

void print_recovery(const q::Vault& v) {
  for (const auto& n : v.last_recovery().notes) std::cerr << "mamori: recovery: " << n << "\n";
}

int code_for(const Error& e) { return e.code == ErrorCode::invalid_argument ? kRefused : kError; }

int fail(const Error& e) {
  std::cerr << "mamori: " << e.message << "\n";
  return code_for(e);
}

Result<std::unique_ptr<q::Vault>> open_vault(const QuarantineFlags& f) {
  auto v = q::Vault::open(f.dir.empty() ? q::default_dir() : f.dir);
  if (v.ok()) print_recovery(**v);
  return v;
}

int run_list(const QuarantineFlags& f) {
  auto v = open_vault(f);
  if (!v.ok()) return fail(v.error());
  auto entries = (*v)->list(f.all);
  print_recovery(**v);
  if (!entries.ok()) return fail(entries.error());
  if (f.json) {
    nlohmann::ordered_json a = nlohmann::ordered_json::array();
    for (const auto& e : *entries) a.push_back(entry_json(e, **v));
    std::cout << a.dump(2) << "\n";
    return kOk;
  }
  if (entries->empty()) {
    std::cout << "The quarantine at " << (*v)->dir() << " is empty.\n";
    return kOk;
  }
  std::cout << std::left << std::setw(6) << "ID" << std::setw(21) << "QUARANTINED (UTC)";
  if (f.all) std::cout << std::setw(12) << "STATE";
  std::cout << std::setw(12) << "SIZE" << std::setw(34) << "SIGNATURE" << "ORIGINAL PATH\n";
  for (const auto& e : *entries) {
    std::cout << std::left << std::setw(6) << e.id << std::setw(21) << utc(e.quarantined_at);
    if (f.all) std::cout << std::setw(12) << q::state_name(e.state);
    std::cout << std::setw(12) << e.size << std::setw(34) << e.signature << e.original_path << "\n";
  }
  return kOk;
}

int run_show(const QuarantineFlags& f) {
  auto v = open_vault(f);
  if (!v.ok()) return fail(v.error());
  auto e = (*v)->get(f.id);
  print_recovery(**v);
  if (!e.ok()) return fail(e.error());
  if (!*e) {
    std::cerr << "mamori: no quarantine entry " << f.id << "\n";
    return kNoSuchEntry;
  }
  const auto j = entry_json(**e, **v);
  if (f.json) {
    std::cout << j.dump(2) << "\n";
    return kOk;
  }
  for (const auto& [k, val] : j.items()) {
    if (k == "reasons") {
      std::cout << "reasons:\n";
      for (const auto& r : val) std::cout << "  " << r.get<std::string>() << "\n";
      continue;
    }
    std::cout << k << ": " << (val.is_string() ? val.get<std::string>() : val.dump()) << "\n";
  }
  return kOk;
}

// Distinguishes "no such entry" (exit 3) before an operation that would report it as a refusal.
int check_exists(q::Vault& v, std::int64_t id) {
  auto e = v.get(id);
  print_recovery(v);
  if (!e.ok()) return fail(e.error());
  if (!*e) {
    std::cerr << "mamori: no quarantine entry " << id << "\n";
    return kNoSuchEntry;
  }
  return kOk;
}

int run_restore(const QuarantineFlags& f) {
  auto v = open_vault(f);
  if (!v.ok()) return fail(v.error());
  if (const int rc = check_exists(**v, f.id); rc != kOk) return rc;
  auto r = (*v)->restore(f.id, {f.to, f.force});
  print_recovery(**v);
  if (!r.ok()) return fail(r.error());
  for (const auto& w : r->warnings) std::cerr << "mamori: warning: " << w << "\n";
  std::cout << "restored entry " << f.id << " to " << r->path << "\n";
  return kOk;
}

int run_delete(const QuarantineFlags& f) {
  auto v = open_vault(f);
  if (!v.ok()) return fail(v.error());
  if (const int rc = check_exists(**v, f.id); rc != kOk) return rc;
  const Status s = (*v)->remove(f.id);
  print_recovery(**v);
  if (!s.ok()) return fail(s.error());
  std::cout << "deleted entry " << f.id << "\n";
  return kOk;
}

int run_verify(const QuarantineFlags& f) {
  auto v = open_vault(f);
  if (!v.ok()) return fail(v.error());
  if (const int rc = check_exists(**v, f.id); rc != kOk) return rc;
  const Status s = (*v)->verify(f.id);
  if (!s.ok()) return fail(s.error());
  std::cout << "entry " << f.id << ": vault file intact (sha256 matches)\n";
  return kOk;
}

}  // namespace

Runner add_quarantine_command(CLI::App& app) {
  auto f = std::make_shared<QuarantineFlags>();
  auto* cmd = app.add_subcommand(
      "quarantine",
      "List, inspect, restore or delete quarantined files (see `mamori scan --quarantine`).\n"
      "Exit code: 0 done, 1 refused for safety (target exists without --force, a parent folder is a symlink, "
      "'..' in a path, entry not in the vault), 2 error (I/O, damaged database or vault file, bad flags), "
      "3 no such entry.");
  cmd->require_subcommand(1);
  cmd->fallthrough();
  cmd->add_option("--quarantine-dir", f->dir,
                  "Vault folder (default: $MAMORI_QUARANTINE_DIR, else /var/lib/mamori/quarantine)");
  auto* list = cmd->add_subcommand("list", "One line per quarantined file: ID, date, size, signature, original path");
  list->add_flag("--json", f->json, "A JSON array of entries with every recorded field");
  list->add_flag("--all", f->all, "Include restored and deleted entries (history) with their state");
  auto* show = cmd->add_subcommand("show", "Every recorded field of one entry");
  show->add_option("id", f->id, "Entry ID (from `list`)")->required();
  show->add_flag("--json", f->json, "As JSON");
  auto* restore = cmd->add_subcommand(
      "restore", "Put a file back with its content (sha256 checked first), mode, times and, as root, owner");
  restore->add_option("id", f->id, "Entry ID")->required();
  restore->add_option("--to", f->to, "Restore here instead of the original path (a folder: under the original name)");
  restore->add_flag("--force", f->force, "Replace an existing file at the target");
  auto* del = cmd->add_subcommand("delete", "Remove a quarantined file for good (its record stays as history)");
  del->add_option("id", f->id, "Entry ID")->required();
  auto* verify = cmd->add_subcommand("verify", "Check that an entry's vault file decrypts to its recorded sha256");
  verify->add_option("id", f->id, "Entry ID")->required();
  return [f, list, show, restore, del, verify] {
    if (list->parsed()) return run_list(*f);
    if (show->parsed()) return run_show(*f);
    if (restore->parsed()) return run_restore(*f);
    if (del->parsed()) return run_delete(*f);
    if (verify->parsed()) return run_verify(*f);
    return kError;
  };
}

}  // namespace mamori::cli
