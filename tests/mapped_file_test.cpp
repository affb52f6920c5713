#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/mapped_file.hpp"

namespace fs = std::filesystem;

TEST(MappedFile, FileTruncatedWhileMappedReadsZerosInsteadOfCrashing) {
  const fs::path p = fs::temp_directory_path() / ("mamori-trunc-" + std::to_string(::getpid()));
  {
    std::ofstream out(p, std::ios::binary);
    std::string block(1 << 20, 'A');
    for (int i = 0; i < 4; ++i) out << block;
  }
  auto m = mamori::MappedFile::open(p.string());
  ASSERT_TRUE(m.ok());
  fs::resize_file(p, 4096);  // another process truncates the file mid-scan
  const auto v = m->view();
  std::uint64_t sum = 0;
  for (std::uint64_t off = 0; off < v.size(); off += 4096) sum += v.data()[off];
  EXPECT_EQ(sum, static_cast<std::uint64_t>('A'));  // the first page is still the file; the rest reads as zeros
  fs::remove(p);
}

TEST(MappedFile, ErrorsAreValues) {
  auto missing = mamori::MappedFile::open("/nonexistent/file");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, mamori::ErrorCode::io);
  auto dir = mamori::MappedFile::open("/tmp");
  ASSERT_FALSE(dir.ok());
  auto empty = mamori::MappedFile::open("/dev/null");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->size(), 0u);
}
