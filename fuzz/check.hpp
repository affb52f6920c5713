// A promise check for fuzz harnesses: a broken promise aborts with its line, so libFuzzer saves the input.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace mamori::fuzz {

inline void check_at(bool ok, const char* file, int line) {
  if (!ok) {
    std::fprintf(stderr, "broken promise at %s:%d\n", file, line);
    std::abort();
  }
}

}  // namespace mamori::fuzz

#define check(ok) ::mamori::fuzz::check_at((ok), __FILE__, __LINE__)
