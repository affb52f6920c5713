// archive::for_each_entry / read_entry over archives built at test time (tests/support/archive_builder).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "formats/archive/archive.hpp"
#include "support/archive_builder.hpp"

namespace mamori::archive {
namespace {

using test::Blob;
using test::blob;

struct Seen {
  std::map<std::string, std::string> data;  // name -> bytes as string
  std::vector<Entry> entries;
};

Result<Summary> walk(const Blob& b, Seen& seen, ReadOptions opt = {}) {
  return for_each_entry(ByteView(b.data(), b.size()), opt, [&](const Entry& e, ByteView d) {
    seen.entries.push_back(e);
    seen.data[e.name] = std::string(reinterpret_cast<const char*>(d.data()), d.size());
    return true;
  });
}

const std::vector<test::ZipItem> kTwo = {{"a.txt", blob("hello archive"), true}, {"dir/b.bin", blob("second entry"), false}};

TEST(ArchiveReader, HandWrittenZip) {
  Seen s;
  auto r = walk(test::make_zip(kTwo), s);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->entries, 2u);
  EXPECT_EQ(s.data["a.txt"], "hello archive");
  EXPECT_EQ(s.data["dir/b.bin"], "second entry");
  EXPECT_EQ(r->stop, Stop::none);
  EXPECT_TRUE(r->anomalies.empty());
}

TEST(ArchiveReader, EveryLibarchiveFormat) {
  struct Case {
    std::string format, filter, expect_filter;
  };
  for (const Case& c : std::vector<Case>{{"zip", "", ""},
                                         {"7zip", "", ""},
                                         {"ustar", "", ""},
                                         {"ustar", "gzip", "gzip"},
                                         {"ustar", "bzip2", "bzip2"},
                                         {"ustar", "xz", "xz"},
                                         {"iso9660", "", ""},
                                         {"cpio", "", ""}}) {
    SCOPED_TRACE(c.format + "+" + c.filter);
    Seen s;
    auto r = walk(test::write_archive(c.format, c.filter, kTwo), s);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(s.data["a.txt"], "hello archive");
    EXPECT_EQ(s.data["dir/b.bin"], "second entry");
    if (!c.expect_filter.empty()) {
      ASSERT_EQ(r->filters.size(), 1u);
      EXPECT_EQ(r->filters[0], c.expect_filter);
    }
  }
}

TEST(ArchiveReader, BareCompressedStreamIsOneEntry) {
  for (const std::string filter : {"gzip", "bzip2", "xz"}) {
    SCOPED_TRACE(filter);
    Seen s;
    auto r = walk(test::write_archive("raw", filter, {{"x", blob("just one stream of text"), true}}), s);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->entries, 1u);
    EXPECT_EQ(s.data["data"], "just one stream of text");
  }
}

TEST(ArchiveReader, NotAnArchive) {
  const Blob junk = blob("this is plain text and no archive at all, not even compressed");
  Seen s;
  auto r = walk(junk, s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::not_this_format);
  EXPECT_FALSE(walk(Blob{}, s).ok());
}

TEST(ArchiveReader, PasswordZipCryptoAndAes) {
  for (const std::string enc : {"traditional", "aes128", "aes256"}) {
    SCOPED_TRACE(enc);
    const Blob z = test::write_archive("zip", "", kTwo, "zip:encryption=" + enc, "s3cret-pw");
    {
      Seen s;
      auto r = walk(z, s);
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(r->encrypted_entries, 2u);
      EXPECT_EQ(r->unopened_encrypted, 2u);
      EXPECT_TRUE(s.data["a.txt"].empty());
      EXPECT_FALSE(s.entries[0].opened);
    }
    ReadOptions opt;
    opt.passwords = {"infected", "wrong1", "s3cret-pw", "later"};
    Seen s;
    auto r = walk(z, s, opt);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->unopened_encrypted, 0u);
    EXPECT_EQ(s.data["a.txt"], "hello archive");
    EXPECT_EQ(s.data["dir/b.bin"], "second entry");
    EXPECT_EQ(r->password, "s3cret-pw");
    EXPECT_EQ(s.entries[0].password, "s3cret-pw");
    EXPECT_EQ(s.entries[1].password, "s3cret-pw");
  }
}

TEST(ArchiveReader, ZipCryptoFalseCheckByteIsRetried) {
  // With ~1/256 of wrong passwords passing ZipCrypto's check byte, 2000 candidates before the right one make a
  // false match all but certain; the entry must still open.
  const Blob z = test::write_archive("zip", "", {{"big.txt", Blob(20000, 'q'), true}}, "zip:encryption=traditional", "right");
  ReadOptions opt;
  for (int i = 0; i < 2000; ++i) opt.passwords.push_back("wrong" + std::to_string(i));
  opt.passwords.push_back("right");
  Seen s;
  auto r = walk(z, s, opt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(s.data["big.txt"], std::string(20000, 'q'));
  EXPECT_EQ(s.entries[0].password, "right");
}

TEST(ArchiveReader, PaddingSinkKeepsSmallRunsExactAndCollapsesLarge) {
  // Exact below the cap: offsets after an inner run do not move.
  PaddingSink exact(64 << 10, 1 << 20, 16, true);
  Blob in = blob("HEAD");
  in.insert(in.end(), 100000, 0);
  in.insert(in.end(), {'T', 'A', 'I', 'L'});
  exact.write(in.data(), 50000);
  exact.write(in.data() + 50000, in.size() - 50000);
  exact.finish();
  EXPECT_EQ(exact.data(), in);
  EXPECT_EQ(exact.padding_bytes(), 100000u);
  EXPECT_EQ(exact.collapsed_bytes(), 0u);
  EXPECT_EQ(exact.content_bytes(), 8u);

  // Over the cap: the run shrinks to `keep` bytes plus less than 1 KiB (only whole KiB are dropped, so that the
  // byte pass's 1 KiB blocks after the run keep their alignment), the tail survives.
  PaddingSink small(64 << 10, 1000, 16, true);
  small.write(in.data(), in.size());
  small.finish();
  EXPECT_EQ(small.collapsed_bytes(), (100000u - 16u) / 1024 * 1024);
  EXPECT_EQ(small.collapsed_bytes() % 1024, 0u);
  EXPECT_EQ(small.data().size(), 4u + (100000u - small.collapsed_bytes()) + 4u);
  EXPECT_LT(small.data().size(), 4u + 16u + 1024u + 4u);
  EXPECT_EQ(std::string(small.data().end() - 4, small.data().end()), "TAIL");

  // A run shorter than the threshold is content, not padding.
  PaddingSink none(64 << 10, 1000, 16, true);
  const Blob shortrun(1000, 0x41);
  none.write(shortrun.data(), shortrun.size());
  none.finish();
  EXPECT_EQ(none.padding_bytes(), 0u);
  EXPECT_EQ(none.data(), shortrun);
}

TEST(ArchiveReader, PaddedEntryNeverMaterialisesThePadding) {
  const Blob head = blob("%PDF-1.7 real content before the padding");
  const Blob z = test::make_padded_zip("doc.pdf", head, 300ull << 20);
  ReadOptions opt;
  Seen s;
  auto r = walk(z, s, opt);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(s.entries.size(), 1u);
  const Entry& e = s.entries[0];
  EXPECT_EQ(e.raw_bytes, head.size() + (300ull << 20));
  EXPECT_EQ(e.padding_bytes, 300ull << 20);
  EXPECT_GT(e.collapsed_bytes, 299ull << 20);
  EXPECT_LT(s.data["doc.pdf"].size(), head.size() + opt.collapsed_run_keep + 1024);
  EXPECT_EQ(s.data["doc.pdf"].substr(0, head.size()), std::string(head.begin(), head.end()));
  EXPECT_EQ(r->stop, Stop::none);  // padding does not count towards the ratio
}

TEST(ArchiveReader, OverlapBombStopsOnRatio) {
  const Blob z = test::make_overlap_bomb(200, 1 << 20, "0123456789abcdef0123456789ABCDEF-");
  ReadOptions opt;
  opt.max_ratio = 100;
  Seen s;
  auto r = walk(z, s, opt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stop, Stop::ratio);
  EXPECT_LT(s.entries.size(), 200u);
  // What was read is the kernel plus the quoted headers: the construction is what the bomb claims.
  ASSERT_FALSE(s.entries.empty());
  EXPECT_TRUE(s.entries[0].opened) << s.entries[0].error;
  EXPECT_GT(s.entries[0].raw_bytes, 1u << 20);
}

TEST(ArchiveReader, PaddingSinkBulkCopyKeepsRunsAcrossWrites) {
  // Content is copied in bulk between stretches of equal bytes; runs that straddle writes must still be measured
  // exactly, whatever the write sizes.
  Blob in;
  std::uint32_t x = 12345;
  auto noise = [&](std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      x = x * 1103515245u + 12345u;
      in.push_back(static_cast<std::uint8_t>(x >> 16));
    }
  };
  noise(1000);
  in.insert(in.end(), 7, 'a');
  noise(3);
  in.insert(in.end(), 15, 'b');
  noise(10);
  in.insert(in.end(), 70000, 0);  // padding
  in.insert(in.end(), 65535, 'A');  // one short of padding
  in.insert(in.end(), 65536, 'B');  // padding
  noise(5000);
  for (const std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{8}, std::size_t{4097}, std::size_t{100001}}) {
    SCOPED_TRACE(chunk);
    PaddingSink sink(64 << 10, 1 << 30, 16, true);
    for (std::size_t i = 0; i < in.size(); i += chunk) sink.write(in.data() + i, std::min(chunk, in.size() - i));
    sink.finish();
    EXPECT_EQ(sink.data(), in);
    EXPECT_EQ(sink.raw_bytes(), in.size());
    EXPECT_EQ(sink.padding_bytes(), 70000u + 65536u);
    EXPECT_EQ(sink.content_bytes(), in.size() - 70000u - 65536u);
  }
}

TEST(ArchiveReader, DecompressionBudgetCutsTheEntryAndKeepsItsHead) {
  const Blob head = blob("MZ real content in front of the padding");
  const Blob z = test::make_padded_zip("a.exe", head, 100ull << 20);
  ReadOptions opt;
  opt.max_raw_total = 16ull << 20;
  Seen s;
  auto r = walk(z, s, opt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stop, Stop::raw_bytes);
  ASSERT_EQ(s.entries.size(), 1u);
  EXPECT_TRUE(s.entries[0].truncated);
  EXPECT_EQ(s.entries[0].raw_bytes, 16ull << 20);  // never passed
  EXPECT_EQ(r->raw_bytes, 16ull << 20);
  EXPECT_EQ(s.data["a.exe"].substr(0, head.size()), std::string(head.begin(), head.end()));

  // The same budget coming from the caller, asked before each entry.
  ReadOptions shared;
  shared.shared = [] { return ReadOptions::Shared{8ull << 20, UINT64_MAX, UINT64_MAX}; };
  Seen s2;
  auto r2 = walk(z, s2, shared);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->stop, Stop::raw_bytes);
  EXPECT_EQ(s2.entries.at(0).raw_bytes, 8ull << 20);
}

TEST(ArchiveReader, PaddingFlushedAtTheEndStaysWithinTheEntryCap) {
  // fuzz_archive, crash-8047bfa7: a run of padding still pending when the entry ended was flushed after the last
  // cap check, so the entry came out larger than max_entry_bytes.
  Blob head;
  for (int i = 0; i < 1000; ++i) head.push_back(static_cast<std::uint8_t>(i * 37 + 11));
  const Blob z = test::make_padded_zip("a.bin", head, 200u << 10);
  ReadOptions opt;
  opt.max_entry_bytes = 2000;
  opt.exact_padding_cap = 1000;
  opt.collapsed_run_keep = 4096;
  Seen s;
  auto r = walk(z, s, opt);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(s.entries.size(), 1u);
  EXPECT_LE(s.data["a.bin"].size(), 2000u);
  EXPECT_TRUE(s.entries[0].truncated);
  EXPECT_EQ(s.data["a.bin"].substr(0, head.size()), std::string(head.begin(), head.end()));
  EXPECT_EQ(r->extracted_bytes, s.data["a.bin"].size());
}

TEST(ArchiveReader, SharedRatioBudgetStopsInsideTheFirstEntry) {
  // The whole tree's ratio budget is nearly spent: the first bomb entry stops within one slice of it.
  const Blob z = test::make_overlap_bomb(50, 8 << 20, "0123456789abcdef0123456789ABCDEF-");
  ReadOptions opt;
  opt.shared = [] { return ReadOptions::Shared{UINT64_MAX, 2u << 20, UINT64_MAX}; };
  Seen s;
  auto r = walk(z, s, opt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stop, Stop::ratio);
  ASSERT_EQ(s.entries.size(), 1u);
  EXPECT_TRUE(s.entries[0].truncated);
  EXPECT_LE(s.entries[0].raw_bytes, (2u << 20) + limits::stream_slice);
}

TEST(ArchiveReader, EntryAndTotalLimits) {
  std::vector<test::ZipItem> many;
  for (int i = 0; i < 50; ++i) many.push_back({"e" + std::to_string(i), blob("x" + std::to_string(i)), false});
  const Blob z = test::make_zip(many);
  ReadOptions opt;
  opt.max_entries = 10;
  Seen s;
  auto r = walk(z, s, opt);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stop, Stop::entries);
  EXPECT_EQ(s.entries.size(), 10u);

  ReadOptions opt2;
  opt2.max_entry_bytes = 1000;
  Seen s2;
  auto r2 = walk(test::make_zip({{"big", Blob(5000, 'z'), true}}), s2, opt2);
  ASSERT_TRUE(r2.ok());
  EXPECT_TRUE(s2.entries[0].truncated);
  EXPECT_LE(s2.data["big"].size(), 5000u);

  ReadOptions opt3;
  opt3.max_total_bytes = 10;
  Seen s3;
  auto r3 = walk(z, s3, opt3);
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(r3->stop, Stop::total_bytes);
}

TEST(ArchiveReader, MalformedZipsDegrade) {
  const Blob good = test::make_zip(kTwo);
  // Truncated in the middle of the second entry: no central directory, the streaming reader gets the first.
  {
    Blob cut(good.begin(), good.begin() + static_cast<long>(good.size() / 2));
    Seen s;
    auto r = walk(cut, s);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(s.data["a.txt"], "hello archive");
  }
  // Central directory entry with a garbage local-header offset.
  {
    Blob bad = good;
    const std::string sig = "PK\x01\x02";
    auto it = std::search(bad.begin(), bad.end(), sig.begin(), sig.end());
    ASSERT_NE(it, bad.end());
    const auto off = static_cast<std::size_t>(it - bad.begin()) + 42;
    bad[off] = 0xff;
    bad[off + 1] = 0xff;
    bad[off + 2] = 0xff;
    Seen s;
    auto r = walk(bad, s);
    if (r.ok()) {
      EXPECT_FALSE(r->anomalies.empty());
    }
  }
  // A flipped byte inside deflated data: a data error on that entry, the walk goes on.
  {
    Blob bad = test::make_zip({{"a.txt", Blob(4000, 'a'), true}, {"b.txt", blob("fine"), false}});
    bad[40] ^= 0x5a;
    bad[41] ^= 0xa5;
    Seen s;
    auto r = walk(bad, s);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(s.data["b.txt"], "fine");
  }
}

// A checksum that does not match the data is reported on that entry, whose bytes are still scanned, and the walk
// goes on: stored and deflated entries, the CRC changed in both the local header and the central directory.
TEST(ArchiveReader, BadCrcOfAnUnencryptedEntryIsADataError) {
  for (const bool deflate : {false, true}) {
    Blob bad = test::make_zip({{"a.txt", blob("checksum me"), deflate}, {"b.txt", blob("fine"), deflate}});
    int patched = 0;
    for (const std::string sig : {std::string("PK\x03\x04"), std::string("PK\x01\x02")}) {
      auto it = std::search(bad.begin(), bad.end(), sig.begin(), sig.end());  // the first entry's header
      ASSERT_NE(it, bad.end());
      const auto crc_at = static_cast<std::size_t>(it - bad.begin()) + (sig[2] == 3 ? 14 : 16);
      bad[crc_at] ^= 0xff;
      ++patched;
    }
    ASSERT_EQ(patched, 2);
    Seen s;
    auto r = walk(bad, s);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->entries, 2u);
    EXPECT_EQ(s.data["a.txt"], "checksum me");
    EXPECT_EQ(s.data["b.txt"], "fine");
    ASSERT_EQ(r->anomalies.size(), 1u) << "deflate=" << deflate;
    EXPECT_EQ(r->anomalies[0].code, AnomalyCode::data_error);
    EXPECT_NE(r->anomalies[0].detail.find("a.txt"), std::string::npos) << r->anomalies[0].detail;
    EXPECT_NE(r->anomalies[0].detail.find("CRC"), std::string::npos) << r->anomalies[0].detail;
  }
}

TEST(ArchiveReader, ReadEntryForOoxmlParts) {
  const Blob z = test::make_zip({{"[Content_Types].xml", blob("<Types/>"), true}, {"word/document.xml", blob("<w:document/>"), true}});
  auto d = read_entry(ByteView(z.data(), z.size()), "/Word/Document.xml");
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(std::string(d->begin(), d->end()), "<w:document/>");
  auto missing = read_entry(ByteView(z.data(), z.size()), "word/vbaProject.bin");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::truncated);
  auto big = read_entry(ByteView(z.data(), z.size()), "word/document.xml", 4);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().code, ErrorCode::limit_exceeded);
  auto names = list_entries(ByteView(z.data(), z.size()));
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->size(), 2u);
}

}  // namespace
}  // namespace mamori::archive
