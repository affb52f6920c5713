// The vault's SQLite database: metadata of every entry, and the journal of operations under way (the state
// column). Written with synchronous=FULL, so a committed state survives a crash or a power cut.
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "quarantine/internal.hpp"

namespace mamori::quarantine::detail {

namespace {

constexpr int kSchemaVersion = 1;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS entries(
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  state TEXT NOT NULL,
  vault_name TEXT NOT NULL UNIQUE,
  original_path TEXT NOT NULL,
  uid INTEGER NOT NULL, gid INTEGER NOT NULL, mode INTEGER NOT NULL,
  atime_s INTEGER NOT NULL, atime_ns INTEGER NOT NULL,
  mtime_s INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
  ctime_s INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,
  dev INTEGER NOT NULL, ino INTEGER NOT NULL, nlink INTEGER NOT NULL,
  size INTEGER NOT NULL,
  sha256 TEXT NOT NULL,
  verdict TEXT NOT NULL, signature TEXT NOT NULL, reasons TEXT NOT NULL,
  quarantined_at INTEGER NOT NULL, quarantined_by TEXT NOT NULL, quarantined_by_uid INTEGER NOT NULL,
  via TEXT NOT NULL,
  finished_at INTEGER NOT NULL DEFAULT 0, finished_by TEXT NOT NULL DEFAULT '', restored_to TEXT NOT NULL DEFAULT '',
  restore_tmp TEXT NOT NULL DEFAULT '', restore_target TEXT NOT NULL DEFAULT ''
);
)sql";

// Column order used by every SELECT.
constexpr const char* kColumns =
    "id,state,vault_name,original_path,uid,gid,mode,atime_s,atime_ns,mtime_s,mtime_ns,ctime_s,ctime_ns,dev,ino,nlink,"
    "size,sha256,verdict,signature,reasons,quarantined_at,quarantined_by,quarantined_by_uid,via,finished_at,"
    "finished_by,restored_to,restore_tmp,restore_target";

constexpr State kStates[] = {State::moving,    State::copied,   State::quarantined, State::restoring,
                             State::restored,  State::deleting, State::deleted};

std::optional<State> parse_state(const std::string& s) {
  for (State st : kStates)
    if (s == state_name(st)) return st;
  return std::nullopt;
}

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { rc_ = sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return rc_ == SQLITE_OK && s_ != nullptr; }
  void bind(int i, std::int64_t v) { sqlite3_bind_int64(s_, i, v); }
  void bind(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  int step() { return sqlite3_step(s_); }
  std::int64_t i64(int c) { return sqlite3_column_int64(s_, c); }
  std::string text(int c) {
    const auto* p = sqlite3_column_text(s_, c);
    const int n = sqlite3_column_bytes(s_, c);
    return p ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(n)) : std::string();
  }

 private:
  sqlite3_stmt* s_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

std::string reasons_json(const std::vector<std::string>& r) { return nlohmann::json(r).dump(); }

std::vector<std::string> parse_reasons(const std::string& s) {
  // A damaged column must not stop the listing: it shows as one reason saying so.
  const auto j = nlohmann::json::parse(s, nullptr, false);
  std::vector<std::string> out;
  if (!j.is_array()) return {"(unreadable reasons column)"};
  for (const auto& x : j)
    if (x.is_string()) out.push_back(x.get<std::string>());
  return out;
}

// Binds every column but id, from index 1, in kColumns order.
void bind_entry(Stmt& s, const Entry& e) {
  int i = 1;
  s.bind(i++, std::string(state_name(e.state)));
  s.bind(i++, e.vault_name);
  s.bind(i++, e.original_path);
  s.bind(i++, static_cast<std::int64_t>(e.uid));
  s.bind(i++, static_cast<std::int64_t>(e.gid));
  s.bind(i++, static_cast<std::int64_t>(e.mode));
  for (const Timespec* t : {&e.atime, &e.mtime, &e.ctime}) {
    s.bind(i++, t->sec);
    s.bind(i++, t->nsec);
  }
  s.bind(i++, static_cast<std::int64_t>(e.dev));
  s.bind(i++, static_cast<std::int64_t>(e.ino));
  s.bind(i++, static_cast<std::int64_t>(e.nlink));
  s.bind(i++, static_cast<std::int64_t>(e.size));
  s.bind(i++, e.sha256);
  s.bind(i++, e.verdict);
  s.bind(i++, e.signature);
  s.bind(i++, reasons_json(e.reasons));
  s.bind(i++, e.quarantined_at);
  s.bind(i++, e.quarantined_by);
  s.bind(i++, static_cast<std::int64_t>(e.quarantined_by_uid));
  s.bind(i++, e.via);
  s.bind(i++, e.finished_at);
  s.bind(i++, e.finished_by);
  s.bind(i++, e.restored_to);
  s.bind(i++, e.restore_tmp);
  s.bind(i++, e.restore_target);
}

Result<Entry> read_entry(Stmt& s) {
  Entry e;
  int i = 0;
  e.id = s.i64(i++);
  const std::string st = s.text(i++);
  const auto state = parse_state(st);
  if (!state) return make_error(ErrorCode::truncated, "entry " + std::to_string(e.id) + " has an unknown state '" + st + "'");
  e.state = *state;
  e.vault_name = s.text(i++);
  e.original_path = s.text(i++);
  e.uid = static_cast<std::uint32_t>(s.i64(i++));
  e.gid = static_cast<std::uint32_t>(s.i64(i++));
  e.mode = static_cast<std::uint32_t>(s.i64(i++));
  for (Timespec* t : {&e.atime, &e.mtime, &e.ctime}) {
    t->sec = s.i64(i++);
    t->nsec = s.i64(i++);
  }
  e.dev = static_cast<std::uint64_t>(s.i64(i++));
  e.ino = static_cast<std::uint64_t>(s.i64(i++));
  e.nlink = static_cast<std::uint64_t>(s.i64(i++));
  e.size = static_cast<std::uint64_t>(s.i64(i++));
  e.sha256 = s.text(i++);
  e.verdict = s.text(i++);
  e.signature = s.text(i++);
  e.reasons = parse_reasons(s.text(i++));
  e.quarantined_at = s.i64(i++);
  e.quarantined_by = s.text(i++);
  e.quarantined_by_uid = static_cast<std::uint32_t>(s.i64(i++));
  e.via = s.text(i++);
  e.finished_at = s.i64(i++);
  e.finished_by = s.text(i++);
  e.restored_to = s.text(i++);
  e.restore_tmp = s.text(i++);
  e.restore_target = s.text(i++);
  // A vault name is joined to the files/ folder: anything but our own hex names would be a traversal.
  if (e.vault_name.size() != 32 || e.vault_name.find_first_not_of("0123456789abcdef") != std::string::npos)
    return make_error(ErrorCode::truncated, "entry " + std::to_string(e.id) + " has a malformed vault file name");
  return e;
}

}  // namespace

Db::~Db() {
  if (db_) sqlite3_close_v2(db_);
}

Error Db::fail(const std::string& what) const {
  return make_error(ErrorCode::io, "quarantine database " + path_ + ": " + what + ": " +
                                       (db_ ? sqlite3_errmsg(db_) : "cannot open"));
}

Status Db::exec(const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    const std::string m = msg ? msg : sqlite3_errmsg(db_);
    sqlite3_free(msg);
    return make_error(ErrorCode::io, "quarantine database " + path_ + ": " + m);
  }
  return {};
}

Result<Db> Db::open(const std::string& path) {
  Db d;
  d.path_ = path;
  const int rc = sqlite3_open_v2(path.c_str(), &d.db_,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOFOLLOW |
                                     SQLITE_OPEN_FULLMUTEX,
                                 nullptr);
  if (rc != SQLITE_OK) return d.fail("cannot open");
  ::chmod(path.c_str(), 0600);
  sqlite3_busy_timeout(d.db_, 10000);
  sqlite3_extended_result_codes(d.db_, 1);
  // quick_check reads every page: a truncated or scribbled file is reported here, in words, before it is used.
  {
    Stmt s(d.db_, "PRAGMA quick_check");
    if (!s.ok()) return d.fail("unreadable (corrupt or not a database)");
    std::string problems;
    int rows = 0;
    int r;
    while ((r = s.step()) == SQLITE_ROW && rows < 5) {
      const std::string line = s.text(0);
      if (line != "ok") problems += (problems.empty() ? "" : "; ") + line;
      ++rows;
    }
    if (r != SQLITE_ROW && r != SQLITE_DONE) return d.fail("unreadable (corrupt or not a database)");
    if (!problems.empty())
      return make_error(ErrorCode::truncated, "quarantine database " + path + " is corrupt: " + problems);
  }
  {
    Stmt s(d.db_, "PRAGMA user_version");
    if (!s.ok() || s.step() != SQLITE_ROW) return d.fail("unreadable");
    const auto v = s.i64(0);
    if (v > kSchemaVersion)
      return make_error(ErrorCode::incompatible, "quarantine database " + path + " has schema version " +
                                                     std::to_string(v) + ", newer than this mamori (" +
                                                     std::to_string(kSchemaVersion) + ")");
  }
  MAMORI_TRY(d.exec("PRAGMA synchronous=FULL"));
  MAMORI_TRY(d.exec("PRAGMA journal_mode=DELETE"));
  MAMORI_TRY(d.exec(kSchema));
  MAMORI_TRY(d.exec(("PRAGMA user_version=" + std::to_string(kSchemaVersion)).c_str()));
  // An existing table with other columns (a damaged or foreign file) is reported now, not at the first read.
  {
    const std::string sql = std::string("SELECT ") + kColumns + " FROM entries LIMIT 0";
    Stmt s(d.db_, sql.c_str());
    if (!s.ok()) return d.fail("the entries table is not mamori's");
  }
  return d;
}

Result<std::int64_t> Db::insert(const Entry& e) {
  const std::string sql = std::string("INSERT INTO entries(") + (kColumns + 3) + ") VALUES(?" +
                          [] {
                            std::string q;
                            for (int i = 1; i < 29; ++i) q += ",?";
                            return q;
                          }() +
                          ")";
  Stmt s(db_, sql.c_str());
  if (!s.ok()) return fail("prepare insert");
  bind_entry(s, e);
  if (s.step() != SQLITE_DONE) return fail("insert");
  return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db_));
}

Status Db::update(const Entry& e) {
  std::string sql = "UPDATE entries SET ";
  const std::string cols = kColumns + 3;
  std::size_t start = 0;
  int n = 0;
  while (start <= cols.size()) {
    const auto comma = cols.find(',', start);
    const auto name = cols.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    sql += (n++ ? "," : "") + name + "=?";
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  sql += " WHERE id=?";
  Stmt s(db_, sql.c_str());
  if (!s.ok()) return fail("prepare update");
  bind_entry(s, e);
  s.bind(n + 1, e.id);
  if (s.step() != SQLITE_DONE) return fail("update");
  if (sqlite3_changes(db_) != 1) return make_error(ErrorCode::internal, "entry " + std::to_string(e.id) + " vanished");
  return {};
}

Status Db::remove(std::int64_t id) {
  Stmt s(db_, "DELETE FROM entries WHERE id=?");
  if (!s.ok()) return fail("prepare delete");
  s.bind(1, id);
  if (s.step() != SQLITE_DONE) return fail("delete");
  return {};
}

Result<std::optional<Entry>> Db::get(std::int64_t id) {
  const std::string sql = std::string("SELECT ") + kColumns + " FROM entries WHERE id=?";
  Stmt s(db_, sql.c_str());
  if (!s.ok()) return fail("prepare select");
  s.bind(1, id);
  const int r = s.step();
  if (r == SQLITE_DONE) return std::optional<Entry>();
  if (r != SQLITE_ROW) return fail("select");
  auto e = read_entry(s);
  if (!e.ok()) return e.error();
  return std::optional<Entry>(std::move(e).value());
}

Result<std::vector<Entry>> Db::select(const std::vector<State>& states) {
  std::string sql = std::string("SELECT ") + kColumns + " FROM entries";
  if (!states.empty()) {
    sql += " WHERE state IN (";
    for (std::size_t i = 0; i < states.size(); ++i) sql += std::string(i ? "," : "") + "'" + state_name(states[i]) + "'";
    sql += ")";
  }
  sql += " ORDER BY id";
  Stmt s(db_, sql.c_str());
  if (!s.ok()) return fail("prepare select");
  std::vector<Entry> out;
  int r;
  while ((r = s.step()) == SQLITE_ROW) {
    auto e = read_entry(s);
    if (!e.ok()) return e.error();
    out.push_back(std::move(e).value());
  }
  if (r != SQLITE_DONE) return fail("select");
  return out;
}

}  // namespace mamori::quarantine::detail
