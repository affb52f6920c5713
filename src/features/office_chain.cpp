// The auto-exec -> download/execute chain of a VBA project, read as a procedure graph (schema v5, group `chain`).
//
// The older `behaviour.autoexec_*` flags are document-wide: any *_Click handler counts as auto-exec, any URL or
// `.Send` as a download, so a form that fetches a web page on a button click looks like a loader (374 of the 857
// benign documents with macros set `autoexec_download_execute`). Here a trigger is only an entry point Office runs
// without a click (AutoOpen, Document_Open, Workbook_Open, Auto_Close..., and the ActiveX events that fire while
// the document is drawn: *_Layout, *_Painted, WebBrowser navigation events), and a primitive counts only when a
// procedure reachable from such a trigger through the project's calls holds it. Calls are names: a procedure's
// code that names another procedure (Foo, Call Foo, Module1.Foo, x = Foo(1)) or a string equal to its name
// (Application.Run "Foo", OnTime, CallByName) is an edge. Strings the static evaluator (src/analysis) computed are
// attributed to the procedure that holds their line, so an obfuscated URL or command counts where it is built.
#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "analysis/iocs.hpp"
#include "analysis/vba_lines.hpp"
#include "features/office_internal.hpp"

namespace mamori::features::office {

namespace {

// What one procedure does, as far as the chain needs it. Flags that depend on the whole project (which COM classes
// it creates, whether it names a web URL at all) are resolved after every module is read.
struct Proc {
  std::string name;  // lower case
  std::size_t module = 0;
  std::uint32_t first_line = 0, last_line = 0;  // physical lines, numbered as the evaluator numbers them
  std::unordered_set<std::string> ids;           // identifiers of its code (lower case), bounded
  std::string text;                              // its string literals and evaluated strings, lower case, '\n'-joined
  bool download_api = false;   // URLDownloadToFile (or a Declare aliased to it)
  bool exec_api = false;       // Shell(), ShellExecute, WinExec, CreateProcess
  bool method_run = false;     // .Run / .Exec on something other than Application
  bool method_send = false;    // .Send / .ResponseBody / .ResponseText
  bool method_create = false;  // .Create / SpawnInstance_ / ExecMethod (WMI Win32_Process)
  bool callbyname = false;
  bool writes = false;         // Open ... For Output/Binary/Append, Put #, Print #, SaveToFile, CreateTextFile...
  bool object_by_expression = false;  // CreateObject/GetObject whose class is not one plain literal
  bool remote_executable = false;     // the evaluator recovered a URL naming an executable here
  bool command = false;               // the evaluator recovered a command line here
  // Resolved:
  bool download = false, execute = false, executable_string = false;
};

bool ends_with(std::string_view s, std::string_view suf) {
  return s.size() > suf.size() && s.compare(s.size() - suf.size(), suf.size(), suf) == 0;
}
bool contains(std::string_view hay, std::string_view needle) { return hay.find(needle) != std::string_view::npos; }

bool is_trigger_name(std::string_view n) {
  // Entry points Office calls on open, close or new, in Word, Excel and PowerPoint (the application-event forms
  // included), and ActiveX events that fire when the control is drawn or loads a page, with no click.
  static const std::unordered_set<std::string_view> exact = {
      "autoopen", "autoclose", "autoexec", "autonew", "autoexit", "document_open", "document_close",
      "document_new", "documentopen", "documentbeforeclose", "workbook_open", "workbook_beforeclose",
      "workbook_close", "workbook_activate", "auto_open", "auto_close", "auto_activate", "app_documentopen",
      "app_workbookopen", "app_newdocument", "autorun"};
  if (exact.count(n)) return true;
  if (n.rfind("userform_", 0) == 0) return false;  // a form's events need the form shown first, by code
  for (std::string_view suf : {"_layout", "_painted", "_painting", "_resize", "_documentcomplete",
                               "_navigatecomplete2", "_beforenavigate2", "_downloadcomplete", "_downloadbegin",
                               "_progresschange", "_statustextchange", "_titlechange"})
    if (ends_with(n, suf)) return true;
  return false;
}

// Names of Windows APIs (a Declare's name or its Alias) that fetch or run something.
enum class Api : std::uint8_t { none, download, execute };
Api api_kind(std::string_view name) {
  if (name.rfind("urldownloadto", 0) == 0) return Api::download;
  for (std::string_view e : {"shellexecute", "winexec", "createprocess"})
    if (name.rfind(e, 0) == 0) return Api::execute;
  return Api::none;
}

bool ascii_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_id_start(unsigned char c) { return ascii_alpha(c) || c >= 0x80; }
bool is_id_char(unsigned char c) { return ascii_alpha(c) || (c >= '0' && c <= '9') || c == '_' || c >= 0x80; }
std::string lower_ascii(std::string_view s) {
  std::string o(s);
  for (auto& c : o)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return o;
}
// dst += lower_ascii(s) + "\n", without the two temporaries.
void append_line_lower(std::string& dst, std::string_view s) {
  const std::size_t at = dst.size();
  dst.append(s);
  for (std::size_t i = at; i < dst.size(); ++i)
    if (dst[i] >= 'A' && dst[i] <= 'Z') dst[i] = static_cast<char>(dst[i] - 'A' + 'a');
  dst.push_back('\n');
}

struct Tok {
  enum Kind : std::uint8_t { id, str, op } kind;
  bool after_dot = false;
  // Identifiers lower case; strings as written (quotes removed); operators one character. A view into the
  // statement, into its lower-cased copy or into the unquoted literals of ChainLexer: valid until the next
  // statement is tokenized (a large add-in's modules are a million tokens: no allocation per token).
  std::string_view text;
};

// One statement's tokens and the buffers their views point into, kept from statement to statement so that their
// storage is reused.
struct ChainLexer {
  std::vector<Tok> toks;
  std::string low;  // the statement, ASCII lower-cased: identifiers are views into it
  std::string lit;  // literals holding "" (unquoted), one after the other; reserved so that views stay valid

  // The statement's tokens (comments already removed by the caller) into `toks`, cleared first.
  void tokenize(std::string_view s) {
    toks.clear();
    low.assign(s);
    for (auto& c : low) c = static_cast<char>(c + (static_cast<unsigned char>(c - 'A') < 26 ? 'a' - 'A' : 0));
    lit.clear();
    lit.reserve(s.size());  // the unquoted literals together are shorter than the statement
    char prev_sig = 0;  // last non-space character outside tokens
    for (std::size_t i = 0; i < s.size() && toks.size() < chain_limits::max_tokens_per_statement;) {
      const unsigned char c = static_cast<unsigned char>(s[i]);
      if (c == ' ' || c == '\t') { ++i; continue; }
      if (c == '"') {
        // The run up to the next quote is the literal unless "" (one quote) follows it.
        std::size_t q = std::min(s.find('"', i + 1), s.size());
        if (q >= s.size() || q + 1 >= s.size() || s[q + 1] != '"') {
          toks.push_back({Tok::str, false, s.substr(i + 1, q - i - 1)});
          prev_sig = '"';
          i = q + 1;
          continue;
        }
        const std::size_t at = lit.size();
        std::size_t j = i + 1;
        while (j < s.size()) {
          q = std::min(s.find('"', j), s.size());
          lit.append(s.data() + j, q - j);
          j = q;
          if (j < s.size() && j + 1 < s.size() && s[j + 1] == '"') { lit.push_back('"'); j += 2; continue; }
          break;
        }
        toks.push_back({Tok::str, false, std::string_view(lit).substr(at)});
        prev_sig = '"';
        i = j + 1;
        continue;
      }
      if (is_id_start(c)) {
        std::size_t j = i + 1;
        while (j < s.size() && is_id_char(static_cast<unsigned char>(s[j]))) ++j;
        toks.push_back({Tok::id, prev_sig == '.', std::string_view(low).substr(i, j - i)});
        if (j < s.size() && (s[j] == '$' || s[j] == '%' || s[j] == '&' || s[j] == '!' || s[j] == '#')) ++j;  // type suffix
        prev_sig = 'a';
        i = j;
        continue;
      }
      if (c == '[') {  // [Foo Bar] escaped identifier
        const std::size_t j = s.find(']', i + 1);
        if (j != std::string_view::npos) {
          toks.push_back({Tok::id, prev_sig == '.', std::string_view(low).substr(i + 1, j - i - 1)});
          prev_sig = 'a';
          i = j + 1;
          continue;
        }
      }
      toks.push_back({Tok::op, false, s.substr(i, 1)});
      prev_sig = static_cast<char>(c);
      ++i;
    }
  }
};

bool id_is(const std::vector<Tok>& t, std::size_t i, std::string_view w) {
  return i < t.size() && t[i].kind == Tok::id && t[i].text == w;
}
bool op_is(const std::vector<Tok>& t, std::size_t i, char c) {
  return i < t.size() && t[i].kind == Tok::op && t[i].text[0] == c;
}

// Strings that name a program file or a Windows tool that loads or runs one.
bool names_executable(std::string_view s) {
  for (std::string_view tool : {"rundll32", "regsvr32", "mshta", "msiexec", "powershell", "pwsh", "certutil",
                                "bitsadmin", "wscript", "cscript", "schtasks"})
    if (contains(s, tool)) return true;
  for (std::string_view ext : {".exe", ".dll", ".scr", ".ps1", ".hta", ".vbs", ".vbe", ".jse", ".bat", ".msi",
                               ".jar", ".pif", ".cpl", ".ocx"}) {
    for (std::size_t p = s.find(ext); p != std::string_view::npos; p = s.find(ext, p + 1)) {
      const std::size_t e = p + ext.size();
      // At the end of a name: end of string, or a quote, space, comma, query or similar after it.
      if (p > 0 && (e == s.size() || !is_id_char(static_cast<unsigned char>(s[e])))) return true;
    }
  }
  return false;
}

// Strings that fetch from the web by themselves: PowerShell / .NET download calls, Windows download tools, or a
// program started on a URL (msiexec /i http://..., mshta http://...).
bool fetches(std::string_view s) {
  for (std::string_view w : {"downloadfile", "downloadstring", "downloaddata", "invoke-webrequest", "invoke-restmethod",
                             "start-bitstransfer", "bitsadmin", "-urlcache", "net.webclient", "iwr ", "wget ",
                             "curl "})
    if (contains(s, w)) return true;
  const bool url = contains(s, "http://") || contains(s, "https://");
  if (url)
    for (std::string_view w : {"msiexec", "mshta", "rundll32", "regsvr32", "powershell", "cmd ", "cmd.exe"})
      if (contains(s, w)) return true;
  return false;
}

// Parses "vba:<module>:<line>[ (...)]" into the module name and line; false for places without a line.
bool parse_where(std::string_view w, std::string_view& module, std::uint32_t& line) {
  if (w.rfind("vba:", 0) != 0) return false;
  w.remove_prefix(4);
  if (const auto sp = w.find(" ("); sp != std::string_view::npos) w = w.substr(0, sp);
  const auto colon = w.rfind(':');
  if (colon == std::string_view::npos || colon + 1 >= w.size()) return false;
  std::uint64_t n = 0;
  for (char c : w.substr(colon + 1)) {
    if (c < '0' || c > '9' || n > 100000000) return false;
    n = n * 10 + static_cast<std::uint64_t>(c - '0');
  }
  module = w.substr(0, colon);
  line = static_cast<std::uint32_t>(n);
  return true;
}

// Whether one of the '\n'-terminated strings of `text` is exactly `s`.
bool has_line(std::string_view text, std::string_view s) {
  for (std::size_t p = text.find(s); p != std::string_view::npos; p = text.find(s, p + 1))
    if ((p == 0 || text[p - 1] == '\n') && p + s.size() < text.size() && text[p + s.size()] == '\n') return true;
  return false;
}

void append_text(Proc& p, std::string_view s) {
  if (p.text.size() + s.size() + 1 > chain_limits::max_text_per_procedure) return;
  const std::size_t at = p.text.size();
  p.text.append(s);
  for (std::size_t i = at; i < p.text.size(); ++i)
    if (p.text[i] >= 'A' && p.text[i] <= 'Z') p.text[i] = static_cast<char>(p.text[i] - 'A' + 'a');
  p.text.push_back('\n');
}

}  // namespace

void analyze_chain(const std::vector<ChainModule>& modules, const analysis::Evaluation* ev, ChainStats& out) {
  std::vector<Proc> procs;
  std::unordered_map<std::string, Api> declared;  // Declare'd names (lower) that fetch or run
  std::string project_text;                       // every literal, lower case (bounded)
  bool truncated = false;

  ChainLexer lexer;   // one statement's tokens, reused
  std::string id_key;  // an identifier's text as a set key, reused (ids holds each name once)
  for (std::size_t mi = 0; mi < modules.size(); ++mi) {
    Proc* cur = nullptr;
    // Lines are numbered as analysis::evaluate_vba numbers them, so the evaluator's "vba:Module:12" places map onto
    // procedures; blanks are what tokenize() skips.
    analysis::for_each_vba_statement(modules[mi].source, analysis::StatementBlanks::space_tab,
                                     chain_limits::max_statement_bytes, [&](std::string_view st, std::uint32_t line) {
      lexer.tokenize(st);
      const std::vector<Tok>& t = lexer.toks;
      if (t.empty()) return;
      std::size_t i = 0;
      while (id_is(t, i, "public") || id_is(t, i, "private") || id_is(t, i, "friend") || id_is(t, i, "static")) ++i;
      if (id_is(t, i, "declare")) {
        // Declare [PtrSafe] Function Name Lib "dll" [Alias "Real"] (...): the alias is what runs.
        std::size_t k = i + 1;
        if (id_is(t, k, "ptrsafe")) ++k;
        if (id_is(t, k, "function") || id_is(t, k, "sub")) ++k;
        if (k < t.size() && t[k].kind == Tok::id) {
          const std::string name(t[k].text);
          Api kind = api_kind(name);
          for (std::size_t q = k + 1; q + 1 < t.size(); ++q) {
            if (id_is(t, q, "lib") && t[q + 1].kind == Tok::str && contains(lower_ascii(t[q + 1].text), "urlmon") &&
                kind == Api::none)
              kind = Api::download;
            if (id_is(t, q, "alias") && t[q + 1].kind == Tok::str) {
              const Api a = api_kind(lower_ascii(t[q + 1].text));
              if (a != Api::none) kind = a;
            }
          }
          if (kind != Api::none && declared.size() < chain_limits::max_procedures) declared[name] = kind;
        }
        return;
      }
      const bool header = id_is(t, i, "sub") || id_is(t, i, "function") || id_is(t, i, "property");
      if (header) {
        std::size_t k = i + 1;
        if (id_is(t, i, "property") && (id_is(t, k, "get") || id_is(t, k, "let") || id_is(t, k, "set"))) ++k;
        if (k < t.size() && t[k].kind == Tok::id) {
          if (procs.size() >= chain_limits::max_procedures) {
            truncated = true;
            cur = nullptr;
            return;
          }
          procs.push_back({});
          cur = &procs.back();
          cur->name = t[k].text;
          cur->module = mi;
          cur->first_line = cur->last_line = line;
          return;
        }
      }
      if (id_is(t, 0, "end") && (id_is(t, 1, "sub") || id_is(t, 1, "function") || id_is(t, 1, "property"))) {
        if (cur) cur->last_line = line;
        cur = nullptr;
        return;
      }
      if (cur == nullptr) {
        for (const auto& tk : t)
          if (tk.kind == Tok::str && project_text.size() + tk.text.size() < chain_limits::max_project_text)
            append_line_lower(project_text, tk.text);
        return;
      }
      cur->last_line = line;
      if (id_is(t, 0, "open"))
        for (const auto& tk : t)
          if (tk.kind == Tok::id && (std::string_view(tk.text) == "output" || std::string_view(tk.text) == "binary" ||
                                    std::string_view(tk.text) == "append"))
            cur->writes = true;
      if ((id_is(t, 0, "put") || id_is(t, 0, "print")) && op_is(t, 1, '#')) cur->writes = true;
      for (std::size_t k = 0; k < t.size(); ++k) {
        const Tok& tk = t[k];
        if (tk.kind == Tok::str) {
          append_text(*cur, tk.text);
          if (project_text.size() + tk.text.size() < chain_limits::max_project_text)
            append_line_lower(project_text, tk.text);
          continue;
        }
        if (tk.kind != Tok::id) continue;
        if (cur->ids.size() < chain_limits::max_ids_per_procedure) {
          id_key.assign(tk.text);
          cur->ids.insert(id_key);
        }
        const std::string_view n = tk.text;  // compared with many words: lengths first
        const Api a = api_kind(n);
        if (a == Api::download) cur->download_api = true;
        if (a == Api::execute) cur->exec_api = true;  // not MacScript: AppleScript, 0 malicious and 152 benign files
        if (n == "shell" && !tk.after_dot) {
          // Shell "cmd", x = Shell(c), Call Shell(c); not Dim shell / Set shell = ... / shell.Run.
          const bool declares = k > 0 && (id_is(t, k - 1, "dim") || id_is(t, k - 1, "set") || id_is(t, k - 1, "as") ||
                                          id_is(t, k - 1, "private") || id_is(t, k - 1, "public"));
          const bool used_as_object = op_is(t, k + 1, '.') || op_is(t, k + 1, '=');
          if (!declares && !used_as_object && k + 1 < t.size()) cur->exec_api = true;
        }
        if (tk.after_dot && (n == "run" || n == "exec")) {
          // Application.Run "Macro" runs a macro, not a program.
          const bool app = k >= 2 && op_is(t, k - 1, '.') && (id_is(t, k - 2, "application") || id_is(t, k - 2, "excel"));
          if (!app) cur->method_run = true;
        }
        if (tk.after_dot && (n == "send" || n == "responsebody" || n == "responsetext" || n == "responsestream"))
          cur->method_send = true;
        if (n == "responsebody" || n == "responsestream") cur->method_send = true;
        if ((tk.after_dot && n == "create") || n == "spawninstance_" || n == "execmethod_" || n == "execmethod")
          cur->method_create = true;
        if (n == "callbyname") cur->callbyname = true;
        if (n == "savetofile" || n == "createtextfile" || n == "copyfile" || (tk.after_dot && (n == "writeline" || n == "write")))
          cur->writes = true;
        if ((n == "createobject" || n == "getobject") && op_is(t, k + 1, '(')) {
          const bool plain = k + 3 < t.size() && t[k + 2].kind == Tok::str && (op_is(t, k + 3, ')') || op_is(t, k + 3, ','));
          const bool empty = op_is(t, k + 2, ')') || op_is(t, k + 2, ',');  // GetObject(, "Excel.Application")
          if (!plain && !empty) cur->object_by_expression = true;
        }
      }
    });
  }

  // The evaluator's strings and IOCs, placed on the procedure that holds their line; all of them also tell which
  // classes and URLs the project uses at all.
  std::unordered_map<std::string, std::size_t> module_index;
  for (std::size_t mi = 0; mi < modules.size(); ++mi) module_index.emplace(std::string(modules[mi].name), mi);
  auto proc_at = [&](std::string_view module, std::uint32_t line) -> Proc* {
    const auto m = module_index.find(std::string(module));
    if (m == module_index.end()) return nullptr;
    for (auto& p : procs)
      if (p.module == m->second && line >= p.first_line && line <= p.last_line) return &p;
    return nullptr;
  };
  if (ev != nullptr) {
    std::size_t placed = 0;
    auto place = [&](const std::string& value, const std::string& where, std::string_view type) {
      if (++placed > chain_limits::max_evaluated_strings) return;
      if (project_text.size() + value.size() < chain_limits::max_project_text) append_line_lower(project_text, value);
      std::string_view module;
      std::uint32_t line = 0;
      if (!parse_where(where, module, line)) return;
      Proc* p = proc_at(module, line);
      if (p == nullptr) return;
      append_text(*p, value);
      if (type == "command") p->command = true;
      if (type == "url") {
        std::string u = lower_ascii(value);
        if (const auto q = u.find_first_of("?#"); q != std::string::npos) u.resize(q);
        if (names_executable(u.substr(std::min(u.size(), u.find("://") == std::string::npos ? 0 : u.find("://") + 3))))
          p->remote_executable = true;
      }
    };
    for (const auto& i : ev->iocs) place(i.value, i.where, i.type);
    for (const auto& d : ev->strings) place(d.value, d.where, "");
  }

  // Project-wide facts: the COM classes it creates (by ProgID or by CLSID) and whether a web URL occurs.
  const std::string_view pt = project_text;
  const bool wscript = contains(pt, "wscript.shell") || contains(pt, "72c24dd5-d70a-438b-8a42-98424b88afb8");
  const bool http_class = contains(pt, "xmlhttp") || contains(pt, "winhttp");
  const bool wmi_process = contains(pt, "win32_process");
  const bool web_url = contains(pt, "http://") || contains(pt, "https://");
  for (auto& p : procs) {
    const std::string_view tx = p.text;
    p.download = p.download_api || (p.method_send && http_class && web_url) || fetches(tx) || p.remote_executable;
    if (!p.download)
      for (const auto& [name, kind] : declared)
        if (kind == Api::download && p.ids.count(name)) p.download = true;
    const bool cbn_runs = p.callbyname && (has_line(tx, "run") || has_line(tx, "exec") ||
                                           has_line(tx, "shellexecute") || has_line(tx, "create"));
    // .Run/.Exec counts as running a program when the project names WScript.Shell, or when the same procedure builds
    // the class name it creates (Emotet's 2020 .docx: CreateObject("w" + "script." + a document property).exec):
    // hiding the class is what a macro that runs a shell command does, not what one that runs a macro does.
    const bool hidden_shell = p.method_run && p.object_by_expression;
    p.execute = p.exec_api || (p.method_run && wscript) || hidden_shell || (p.method_create && wmi_process) || cbn_runs;
    if (!p.execute)
      for (const auto& [name, kind] : declared)
        if (kind == Api::execute && p.ids.count(name)) p.execute = true;
    p.executable_string = names_executable(tx);
  }

  // Calls: procedure names among a procedure's identifiers, or strings equal to a procedure's name (Run "Foo",
  // OnTime ..., "Module1.Foo", "'Book.xlsm'!Foo").
  std::unordered_map<std::string, std::vector<std::size_t>> by_name;
  for (std::size_t k = 0; k < procs.size(); ++k) by_name[procs[k].name].push_back(k);
  std::vector<std::vector<std::size_t>> calls(procs.size());
  std::size_t edges = 0;
  for (std::size_t k = 0; k < procs.size(); ++k) {
    auto add = [&](const std::string& name) {
      const auto it = by_name.find(name);
      if (it == by_name.end()) return;
      for (std::size_t to : it->second)
        if (to != k && edges < chain_limits::max_edges) {
          calls[k].push_back(to);
          ++edges;
        }
    };
    for (const auto& id : procs[k].ids) add(id);
    std::string_view tx = procs[k].text;
    for (std::size_t s = 0; s < tx.size();) {
      std::size_t e = tx.find('\n', s);
      if (e == std::string_view::npos) e = tx.size();
      std::string_view str = tx.substr(s, e - s);
      if (!str.empty() && str.size() < 256) {
        const auto cut = str.find_last_of("!.");
        add(std::string(cut == std::string_view::npos ? str : str.substr(cut + 1)));
      }
      s = e + 1;
    }
    std::sort(calls[k].begin(), calls[k].end());
    calls[k].erase(std::unique(calls[k].begin(), calls[k].end()), calls[k].end());
  }

  // From each trigger, breadth first to max_call_depth: what the procedures it reaches hold. Each procedure is
  // visited once per trigger, so recursion (Foo calls Bar calls Foo) ends by itself; the depth bound keeps a long
  // chain of helpers from costing more than a few levels' worth.
  std::vector<std::uint32_t> seen(procs.size(), 0);
  std::uint32_t stamp = 0;
  std::vector<bool> reached_any(procs.size(), false);
  std::size_t triggers = 0;
  for (std::size_t k = 0; k < procs.size() && triggers < chain_limits::max_triggers; ++k) {
    if (!is_trigger_name(procs[k].name)) continue;
    ++triggers;
    ++stamp;
    bool dl = false, ex = false, wr = false;
    std::vector<std::size_t> level{k}, next;
    seen[k] = stamp;
    for (std::uint32_t depth = 0; !level.empty() && depth <= chain_limits::max_call_depth; ++depth) {
      next.clear();
      for (std::size_t q : level) {
        const Proc& p = procs[q];
        reached_any[q] = true;
        dl = dl || p.download;
        ex = ex || p.execute;
        wr = wr || p.writes;
        if (p.executable_string) out.trigger_executable_string = 1;
        if (p.object_by_expression) out.trigger_object_by_expression = 1;
        if (p.remote_executable) out.trigger_remote_executable = 1;
        if (p.command) out.trigger_command = 1;
        out.max_depth = std::max(out.max_depth, static_cast<double>(depth));
        if (depth == chain_limits::max_call_depth) continue;
        for (std::size_t to : calls[q])
          if (seen[to] != stamp) {
            seen[to] = stamp;
            next.push_back(to);
          }
      }
      std::swap(level, next);
    }
    if (dl) out.trigger_download = 1;
    if (ex) out.trigger_execute = 1;
    if (dl && ex) out.trigger_download_execute = 1;
    if (wr && ex) out.trigger_write_execute = 1;
  }
  out.triggers += static_cast<double>(triggers);
  for (std::size_t k = 0; k < procs.size(); ++k) {
    if (reached_any[k]) out.reached_procedures += 1;
    if (procs[k].download && procs[k].execute) out.download_execute_procedures += 1;
  }
  if (truncated) out.truncated = 1;
}

}  // namespace mamori::features::office
