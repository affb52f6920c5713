// `mamori extract FILE [--out DIR] [--json]`: a document taken apart for an analyst (analysis::extract_document).
//
// Without --out everything is printed (objects as a list with their sha256, not their bytes). With --out DIR the
// module sources, form strings, XLM formulas, deobfuscated strings and IOCs go into text files and each embedded
// object into object-NNN.bin, all under names generated here, never from the document: a hostile name such as
// "../../.bashrc" appears only inside manifest.json. Files are created with O_EXCL|O_NOFOLLOW, mode 0600, relative
// to a descriptor of DIR, so nothing is overwritten, nothing is written outside DIR, and nothing is executable.
//
// Exit codes: 0 done, 2 error (unreadable file, not a document, DIR not writable or a file already there).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "analysis/extract.hpp"
#include "cli/commands.hpp"
#include "common/hash.hpp"
#include "common/mapped_file.hpp"

namespace mamori::cli {

namespace {

std::string indexed(const char* stem, std::size_t i, const char* ext) {
  char b[64];
  std::snprintf(b, sizeof b, "%s-%03zu%s", stem, i, ext);
  return b;
}

// Text for a terminal or a text file: control characters other than tab/newline shown as \xNN.
std::string printable(std::string_view s) {
  std::string r;
  r.reserve(s.size());
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 && c != '\n' && c != '\t' && c != '\r') {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02X", u);
      r += b;
    } else if (u == 0x7F) {
      r += "\\x7F";
    } else {
      r.push_back(c);
    }
  }
  return r;
}

nlohmann::json object_json(const analysis::EmbeddedObject& o, const std::string& file) {
  nlohmann::json j{{"origin", printable(o.origin)}, {"kind", o.kind}, {"label", printable(o.label)},
                   {"size", o.data.size()}, {"sha256", o.sha256}, {"truncated", o.truncated}};
  if (!file.empty()) j["file"] = file;
  return j;
}

nlohmann::json to_json(const analysis::Extraction& x, const std::vector<std::string>& object_files,
                       const std::vector<std::string>& module_files) {
  nlohmann::json j;
  j["format"] = x.format;
  nlohmann::json mods = nlohmann::json::array();
  for (std::size_t i = 0; i < x.modules.size(); ++i) {
    const auto& m = x.modules[i];
    nlohmann::json e{{"project", printable(m.project)}, {"name", printable(m.name)}, {"pcode_size", m.pcode_size},
                     {"pcode_without_source", m.pcode_without_source}};
    if (i < module_files.size()) e["file"] = module_files[i];
    else e["source"] = printable(m.source);
    mods.push_back(std::move(e));
  }
  j["modules"] = mods;
  nlohmann::json forms = nlohmann::json::array();
  for (const auto& f : x.form_strings)
    forms.push_back({{"form", printable(f.form)}, {"control", printable(f.control)}, {"property", f.property},
                     {"value", printable(f.value)}});
  j["form_strings"] = forms;
  nlohmann::json xlm = nlohmann::json::array();
  for (const auto& f : x.xlm) xlm.push_back({{"cell", printable(f.cell)}, {"formula", printable(f.text)}});
  j["xlm_formulas"] = xlm;
  nlohmann::json objs = nlohmann::json::array();
  for (std::size_t i = 0; i < x.objects.size(); ++i)
    objs.push_back(object_json(x.objects[i], i < object_files.size() ? object_files[i] : std::string()));
  j["objects"] = objs;
  nlohmann::json strs = nlohmann::json::array();
  for (const auto& s : x.strings) strs.push_back({{"value", printable(s.value)}, {"where", printable(s.where)}});
  j["deobfuscated_strings"] = strs;
  nlohmann::json iocs = nlohmann::json::array();
  for (const auto& i : x.iocs) iocs.push_back({{"type", i.type}, {"value", printable(i.value)}, {"where", printable(i.where)}});
  j["iocs"] = iocs;
  j["notes"] = x.notes;
  return j;
}

void print_text(const analysis::Extraction& x, std::ostream& out) {
  out << "format: " << x.format << "\n";
  for (const auto& m : x.modules) {
    out << "\n=== module " << printable(m.name) << " (" << printable(m.project) << ", p-code " << m.pcode_size
        << " bytes) ===\n";
    if (m.pcode_without_source) out << "[p-code without source: the source below is not what runs (VBA stomping)]\n";
    out << printable(m.source);
    if (!m.source.empty() && m.source.back() != '\n') out << "\n";
  }
  if (!x.form_strings.empty()) {
    out << "\n=== form and document strings ===\n";
    for (const auto& f : x.form_strings)
      out << printable(f.form.empty() ? "document" : f.form) << "." << printable(f.control.empty() ? "?" : f.control)
          << (f.property.empty() ? "" : "." + f.property) << " = " << printable(f.value) << "\n";
  }
  if (!x.xlm.empty()) {
    out << "\n=== XLM formulas ===\n";
    for (const auto& f : x.xlm) out << printable(f.cell) << "  " << printable(f.text) << "\n";
  }
  if (!x.objects.empty()) {
    out << "\n=== embedded objects ===\n";
    for (const auto& o : x.objects)
      out << o.kind << "  " << o.data.size() << " bytes  sha256 " << o.sha256 << "  from " << printable(o.origin)
          << (o.label.empty() ? "" : "  label \"" + printable(o.label) + "\"") << (o.truncated ? "  (truncated)" : "")
          << "\n";
  }
  if (!x.strings.empty()) {
    out << "\n=== deobfuscated strings ===\n";
    for (const auto& s : x.strings) out << printable(s.where) << "  " << printable(s.value) << "\n";
  }
  out << "\n=== IOCs ===\n";
  for (const auto& i : x.iocs) out << i.type << "  " << printable(i.value) << "  (" << printable(i.where) << ")\n";
  for (const auto& n : x.notes) out << "note: " << printable(n) << "\n";
}

// Writes `data` to DIR/name (name generated by this file). O_EXCL: an existing file is an error, not overwritten.
bool write_at(int dirfd, const std::string& name, std::string_view data, std::string& err) {
  const int fd = ::openat(dirfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) {
    err = name + ": " + std::strerror(errno);
    return false;
  }
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = name + ": " + std::strerror(errno);
      ::close(fd);
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, 0600) != 0 || ::close(fd) != 0) {
    err = name + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

int write_out(const analysis::Extraction& x, const std::string& dir, bool json) {
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    std::cerr << "mamori extract: cannot create " << dir << ": " << std::strerror(errno) << "\n";
    return 2;
  }
  const int dirfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) {
    std::cerr << "mamori extract: cannot open " << dir << ": " << std::strerror(errno) << "\n";
    return 2;
  }
  std::string err;
  bool ok = true;
  std::vector<std::string> module_files, object_files;
  for (std::size_t i = 0; ok && i < x.modules.size(); ++i) {
    module_files.push_back(indexed("module", i + 1, ".vba.txt"));
    ok = write_at(dirfd, module_files.back(), x.modules[i].source, err);
  }
  for (std::size_t i = 0; ok && i < x.objects.size(); ++i) {
    object_files.push_back(indexed("object", i + 1, ".bin"));
    const auto& d = x.objects[i].data;
    ok = write_at(dirfd, object_files.back(), std::string_view(reinterpret_cast<const char*>(d.data()), d.size()), err);
  }
  const nlohmann::json manifest = to_json(x, object_files, module_files);
  if (ok) ok = write_at(dirfd, "manifest.json", manifest.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", err);
  if (ok) {
    std::ostringstream report;
    print_text(x, report);
    ok = write_at(dirfd, "report.txt", report.str(), err);
  }
  ::close(dirfd);
  if (!ok) {
    std::cerr << "mamori extract: " << dir << "/" << err << "\n";
    return 2;
  }
  if (json) {
    std::cout << manifest.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    std::cout << "wrote " << module_files.size() << " module(s), " << object_files.size() << " object(s), "
              << x.iocs.size() << " IOC(s): " << dir << "/manifest.json, " << dir << "/report.txt\n";
  }
  return 0;
}

}  // namespace

Runner add_extract_command(CLI::App& app) {
  auto file = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand(
      "extract",
      "Take a document apart for an analyst: macro modules, form strings, XLM formulas, embedded objects, "
      "deobfuscated strings and IOCs. Exit code 0 done, 2 error.");
  cmd->add_option("file", *file, "An OLE2 (doc/xls/ppt, vbaProject.bin) or OOXML document")->required();
  cmd->add_option("--out", *out,
                  "Write into DIR (created mode 0700 if missing): module-NNN.vba.txt, object-NNN.bin (mode 0600), "
                  "report.txt and manifest.json with each object's origin and sha256. Existing files are never "
                  "overwritten; names never come from the document");
  cmd->add_flag("--json", *json, "Print JSON instead of text (with --out: the manifest)");
  return [=] {
    auto f = MappedFile::open(*file);
    if (!f.ok()) {
      std::cerr << "mamori extract: " << *file << ": " << f.error().message << "\n";
      return 2;
    }
    auto x = analysis::extract_document(f->view());
    if (!x.ok()) {
      std::cerr << "mamori extract: " << *file << ": " << x.error().message << "\n";
      return 2;
    }
    if (!out->empty()) return write_out(*x, *out, *json);
    if (*json) std::cout << to_json(*x, {}, {}).dump(1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    else print_text(*x, std::cout);
    return 0;
  };
}

}  // namespace mamori::cli
