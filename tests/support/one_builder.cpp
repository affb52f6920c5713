#include "support/one_builder.hpp"

namespace mamori::test {

namespace {

const std::uint8_t kSection[16] = {0xE4, 0x52, 0x5C, 0x7B, 0x8C, 0xD8, 0xA7, 0x4D,
                                   0xAE, 0xB1, 0x53, 0x78, 0xD0, 0x29, 0x96, 0xD3};
const std::uint8_t kHeader[16] = {0xE7, 0x16, 0xE3, 0xBD, 0x65, 0x26, 0x11, 0x45,
                                  0xA4, 0xC4, 0x8D, 0x4D, 0x0B, 0x7A, 0x9E, 0xAC};
const std::uint8_t kFooter[16] = {0x22, 0xA7, 0xFB, 0x71, 0x79, 0x0F, 0x0B, 0x4A,
                                  0xBB, 0x13, 0x89, 0x92, 0x56, 0x42, 0x6B, 0x24};

void put(std::vector<std::uint8_t>& b, const std::uint8_t* p, std::size_t n) { b.insert(b.end(), p, p + n); }
void u64(std::vector<std::uint8_t>& b, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

}  // namespace

std::vector<std::uint8_t> text_bytes(const std::string& s) { return {s.begin(), s.end()}; }

std::vector<std::uint8_t> build_one(const OneSpec& s) {
  std::vector<std::uint8_t> b;
  if (s.header) put(b, kSection, 16);
  else b.resize(16, 0x33);
  b.resize(1024, 0);  // rest of the header and the revision store, as zeros and a few non-zero bytes
  for (std::size_t i = 100; i < 1024; i += 37) b[i] = static_cast<std::uint8_t>(i);
  for (const auto& n : s.names) {
    b.push_back(0x1C);
    b.push_back(0x00);
    for (unsigned char c : n) b.push_back(c), b.push_back(0);
    b.push_back(0), b.push_back(0);
  }
  while (b.size() % 8) b.push_back(0);
  for (const auto& o : s.objects) {
    put(b, kHeader, 16);
    u64(b, o.declared_size == UINT64_MAX ? o.data.size() : o.declared_size);
    b.insert(b.end(), 12, 0);
    b.insert(b.end(), o.data.begin(), o.data.end());
    while (b.size() % 8) b.push_back(0);
    if (o.footer) put(b, kFooter, 16);
    b.insert(b.end(), 64, 0);
  }
  return b;
}

}  // namespace mamori::test
