// Scratch folders and file contents for tests that work on real files.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

namespace mamori::test {

/// A fresh, empty folder for the running test: <tmp>/<prefix>-<pid>-<test name>, removed first if it was left over.
std::filesystem::path fresh_test_dir(const std::string& prefix);

/// Writes `content` to `p`, creating its folders; returns `p`.
std::filesystem::path write_file(const std::filesystem::path& p, const std::string& content);

/// The whole file (empty when it cannot be read).
std::string slurp(const std::filesystem::path& p);

/// `n` pseudo-random bytes, the same for the same seed.
std::string random_bytes(std::size_t n, unsigned seed);

}  // namespace mamori::test
