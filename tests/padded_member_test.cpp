// A padded loader inside an archive must be described as it is on disk. The archive reader collapses long padding
// runs to keep memory bounded; the PE features of the collapsed member are restored to those of the whole file, so
// that the model (trained on whole files) scores the zipped copy as it scores the original.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "features/pe_features.hpp"
#include "formats/archive/archive.hpp"
#include "support/archive_builder.hpp"
#include "support/pe_builder.hpp"

namespace mamori {
namespace {

std::vector<std::uint8_t> loader_with_overlay() {
  test::PeSpec s;
  s.dll = true;
  std::mt19937 rng(7);
  std::vector<std::uint8_t> code(16384);
  for (auto& b : code) b = static_cast<std::uint8_t>(rng());
  s.sections.push_back({".text", test::scn_code, code});
  s.imports.push_back({"KERNEL32.dll", {test::ImportFn::by_name("VirtualAlloc"), test::ImportFn::by_name("LoadLibraryA")}});
  s.overlay.assign(3000, 0);
  for (std::size_t i = 0; i < 1000; ++i) s.overlay[i] = static_cast<std::uint8_t>(rng());  // content, then zeros
  return test::build_pe(s).bytes;
}

struct Member {
  std::vector<std::uint8_t> bytes;
  archive::Entry entry;
};

Member unzip_one(const test::Blob& zip) {
  Member m;
  auto r = archive::for_each_entry(ByteView(zip.data(), zip.size()), archive::ReadOptions{}, [&](const archive::Entry& e, ByteView d) {
    m.entry = e;
    m.bytes.assign(d.data(), d.data() + d.size());
    return true;
  });
  EXPECT_TRUE(r.ok());
  return m;
}

TEST(PaddedMember, CollapsedTailPaddingGivesTheWholeFilesVector) {
  const auto pe = loader_with_overlay();
  // More padding than ReadOptions::exact_padding_cap (64 MiB) so that the reader collapses it, and not a
  // multiple of 1 KiB so that the block alignment of the end moves unless the reader drops whole KiB.
  const std::uint64_t zeros = (80ull << 20) + 777;
  std::vector<std::uint8_t> whole = pe;
  whole.resize(pe.size() + zeros, 0);
  const auto m = unzip_one(test::make_padded_zip("loader.dll", pe, zeros));
  ASSERT_GT(m.entry.collapsed_bytes, 0u);
  ASSERT_EQ(m.bytes.size() + m.entry.collapsed_bytes, whole.size());

  const auto ref = features::featurize_pe(ByteView(whole.data(), whole.size()));
  const auto restored = features::featurize_pe(ByteView(m.bytes.data(), m.bytes.size()), m.entry.collapsed_bytes);
  const auto plain = features::featurize_pe(ByteView(m.bytes.data(), m.bytes.size()));
  ASSERT_EQ(ref.x.size(), restored.x.size());
  const auto& names = features::pe_schema().features;
  std::size_t differ_plain = 0;
  // Missing values are NaN in the vector: equal when both are missing.
  auto same = [](float a, float b) { return (std::isnan(a) && std::isnan(b)) || std::abs(a - b) <= 1e-5f; };
  for (std::size_t i = 0; i < ref.x.size(); ++i) {
    EXPECT_TRUE(same(restored.x[i], ref.x[i])) << names[i].name << ": " << restored.x[i] << " vs " << ref.x[i];
    if (!same(plain.x[i], ref.x[i])) ++differ_plain;
  }
  // Without the restoration the sizes, padding and overlay groups describe a different file.
  EXPECT_GT(differ_plain, 3u);
}

TEST(PaddedMember, InnerCollapseRestoresTheSizesOnly) {
  // Padding that is not at the end: offsets after it moved, so only the sizes are put back.
  const auto pe = loader_with_overlay();
  std::vector<std::uint8_t> bytes = pe;
  bytes.resize(pe.size() + (1 << 20), 0);
  bytes.push_back(0x41);
  const auto plain = features::featurize_pe(ByteView(bytes.data(), bytes.size()));
  const auto restored = features::featurize_pe(ByteView(bytes.data(), bytes.size()), 5u << 20);
  EXPECT_EQ(restored.pe.file_size, bytes.size() + (5u << 20));
  EXPECT_EQ(restored.pe.overlay_size, plain.pe.overlay_size);
}

}  // namespace
}  // namespace mamori
