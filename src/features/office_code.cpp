// Macro source analysis: a small VBA tokenizer that counts capability keywords (the auto-exec / write / execute idea
// published with mraptor, and keyword families like those olevba reports; our own lists), obfuscation measures and
// hashed bigrams of normalised tokens, and remembers the lines that matched.
#include <algorithm>
#include <array>
#include <cstring>
#include <cctype>
#include <cmath>
#include <unordered_map>

#include "features/office_internal.hpp"

namespace mamori::features::office {

namespace {

constexpr std::uint64_t fnv64(std::string_view s, std::uint64_t h = 1469598103934665603ull) {
  for (char c : s) h = (h ^ static_cast<std::uint8_t>(c)) * 1099511628211ull;
  return h;
}

// Language words kept as themselves in the bigrams; any other identifier becomes "<id>", so randomised names do not
// scatter over the buckets.
constexpr const char* kVbaWords[] = {
    "dim", "as", "string", "long", "integer", "variant", "object", "byte", "boolean", "double", "single", "date",
    "currency", "set", "let", "if", "then", "else", "elseif", "end", "sub", "function", "property", "get", "for",
    "next", "each", "in", "to", "step", "do", "loop", "while", "wend", "until", "with", "call", "private", "public",
    "const", "static", "global", "select", "case", "exit", "on", "error", "resume", "goto", "redim", "preserve",
    "new", "nothing", "true", "false", "not", "and", "or", "mod", "is", "like", "byval", "byref", "optional",
    "paramarray", "type", "enum", "attribute", "option", "explicit", "base", "compare", "text", "me", "debug", "print",
    "msgbox", "len", "left", "right", "trim", "ucase", "lcase", "instr", "cells", "range", "value", "activesheet",
    "activedocument", "thisworkbook", "thisdocument", "worksheets", "sheets", "application", "close", "open", "for",
    "input", "line", "lbound", "ubound", "array", "cstr", "clng", "cint", "cbyte", "cdbl", "int", "fix", "abs", "rnd",
    "randomize", "now", "format", "dir", "err", "number", "description", "clear", "content", "paragraphs", "tables",
    "selection", "activecell", "offset", "row", "column", "count", "name", "path", "fullname", "save", "visible",
    "screenupdating", "displayalerts", "enableevents", "doevents", "wait", "sleep", "ontime", "typeof", "vbcrlf",
    "vblf", "vbcr", "vbtab", "vbnullstring", "isnumeric", "isempty", "isnull", "isarray", "strconv", "space", "string",
};

// What an identifier (lower case) is to the tokenizer: a capability keyword, a language word kept in the bigrams,
// a self-replication or stealth name. One table, so that an identifier is hashed and looked up once.
struct IdInfo {
  int token = -1;         // index in token_keywords(), -1 when none
  bool word = false;      // kept as itself in the bigrams (a language word or a keyword)
  std::uint64_t hash = 0;  // its bigram hash, fnv64 of the name
  int behaviour = -1;     // a Behaviour, -1 when none
  std::uint16_t spread = 0;  // SpreadBit flags: what the name says about copying macro code elsewhere
};
const std::unordered_map<std::string, IdInfo>& id_table();

// ActiveX and form events that run code without a macro warning's "auto" names (InkPicture1_Painted, Frame1_Layout...).
constexpr const char* kEventSuffixes[] = {"_click", "_change", "_gotfocus", "_lostfocus", "_layout", "_painted",
                                          "_painting", "_resize", "_mousemove", "_mouseenter", "_mouseleave",
                                          "_beforenavigate2", "_documentcomplete", "_navigatecomplete2",
                                          "_progresschange", "_statustextchange", "_titlechange", "_activate",
                                          "_initialize", "_enter", "_exit", "_keydown", "_keyup", "_dblclick"};

bool ends_with(std::string_view s, std::string_view suf) {
  return s.size() > suf.size() && s.substr(s.size() - suf.size()) == suf;
}

// ASCII, as <cctype> in the "C" locale the engine runs in, without a call per character.
bool ascii_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool ascii_digit(unsigned char c) { return c >= '0' && c <= '9'; }
bool ascii_alnum(unsigned char c) { return ascii_alpha(c) || ascii_digit(c); }
bool ascii_xdigit(unsigned char c) { return ascii_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool is_id_start(unsigned char c) { return ascii_alpha(c) || c >= 0x80; }
bool is_id_char(unsigned char c) { return ascii_alpha(c) || (c >= '0' && c <= '9') || c == '_' || c >= 0x80; }
char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool vowel(unsigned char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y'; }

bool all_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isxdigit(c); });
}
bool all_b64(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isalnum(c) || c == '+' || c == '/' || c == '='; });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

const char* cat_name(Cat c) {
  switch (c) {
    case cat_autoexec: return "autoexec";
    case cat_write: return "write";
    case cat_execute: return "execute";
    case cat_download: return "download";
    case cat_obfuscation: return "obfuscation";
    case cat_selfmod: return "self-modification";
    case cat_environment: return "environment";
    case cat_api: return "api";
    default: return "";
  }
}

}  // namespace

const std::vector<Keyword>& token_keywords() {
  static const std::vector<Keyword> k = {
      // Auto-exec entry points (Word, Excel, PowerPoint, and the application-event forms).
      {"autoopen", cat_autoexec}, {"autoclose", cat_autoexec}, {"autoexec", cat_autoexec}, {"autoexit", cat_autoexec},
      {"autonew", cat_autoexec}, {"document_open", cat_autoexec}, {"document_close", cat_autoexec},
      {"document_new", cat_autoexec}, {"documentopen", cat_autoexec}, {"documentbeforeclose", cat_autoexec},
      {"document_contentcontrolonenter", cat_autoexec}, {"workbook_open", cat_autoexec},
      {"workbook_activate", cat_autoexec}, {"workbook_beforeclose", cat_autoexec}, {"workbook_close", cat_autoexec},
      {"workbook_deactivate", cat_autoexec}, {"auto_open", cat_autoexec}, {"auto_close", cat_autoexec},
      {"auto_activate", cat_autoexec}, {"app_documentopen", cat_autoexec}, {"app_newdocument", cat_autoexec},
      {"app_workbookopen", cat_autoexec}, {"autorun", cat_autoexec},
      // Writing files.
      {"kill", cat_write}, {"filecopy", cat_write}, {"copyfile", cat_write}, {"createtextfile", cat_write},
      {"savetofile", cat_write}, {"writetext", cat_write}, {"write", cat_write}, {"put", cat_write},
      {"output", cat_write}, {"binary", cat_write}, {"append", cat_write}, {"mkdir", cat_write},
      {"savecopyas", cat_write}, {"saveas", cat_write}, {"saveas2", cat_write}, {"createfolder", cat_write},
      {"movefile", cat_write}, {"deletefile", cat_write}, {"opentextfile", cat_write}, {"writeline", cat_write},
      {"name", cat_none}, {"freefile", cat_write},
      // Running things.
      {"shell", cat_execute}, {"shellexecute", cat_execute}, {"shellexecutea", cat_execute}, {"run", cat_execute},
      {"exec", cat_execute}, {"createobject", cat_execute}, {"getobject", cat_execute}, {"callbyname", cat_execute},
      {"macscript", cat_execute}, {"create", cat_execute}, {"createprocess", cat_execute},
      {"createprocessa", cat_execute}, {"winexec", cat_execute}, {"invoke", cat_execute}, {"vbhide", cat_execute},
      {"vbnormalfocus", cat_execute}, {"vbminimizednofocus", cat_execute}, {"vbnormalnofocus", cat_execute},
      {"vbmaximizedfocus", cat_execute}, {"showwindow", cat_execute}, {"executeexcel4macro", cat_execute},
      {"evaluate", cat_execute}, {"spawninstance_", cat_execute}, {"execquery", cat_execute},
      // Fetching things.
      {"urldownloadtofile", cat_download}, {"urldownloadtofilea", cat_download}, {"urldownloadtofilew", cat_download},
      {"responsebody", cat_download}, {"responsetext", cat_download}, {"send", cat_download},
      {"downloadfile", cat_download}, {"downloadstring", cat_download}, {"internetopen", cat_download},
      {"internetopena", cat_download}, {"internetreadfile", cat_download}, {"navigate", cat_download},
      {"setrequestheader", cat_download},
      // Hiding strings.
      {"chr", cat_obfuscation}, {"chrw", cat_obfuscation}, {"chrb", cat_obfuscation}, {"strreverse", cat_obfuscation},
      {"replace", cat_obfuscation}, {"split", cat_obfuscation}, {"join", cat_obfuscation}, {"mid", cat_obfuscation},
      {"midb", cat_obfuscation}, {"asc", cat_obfuscation}, {"ascw", cat_obfuscation}, {"hex", cat_obfuscation},
      {"val", cat_obfuscation}, {"xor", cat_obfuscation}, {"strconv", cat_none}, {"base64", cat_obfuscation},
      {"decode", cat_obfuscation}, {"nodetypedvalue", cat_obfuscation}, {"datatype", cat_obfuscation},
      // Changing the VBA project or the security settings.
      {"vbproject", cat_selfmod}, {"vbcomponents", cat_selfmod}, {"codemodule", cat_selfmod},
      {"addfromstring", cat_selfmod}, {"addfromfile", cat_selfmod}, {"insertlines", cat_selfmod},
      {"deletelines", cat_selfmod}, {"regwrite", cat_selfmod}, {"regread", cat_environment},
      // Looking at the machine.
      {"environ", cat_environment}, {"username", cat_environment}, {"computername", cat_environment},
      {"recentfiles", cat_environment}, {"operatingsystem", cat_environment}, {"getspecialfolder", cat_environment},
      {"expandenvironmentstrings", cat_environment}, {"specialfolders", cat_environment},
      // Native API.
      {"declare", cat_api}, {"lib", cat_api}, {"ptrsafe", cat_api}, {"virtualalloc", cat_api},
      {"virtualallocex", cat_api}, {"rtlmovememory", cat_api}, {"createthread", cat_api},
      {"createremotethread", cat_api}, {"writeprocessmemory", cat_api}, {"enumsystemlanguagegroupsw", cat_api},
      {"enumdateformats", cat_api}, {"setwindowshookex", cat_api}, {"callwindowproc", cat_api},
      {"loadlibrary", cat_api}, {"getprocaddress", cat_api}, {"zwallocatevirtualmemory", cat_api},
  };
  return k;
}

const std::vector<Keyword>& substring_keywords() {
  static const std::vector<Keyword> k = {
      {"http://", cat_download}, {"https://", cat_download}, {"ftp://", cat_download}, {"\\\\", cat_none},
      {".exe", cat_write}, {".dll", cat_write}, {".vbs", cat_write}, {".js\"", cat_write}, {".ps1", cat_write},
      {".bat", cat_write}, {".hta", cat_write}, {".scr", cat_write}, {".jar", cat_write}, {".lnk", cat_write},
      {"powershell", cat_execute}, {"cmd.exe", cat_execute}, {"cmd /c", cat_execute}, {"cmd /k", cat_execute},
      {"wscript.shell", cat_execute}, {"shell.application", cat_execute}, {"scripting.filesystemobject", cat_write},
      {"adodb.stream", cat_write}, {"msxml2.xmlhttp", cat_download}, {"microsoft.xmlhttp", cat_download},
      {"winhttp", cat_download}, {"serverxmlhttp", cat_download}, {"winmgmts", cat_execute},
      {"win32_process", cat_execute}, {"mshta", cat_execute}, {"regsvr32", cat_execute}, {"rundll32", cat_execute},
      {"certutil", cat_download}, {"bitsadmin", cat_download}, {"schtasks", cat_execute}, {" -enc", cat_obfuscation},
      {"frombase64string", cat_obfuscation}, {"invoke-expression", cat_execute}, {"iex", cat_none},
      {"net.webclient", cat_download}, {"bypass", cat_execute}, {"hidden", cat_none}, {"temp", cat_environment},
      {"appdata", cat_environment}, {"programdata", cat_environment}, {"startup", cat_environment},
      {"\\public", cat_environment}, {"user-agent", cat_download}, {"accessvbom", cat_selfmod},
      {"vbawarnings", cat_selfmod}, {"kernel32", cat_api}, {"urlmon", cat_download}, {"shell32", cat_api},
      {"ntdll", cat_api}, {"msxml2.domdocument", cat_obfuscation}, {"bin.base64", cat_obfuscation},
  };
  return k;
}

std::string lower(std::string_view s) {
  // ASCII only, as std::tolower in the "C" locale; without the per-character call (macro text runs to megabytes).
  std::string o(s);
  // Branch-free, so that the compiler does it sixteen or thirty-two bytes at a time.
  for (auto& c : o) c = static_cast<char>(c + (static_cast<unsigned char>(c - 'A') < 26 ? 'a' - 'A' : 0));
  return o;
}

std::size_t count_ci(std::string_view hay, std::string_view needle, std::size_t cap) {
  if (needle.empty() || hay.size() < needle.size()) return 0;
  std::size_t n = 0;
  // ASCII case, as std::tolower and std::toupper in the "C" locale the engine runs in (nothing calls setlocale),
  // without a library call for each byte compared.
  const auto fold = [](char c) { return static_cast<char>(c + (static_cast<unsigned char>(c - 'A') < 26 ? 'a' - 'A' : 0)); };
  const char first = fold(needle[0]);
  const char first_up = first >= 'a' && first <= 'z' ? static_cast<char>(first - 'a' + 'A') : first;
  // The next place of the first character, in either case, found with memchr: the haystack is a document's macro
  // text or XML (megabytes), and most of it holds no candidate at all.
  auto next_of = [&](char c, std::size_t from) {
    const void* p = std::memchr(hay.data() + from, c, hay.size() - from);
    return p ? static_cast<std::size_t>(static_cast<const char*>(p) - hay.data()) : hay.size();
  };
  std::size_t lo = next_of(first, 0), up = first_up == first ? hay.size() : next_of(first_up, 0);
  while (n < cap) {
    std::size_t i = std::min(lo, up);
    if (i + needle.size() > hay.size()) break;
    std::size_t k = 1;
    while (k < needle.size() && fold(hay[i + k]) == fold(needle[k])) ++k;
    i += k == needle.size() ? needle.size() : 1;  // matches do not overlap
    if (k == needle.size()) ++n;
    if (lo < i) lo = next_of(first, i);
    if (up < i) up = first_up == first ? hay.size() : next_of(first_up, i);
  }
  return n;
}

namespace {
// Identifiers of self-replication (Word's OrganizerCopy and NormalTemplate, Excel's StartupPath/XLSTART copies
// and OnSheetActivate hooks) and of stealth (turning off macro-virus protection, the save prompt for Normal.dot,
// Ctrl+Break, the VBA editor). Ordinary business macros rarely touch them; 1990s macro viruses always do.
enum class Behaviour : std::uint8_t { replication, stealth };
const std::unordered_map<std::string, Behaviour>& behaviour_tokens() {
  static const std::unordered_map<std::string, Behaviour> m = {
      {"organizercopy", Behaviour::replication},  {"normaltemplate", Behaviour::replication},
      {"macrocontainer", Behaviour::replication}, {"startuppath", Behaviour::replication},
      {"altstartuppath", Behaviour::replication}, {"onsheetactivate", Behaviour::replication},
      {"virusprotection", Behaviour::stealth},    {"savenormalprompt", Behaviour::stealth},
      {"enablecancelkey", Behaviour::stealth},    {"showvisualbasiceditor", Behaviour::stealth},
      {"enablemacrovirusprotection", Behaviour::stealth}, {"confirmconversions", Behaviour::stealth},
  };
  return m;
}
constexpr std::string_view kStartupPaths[] = {"xlstart", "normal.dot", "personal.xls", "\\startup\\"};

// How a macro virus spreads, read one statement line at a time (docs/office.md, "Rules"): the names below only
// mean something together on a line (Import alone is a database call; ActiveWorkbook.VBProject...Import is code
// copied into another workbook). Each name carries the flags of the roles it can play.
enum SpreadBit : std::uint16_t {
  sp_foreign = 1u << 0,    // another document or the global template: ActiveWorkbook, Documents(...), NormalTemplate
  sp_transfer = 1u << 1,   // puts code into a project: Import, AddFromString, AddFromFile, InsertLines, OrganizerCopy
  sp_self = 1u << 2,       // the macro's own container: ThisWorkbook, ThisDocument, MacroContainer
  sp_read = 1u << 3,       // takes code out: Export, CodeModule.Lines
  sp_hook = 1u << 4,       // Excel 5 application-wide event properties (Application.OnSheetActivate = "proc")
  sp_save = 1u << 5,       // SaveAs, SaveCopyAs
  sp_startup = 1u << 6,    // where Excel loads workbooks from at start: StartupPath, AltStartupPath, XLSTART
  sp_sheets = 1u << 7,     // Sheets(...), Modules(...): an Excel 5 module sheet is copied like a sheet
  sp_copy = 1u << 8,
  sp_place = 1u << 9,      // Before:= / After:= of Sheets.Copy
  sp_workbook = 1u << 10,  // ActiveWorkbook, Workbooks(...): the destination of a sheet copy
  sp_macro_copy = 1u << 11,  // OrganizerCopy (Word 97+) and MacroCopy (WordBasic)
};
const std::unordered_map<std::string_view, std::uint16_t>& spread_tokens() {
  static const std::unordered_map<std::string_view, std::uint16_t> m = {
      {"activeworkbook", sp_foreign | sp_workbook}, {"workbooks", sp_foreign | sp_workbook},
      {"activedocument", sp_foreign}, {"documents", sp_foreign}, {"normaltemplate", sp_foreign},
      {"activepresentation", sp_foreign},
      {"import", sp_transfer}, {"addfromstring", sp_transfer}, {"addfromfile", sp_transfer},
      {"insertlines", sp_transfer}, {"organizercopy", sp_transfer | sp_macro_copy}, {"macrocopy", sp_macro_copy},
      {"thisworkbook", sp_self}, {"thisdocument", sp_self}, {"macrocontainer", sp_self},
      {"export", sp_read}, {"lines", sp_read},
      {"onsheetactivate", sp_hook}, {"onsheetdeactivate", sp_hook}, {"onwindow", sp_hook}, {"onentry", sp_hook},
      {"ondoubleclick", sp_hook}, {"ondata", sp_hook}, {"oncalculate", sp_hook},
      {"saveas", sp_save}, {"savecopyas", sp_save},
      {"startuppath", sp_startup}, {"altstartuppath", sp_startup}, {"librarypath", sp_startup}, {"xlstart", sp_startup},
      {"sheets", sp_sheets}, {"modules", sp_sheets}, {"copy", sp_copy}, {"before", sp_place}, {"after", sp_place},
  };
  return m;
}

const std::unordered_map<std::string, IdInfo>& id_table() {
  static const std::unordered_map<std::string, IdInfo> m = [] {
    std::unordered_map<std::string, IdInfo> t;
    const auto& k = token_keywords();
    for (std::size_t i = 0; i < k.size(); ++i) {
      IdInfo& e = t[k[i].name];
      if (e.token < 0) e.token = static_cast<int>(i);
      e.word = true;
      e.hash = fnv64(k[i].name);
    }
    for (const char* w : kVbaWords) {
      IdInfo& e = t[w];
      e.word = true;
      e.hash = fnv64(w);
    }
    for (const auto& [name, b] : behaviour_tokens()) t[name].behaviour = static_cast<int>(b);
    for (const auto& [name, bits] : spread_tokens()) t[std::string(name)].spread = bits;
    return t;
  }();
  return m;
}

// id_table() as an open-addressing table keyed by the names' fnv64 (which analyze_code makes while it lower-cases
// an identifier anyway): one probe or two per identifier instead of hashing the name again and walking a bucket.
const IdInfo* find_id(std::string_view name, std::uint64_t hash) {
  using Entry = const std::pair<const std::string, IdInfo>*;
  struct Index {
    std::vector<Entry> slots;
    std::size_t mask = 0;
  };
  static const Index index = [] {
    Index x;
    std::size_t n = 64;
    while (n < 4 * id_table().size()) n *= 2;
    x.slots.assign(n, nullptr);
    x.mask = n - 1;
    for (const auto& e : id_table()) {
      const std::uint64_t h = fnv64(e.first);
      std::size_t i = static_cast<std::size_t>(h ^ (h >> 32)) & x.mask;
      while (x.slots[i] != nullptr) i = (i + 1) & x.mask;
      x.slots[i] = &e;
    }
    return x;
  }();
  for (std::size_t i = static_cast<std::size_t>(hash ^ (hash >> 32)) & index.mask;; i = (i + 1) & index.mask) {
    const Entry e = index.slots[i];
    if (e == nullptr) return nullptr;
    if (e->first == name) return &e->second;
  }
}
}  // namespace

void analyze_code(std::string_view src, std::string_view module, Acc& a, std::string_view kind) {
  CodeStats& s = a.code;
  if (s.code_bytes + static_cast<double>(src.size()) > static_cast<double>(office_limits::max_code_bytes)) {
    a.anomaly("macro_source_truncated_by_limit");
    return;
  }
  const auto& tk = token_keywords();
  s.modules += 1;
  s.code_bytes += static_cast<double>(src.size());

  // Substrings, on the lower-cased whole text (string literals included: that is where commands hide). One pass
  // for all keywords, each counted without overlaps and capped as count_ci counts it (the keywords are lower case).
  const std::string low = lower(src);
  const auto& sk = substring_keywords();
  // The needles: the substring keywords, then the startup paths (all lower case), each counted without overlaps
  // up to kCap as count_ci counts them, in the one pass over the text.
  static const auto needles = [] {
    std::vector<std::string_view> n;
    for (const auto& k : substring_keywords()) n.emplace_back(k.name);
    for (const auto p : kStartupPaths) n.push_back(p);
    return n;
  }();
  static const auto by_first = [] {
    std::array<std::vector<std::uint8_t>, 256> t;
    for (std::size_t i = 0; i < needles.size(); ++i) t[static_cast<unsigned char>(needles[i][0])].push_back(static_cast<std::uint8_t>(i));
    return t;
  }();
  // Every needle has two characters or more: a position is looked at only when its two characters begin one.
  static const auto starts = [] {
    std::vector<std::uint8_t> t(1u << 16, 0);  // bytes, not bits: looked up at every position of the text
    for (const auto n : needles) t[static_cast<unsigned char>(n[0]) << 8 | static_cast<unsigned char>(n[1])] = 1;
    return t;
  }();
  std::vector<std::size_t> found(needles.size(), 0), next(needles.size(), 0);
  constexpr std::size_t kCap = 1u << 20;  // per needle, as count_ci's default cap
  for (std::size_t i = 0; i + 1 < low.size(); ++i) {
    if (!starts[static_cast<unsigned char>(low[i]) << 8 | static_cast<unsigned char>(low[i + 1])]) continue;
    const auto& cand = by_first[static_cast<unsigned char>(low[i])];
    for (const std::uint8_t k : cand) {
      const std::string_view w = needles[k];
      if (i < next[k] || found[k] >= kCap || low.size() - i < w.size()) continue;
      if (low[i + 1] != w[1]) continue;
      if (std::memcmp(low.data() + i, w.data(), w.size()) == 0) {
        ++found[k];
        next[k] = i + w.size();
      }
    }
  }
  for (std::size_t i = sk.size(); i < needles.size(); ++i) s.startup_paths += static_cast<double>(found[i]);
  for (std::size_t i = 0; i < sk.size(); ++i) {
    const auto n = static_cast<double>(found[i]);
    s.sub[i] += n;
    if (n > 0 && sk[i].cat != cat_none) s.cats[sk[i].cat] += n;
  }

  static const std::uint64_t h_id = fnv64("<id>"), h_str = fnv64("<str>"), h_num = fnv64("<num>"), h_nl = fnv64("\n");
  std::uint64_t prev = h_nl;
  auto push = [&](std::uint64_t h) {
    const std::size_t b = static_cast<std::size_t>((prev * 31 + h) * 0x9E3779B97F4A7C15ull >> 54) % kBigramBuckets;
    s.bigrams[b] += 1;
    prev = h;
    s.tokens += 1;
  };

  std::size_t line_no = 0;
  std::size_t pos = 0;
  std::string idl;
  while (pos < src.size()) {
    std::size_t eol = src.find('\n', pos);
    if (eol == std::string_view::npos) eol = src.size();
    const std::string_view line = src.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    const std::string_view t = trim(line);
    s.lines += 1;
    s.sum_line += static_cast<double>(line.size());
    s.max_line = std::max(s.max_line, static_cast<double>(line.size()));
    if (line.size() > 300) s.long_lines += 1;
    if (t.empty()) {
      s.blank_lines += 1;
      continue;
    }
    if (t.size() >= 10 && (t.substr(0, 10) == "Attribute " || t.substr(0, 10) == "attribute ")) continue;
    if (t[0] == '\'' || (t.size() >= 4 && ascii_lower(t[0]) == 'r' && ascii_lower(t[1]) == 'e' &&
                         ascii_lower(t[2]) == 'm' && t[3] == ' ')) {
      s.comment_lines += 1;
      continue;
    }
    s.code_lines += 1;
    unsigned line_cats = 0;
    std::uint16_t spread = 0;  // SpreadBit flags of the code (not strings, not comments) on this line
    bool assigns = false, after_application_dot = false;
    bool after_sub = false, in_chr = false;
    int chr_paren = 0;
    bool chr_has_op = false;
    for (std::size_t i = 0; i < line.size();) {
      const unsigned char c = static_cast<unsigned char>(line[i]);
      if (c == ' ' || c == '\t' || c == '\r') { ++i; continue; }  // the commonest byte, and none of the cases below
      if (c == '"') {
        std::size_t j = i + 1;
        while (j < line.size()) {
          if (line[j] == '"') {
            if (j + 1 < line.size() && line[j + 1] == '"') { j += 2; continue; }
            break;
          }
          ++j;
        }
        const std::string_view lit = line.substr(i + 1, std::min(j, line.size()) - i - 1);
        s.strings += 1;
        s.string_bytes += static_cast<double>(lit.size());
        s.max_string = std::max(s.max_string, static_cast<double>(lit.size()));
        if (lit.size() >= 100) s.long_strings += 1;
        if (lit.size() >= 32 && all_hex(lit)) s.hex_strings += 1;
        else if (lit.size() >= 40 && all_b64(lit)) s.b64_strings += 1;
        push(h_str);
        i = j + 1;
        continue;
      }
      if (c == '\'') break;  // comment to the end of the line
      if (is_id_start(c)) {
        std::size_t j = i + 1;
        while (j < line.size() && is_id_char(static_cast<unsigned char>(line[j]))) ++j;
        // Type suffixes ($, %, &) belong to the name: Chr$(...), Mid$(...).
        const std::string_view id = line.substr(i, j - i);
        if (j < line.size() && (line[j] == '$') ) ++j;
        idl.assign(id);
        std::uint64_t idl_hash = fnv64({});  // fnv64(idl), made as it is lower-cased
        for (auto& ch : idl) {
          ch = ascii_lower(ch);
          idl_hash = (idl_hash ^ static_cast<std::uint8_t>(ch)) * 1099511628211ull;
        }
        const IdInfo* info = find_id(idl, idl_hash);
        s.identifiers += 1;
        if (after_sub) {
          s.procedures += 1;
          for (const char* suf : kEventSuffixes)
            if (ends_with(idl, suf)) {
              s.control_events += 1;
              line_cats |= 1u << cat_autoexec;
              break;
            }
          after_sub = false;
        }
        if (info && info->behaviour >= 0)
          (info->behaviour == static_cast<int>(Behaviour::replication) ? s.replication : s.stealth) += 1;
        if (info) spread |= info->spread;
        // Application.Path is the Excel folder, where a virus drops its PERSONAL.XLS / add-in copy.
        if (after_application_dot && idl == "path") spread |= sp_startup;
        after_application_dot = idl == "application" && j < line.size() && line[j] == '.';
        if (info && info->token >= 0) {
          s.kw[static_cast<std::size_t>(info->token)] += 1;
          const Cat cat = tk[static_cast<std::size_t>(info->token)].cat;
          if (cat != cat_none) {
            s.cats[cat] += 1;
            line_cats |= 1u << cat;
          }
          if (idl == "chr" || idl == "chrw" || idl == "chrb") {
            s.chr_calls += 1;
            in_chr = true;
            chr_paren = 0;
            chr_has_op = false;
          }
          push(info->hash);
        } else if (info && info->word) {
          if (idl == "sub" || idl == "function") after_sub = true;
          if (idl == "end" || idl == "exit") after_sub = false;
          push(info->hash);
        } else {
          // A name the program chose: measure how random it looks.
          s.id_len_sum += static_cast<double>(id.size());
          if (id.size() > 15) s.id_long += 1;
          bool digit = false, alpha = false;
          int run = 0, max_run = 0;
          for (unsigned char ch : idl) {
            std::size_t bin = 63;
            if (ch >= 'a' && ch <= 'z') bin = static_cast<std::size_t>(ch - 'a'), alpha = true;
            else if (ch >= '0' && ch <= '9') bin = 26 + static_cast<std::size_t>(ch - '0'), digit = true;
            else if (ch == '_') bin = 36;
            s.id_chars[bin] += 1;
            const bool consonant = ch >= 'a' && ch <= 'z' && !vowel(ch);
            run = consonant ? run + 1 : 0;
            max_run = std::max(max_run, run);
          }
          if (digit && alpha) s.id_mixed_digits += 1;
          if (max_run >= 5) s.id_consonant_runs += 1;
          if (s.id_seen.size() < 100000 && s.id_seen.insert(idl_hash).second) s.distinct_identifiers += 1;
          push(h_id);
        }
        i = j;
        continue;
      }
      if (ascii_digit(c)) {
        std::size_t j = i;
        while (j < line.size() && (ascii_alnum(static_cast<unsigned char>(line[j])) || line[j] == '.')) ++j;
        s.numbers += 1;
        push(h_num);
        i = j;
        continue;
      }
      if (c == '&' && i + 1 < line.size() && (line[i + 1] == 'H' || line[i + 1] == 'h')) {  // &H1F hex literal
        std::size_t j = i + 2;
        while (j < line.size() && ascii_xdigit(static_cast<unsigned char>(line[j]))) ++j;
        s.numbers += 1;
        push(h_num);
        i = j;
        continue;
      }
      if (c == '=') assigns = true;
      if (c != '.') after_application_dot = false;
      if (c == '&') s.concat_amp += 1;
      if (c == '+') s.concat_plus += 1;
      if (in_chr) {
        if (c == '(') ++chr_paren;
        else if (c == ')') {
          if (--chr_paren <= 0) {
            if (chr_has_op) s.chr_arith += 1;
            in_chr = false;
          }
        } else if (chr_paren > 0 && (c == '+' || c == '-' || c == '*' || c == '/' || c == '\\')) chr_has_op = true;
      }
      push(fnv64(std::string_view(line.data() + i, 1)));
      ++i;
    }
    push(h_nl);
    const auto all = [&](std::uint16_t bits) { return (spread & bits) == bits; };
    if (all(sp_foreign | sp_transfer)) s.spread_inject += 1;
    if (all(sp_self | sp_read)) s.spread_self_read += 1;
    if ((spread & sp_hook) && assigns) s.spread_hook += 1;
    if (all(sp_save | sp_startup)) s.spread_save_startup += 1;
    if (all(sp_sheets | sp_copy | sp_place | sp_workbook)) s.spread_sheet_copy += 1;
    if (spread & sp_macro_copy) s.spread_macro_copy += 1;
    if (line_cats && a.opt->collect_hits && a.out->hits.size() < office_limits::max_code_hits) {
      // The most telling category on the line names it.
      for (Cat c : {cat_autoexec, cat_download, cat_execute, cat_write, cat_selfmod, cat_api}) {
        if (line_cats & (1u << c)) {
          a.hit(std::string(kind) + ":" + std::string(module) + ":" + std::to_string(line_no), cat_name(c), t);
          break;
        }
      }
    }
  }
}

}  // namespace mamori::features::office
