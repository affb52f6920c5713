// libFuzzer target for the document features: featurize_office on the raw input (typed from its content like the
// engine does: OLE2 with VBA/BIFF/encryption, OOXML through libarchive, RTF, PDF), as the engine handler calls it.
//
// Checks: the vector always has the schema's length, embedded objects and matching lines respect office_limits,
// and a decrypted package is only reported together with an encryption kind.
#include <cstddef>
#include <cstdint>

#include "check.hpp"
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
  return 0;
}
