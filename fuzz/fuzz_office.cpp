// libFuzzer target for documents: featurize_office on the raw input (typed from its content like the engine does:
// OLE2 with VBA/BIFF/encryption, OOXML through src/formats/ooxml and xls, RTF, PDF), then the whole engine on the
// same bytes (a Scanner without models: typing, the office handler with its IOC recovery, embedded objects scanned
// as members through the dispatch).
//
// Checks: the vector always has the schema's length, embedded objects and matching lines respect office_limits,
// a decrypted package is only reported together with an encryption kind, and the engine returns a result for the
// input without an error verdict from a throw.
#include <cstddef>
#include <cstdint>

#include "check.hpp"
#include "engine/scanner.hpp"
#include "features/office_features.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace f = mamori::features;
  const auto s = f::featurize_office(mamori::ByteView(data, size));
  check(s.x.size() == f::office_schema().features.size());
  check(s.embedded.size() <= f::office_limits::max_embedded);
  check(s.hits.size() <= f::office_limits::max_code_hits);
  std::uint64_t total = 0;
  for (const auto& e : s.embedded) total += e.bytes.size();
  check(total <= f::office_limits::max_embedded_bytes);
  check(!s.decrypted || !s.encryption.empty());

  static const mamori::engine::Scanner scanner(std::optional<mamori::model::Model>{}, [] {
    mamori::engine::Options o;
    o.explain = false;
    o.encrypted_documents_are_suspicious = true;
    o.limits.max_seconds = 20;
    return o;
  }());
  const auto r = scanner.scan_bytes(mamori::ByteView(data, size), "fuzz");
  check(r.size == size);
  return 0;
}
