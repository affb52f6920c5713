// rtf over the corpus's RTF files, when the corpus is present (skipped otherwise). The files are only read as
// bytes. Prints: files parsed, documents with an embedded object, with object data that unwraps as OLE1, with an
// Equation Editor object, with a Package, and the anomalies; checks sane lower bounds.
#include <gtest/gtest.h>

#include <iostream>
#include <map>
#include <cstdio>
#include <string>
#include <vector>

#include "common/mapped_file.hpp"
#include "formats/rtf/rtf.hpp"
#include "support/corpus_manifest.hpp"

namespace {

namespace rtf = mamori::rtf;

struct Tally {
  int files = 0, rtf = 0, parsed = 0, with_object = 0, with_ole1 = 0, equation = 0, package = 0, exe_package = 0,
      link = 0, ole2_native = 0, obfuscated = 0;
};

TEST(RtfCorpus, RtfFiles) {
  const auto rows = mamori::test::corpus_rows();
  if (rows.empty()) GTEST_SKIP() << "no corpus manifest";
  std::map<std::string, Tally> by;
  std::map<std::string, int> anomalies, classes;
  std::vector<std::string> not_ole1;
  for (const auto& r : rows) {
    if (r.kind != "rtf") continue;
    auto file = mamori::MappedFile::open(r.path);
    if (!file.ok()) continue;
    Tally& t = by[r.label];
    ++t.files;
    const auto bytes = file->view();
    if (!rtf::sniff(bytes)) continue;
    ++t.rtf;
    auto d = rtf::parse(bytes);
    if (!d.ok()) continue;
    ++t.parsed;
    for (const auto& a : d->anomalies) ++anomalies[r.label + " " + rtf::anomaly_name(a.code)];
    bool ole1 = false, eq = false, pkg = false, exe = false, link = false, ole2 = false;
    for (const auto& o : d->objects) {
      ole1 |= o.ole1;
      eq |= o.equation_editor;
      pkg |= o.package.has_value();
      exe |= o.package && o.package->executable;
      link |= o.link;
      ole2 |= o.native_is_ole2;
      ++classes[r.label + " " + (o.class_name.empty() ? "(objclass) " + o.objclass : o.class_name)];
      if (!o.ole1 && o.has_objdata && not_ole1.size() < 25) {
        std::string hex;
        char b[4];
        for (std::size_t k = 0; k < o.native.size() && k < 24; ++k) {
          std::snprintf(b, sizeof b, "%02x", o.native[k]);
          hex += b;
        }
        not_ole1.push_back(r.sha256.substr(0, 12) + " @" + std::to_string(o.offset) + " bytes=" +
                           std::to_string(o.objdata_bytes) + " " + hex);
      }
    }
    if (!d->objects.empty()) ++t.with_object;
    t.with_ole1 += ole1;
    t.equation += eq;
    t.package += pkg;
    t.exe_package += exe;
    t.link += link;
    t.ole2_native += ole2;
    t.obfuscated += d->has(rtf::Anomaly::objdata_obfuscated);
  }
  if (by.empty()) GTEST_SKIP() << "no RTF files in the corpus";
  for (const auto& [k, t] : by)
    std::cout << "[corpus] " << k << ": files=" << t.files << " rtf=" << t.rtf << " parsed=" << t.parsed
              << " with_object=" << t.with_object << " ole1=" << t.with_ole1 << " ole2_native=" << t.ole2_native
              << " equation_editor=" << t.equation << " package=" << t.package << " exe_package=" << t.exe_package
              << " link=" << t.link << " objdata_obfuscated=" << t.obfuscated << "\n";
  for (const auto& n : not_ole1) std::cout << "[corpus] objdata without OLE1 header: " << n << "\n";
  for (const auto& [n, k] : classes) std::cout << "[corpus] class " << n << ": " << k << "\n";
  for (const auto& [n, k] : anomalies) std::cout << "[corpus] anomaly " << n << ": " << k << "\n";
  for (const auto& [k, t] : by) EXPECT_EQ(t.parsed, t.rtf) << k;
  if (by.count("malicious")) {
    const auto& m = by["malicious"];
    EXPECT_GE(m.with_object * 2, m.parsed);  // most exploit RTFs carry an object
  }
}

}  // namespace
