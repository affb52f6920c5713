// OneNote sections: every embedded file is scanned as a member named by order and sniffed type
// ("embedded-1.hta"). The section's verdict is the worst of its members, raised by one rule: a section that embeds
// a script, an HTML application, a shortcut or an executable is malicious, because that is what OneNote phishing
// is (a "double-click to view" button over the payload) and documents have no reason to carry one. A file name with
// such an extension in the section's properties, without a payload found, makes it suspicious.
#include <algorithm>
#include <array>
#include <cctype>

#include "engine/handlers.hpp"
#include "engine/scanner.hpp"
#include "formats/onenote/onenote.hpp"

namespace mamori::engine::handlers {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Text that reads like a batch file or a one-line command even without "@echo off".
bool command_text(ByteView v) {
  const auto head = v.clamp(0, 4096);
  std::string s(reinterpret_cast<const char*>(head.data()), head.size());
  s = lower(s);
  int hits = 0;
  for (const char* t : {"powershell", "cmd /c", "cmd.exe", "wscript", "cscript", "mshta", "rundll32", "regsvr32",
                        "curl ", "certutil", "bitsadmin", "start ", "%temp%", "%appdata%", "set ", "goto ", "exit"})
    hits += s.find(t) != std::string::npos;
  return hits >= 2;
}

struct Sniffed {
  std::string ext;
  bool dangerous = false;  // script, HTA, shortcut, executable
};

Sniffed sniff(ByteView v) {
  const FileType t = detect_type(v);
  auto is = [&](const char* st) { return t.subtype == st; };
  switch (t.kind) {
    case FileKind::pe: return {t.subtype.find("dll") != std::string::npos ? "dll" : "exe", true};
    case FileKind::lnk: return {"lnk", true};
    case FileKind::script:
      if (is("script-hta")) return {"hta", true};
      if (is("script-bat")) return {"bat", true};
      if (is("script-vbs")) return {"vbs", true};
      if (is("script-js")) return {"js", true};
      if (is("script-ps1")) return {"ps1", true};
      if (is("script-html")) return {"html", false};
      return {"txt", true};
    case FileKind::ole2: return {"doc", false};
    case FileKind::ooxml: return {t.subtype == "ooxml-excel" ? "xlsx" : t.subtype == "ooxml-powerpoint" ? "pptx" : "docx", false};
    case FileKind::zip: return {"zip", false};
    case FileKind::rtf: return {"rtf", false};
    case FileKind::pdf: return {"pdf", false};
    case FileKind::onenote: return {"one", false};
    case FileKind::archive: return {t.subtype, false};
    case FileKind::elf: return {"elf", false};
    case FileKind::email: return {"eml", false};
    case FileKind::unknown: break;
  }
  if (v.starts_with("\x89PNG")) return {"png", false};
  if (v.starts_with("\xFF\xD8\xFF")) return {"jpg", false};
  if (v.starts_with("GIF8")) return {"gif", false};
  if (v.starts_with("BM")) return {"bmp", false};
  if (v.starts_with("ITSF")) return {"chm", true};
  if (t.subtype == "text") {
    const bool cmd = command_text(v);
    return {cmd ? "cmd" : "txt", cmd};
  }
  return {"bin", false};
}

constexpr std::array<const char*, 18> kDangerousExts = {".hta", ".vbs", ".vbe", ".js",  ".jse", ".bat",
                                                        ".cmd", ".wsf", ".wsh", ".ps1", ".exe", ".dll",
                                                        ".scr", ".lnk", ".chm", ".msi", ".cpl", ".pif"};

}  // namespace

void onenote(ByteView bytes, ScanResult& r, ScanContext& ctx) {
  const onenote::Section s = onenote::scan(bytes);
  r.model = "onenote-rules";
  r.verdict = Verdict::clean;
  r.score = 0;
  for (const auto& a : s.anomalies) r.anomalies.push_back(std::string(onenote::anomaly_name(a.code)) + ":" + std::to_string(a.detail));
  std::string dangerous_names, all_names;
  for (const auto& n : s.names) {
    all_names += all_names.empty() ? n : ", " + n;
    const std::string ln = lower(n);
    for (const char* e : kDangerousExts) {
      const std::string_view ext(e);
      if (ln.size() > ext.size() && ln.compare(ln.size() - ext.size(), ext.size(), ext) == 0) {
        dangerous_names += dangerous_names.empty() ? n : ", " + n;
        break;
      }
    }
  }
  if (!all_names.empty()) r.context.emplace_back("onenote.file_names", all_names);
  std::string payloads;
  std::size_t index = 0;
  for (const auto& f : s.files) {
    ++index;
    // An object whose length overran the file ends in whatever followed it; scripts do not end in NULs, so the
    // trailing zeros are not part of what gets typed and scanned.
    ByteView data = f.data;
    if (!f.footer_ok)
      while (!data.empty() && data.data()[data.size() - 1] == 0) data = data.clamp(0, data.size() - 1);
    const Sniffed t = sniff(data);
    const std::string name = "embedded-" + std::to_string(index) + "." + t.ext;
    if (t.dangerous) payloads += payloads.empty() ? name : ", " + name;
    if (!ctx.charge_bytes(r, data.size())) break;
    if (!ctx.scan_member(r, name, data)) break;
  }
  if (!payloads.empty()) {
    r.reasons.push_back({"onenote.embedded_payload", 1, 100});
    r.context.emplace_back("onenote.embedded_payload", "+100: " + payloads);
    r.score = 1.0;
    raise_verdict(r, Verdict::malicious, "Mamori.OneNote.EmbeddedPayload");
  } else if (!dangerous_names.empty()) {
    r.reasons.push_back({"onenote.payload_name", 1, 50});
    r.context.emplace_back("onenote.payload_name", "+50: " + dangerous_names);
    r.score = 0.5;
    if (ctx.scanner().options().alert_suspicious) raise_verdict(r, Verdict::suspicious, "Mamori.OneNote.PayloadName");
  }
}

}  // namespace mamori::engine::handlers
