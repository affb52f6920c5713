// Empty-hive template from the published regf layout, then libhivex for everything else.
#include "support/hive_builder.hpp"

#include <hivex.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace mamori::test {

namespace {

void put16(std::vector<std::uint8_t>& b, std::size_t off, std::uint16_t v) {
  b[off] = static_cast<std::uint8_t>(v);
  b[off + 1] = static_cast<std::uint8_t>(v >> 8);
}
void put32(std::vector<std::uint8_t>& b, std::size_t off, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) b[off + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
}
void put64(std::vector<std::uint8_t>& b, std::size_t off, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) b[off + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(v >> (8 * i));
}
std::uint32_t get32(const std::vector<std::uint8_t>& b, std::size_t off) {
  return static_cast<std::uint32_t>(b[off]) | static_cast<std::uint32_t>(b[off + 1]) << 8 |
         static_cast<std::uint32_t>(b[off + 2]) << 16 | static_cast<std::uint32_t>(b[off + 3]) << 24;
}

constexpr std::size_t kBase = 0x1000;           // hbin data starts after the 4 KiB base block
constexpr std::uint64_t kFiletime = 0x01D6000000000000ull;  // some day in 2020

}  // namespace

std::vector<std::uint8_t> empty_hive(std::string_view root_name) {
  std::vector<std::uint8_t> h(kBase + 0x1000, 0);
  // Base block.
  std::memcpy(h.data(), "regf", 4);
  put32(h, 4, 1);            // primary sequence number
  put32(h, 8, 1);            // secondary sequence number (equal: the hive was written completely)
  put64(h, 12, kFiletime);   // last written
  put32(h, 20, 1);           // major version
  put32(h, 24, 3);           // minor version
  put32(h, 28, 0);           // file type: primary
  put32(h, 32, 1);           // file format: direct memory load
  put32(h, 36, 0x20);        // root cell offset, relative to the first hbin
  put32(h, 40, 0x1000);      // size of the hbin data
  put32(h, 44, 1);           // clustering factor
  std::uint32_t sum = 0;     // XOR of the first 127 dwords
  for (std::size_t i = 0; i < 508; i += 4) sum ^= get32(h, i);
  if (sum == 0xFFFFFFFFu) sum = 0xFFFFFFFEu;
  if (sum == 0) sum = 1;
  put32(h, 508, sum);

  // hbin header.
  std::memcpy(h.data() + kBase, "hbin", 4);
  put32(h, kBase + 4, 0);       // offset of this hbin from the first
  put32(h, kBase + 8, 0x1000);  // size of this hbin
  put64(h, kBase + 20, kFiletime);

  // Root nk cell at hbin offset 0x20. Allocated cells carry a negative size.
  const std::size_t nk = kBase + 0x20;
  const std::size_t nk_size = (4 + 0x4C + root_name.size() + 7) & ~std::size_t{7};
  const std::size_t sk_rel = 0x20 + nk_size;
  put32(h, nk, static_cast<std::uint32_t>(-static_cast<std::int32_t>(nk_size)));
  std::memcpy(h.data() + nk + 4, "nk", 2);
  put16(h, nk + 6, 0x2C);            // KEY_HIVE_ENTRY | KEY_NO_DELETE | KEY_COMP_NAME
  put64(h, nk + 8, kFiletime);
  put32(h, nk + 20, 0xFFFFFFFFu);    // parent: none
  put32(h, nk + 24, 0);              // subkeys
  put32(h, nk + 28, 0);              // volatile subkeys
  put32(h, nk + 32, 0xFFFFFFFFu);    // subkey list
  put32(h, nk + 36, 0xFFFFFFFFu);    // volatile subkey list
  put32(h, nk + 40, 0);              // values
  put32(h, nk + 44, 0xFFFFFFFFu);    // value list
  put32(h, nk + 48, static_cast<std::uint32_t>(sk_rel));  // security cell
  put32(h, nk + 52, 0xFFFFFFFFu);    // class name
  put16(h, nk + 4 + 0x48, static_cast<std::uint16_t>(root_name.size()));
  std::memcpy(h.data() + nk + 4 + 0x4C, root_name.data(), root_name.size());

  // sk cell: a self-relative security descriptor with no owner, group or ACLs. Children inherit it (libhivex
  // refuses to add a key under a parent without one).
  const std::size_t sk = kBase + sk_rel;
  const std::size_t sd_len = 20;
  const std::size_t sk_size = (4 + 20 + sd_len + 7) & ~std::size_t{7};
  put32(h, sk, static_cast<std::uint32_t>(-static_cast<std::int32_t>(sk_size)));
  std::memcpy(h.data() + sk + 4, "sk", 2);
  put32(h, sk + 8, static_cast<std::uint32_t>(sk_rel));   // next sk: itself (the only one)
  put32(h, sk + 12, static_cast<std::uint32_t>(sk_rel));  // previous sk: itself
  put32(h, sk + 16, 1);                                   // reference count
  put32(h, sk + 20, static_cast<std::uint32_t>(sd_len));
  h[sk + 24] = 1;                                         // revision
  put16(h, sk + 26, 0x8000);                              // SE_SELF_RELATIVE

  // The rest of the hbin is one free cell.
  const std::size_t free_at = sk + sk_size;
  put32(h, free_at, static_cast<std::uint32_t>(kBase + 0x1000 - free_at));
  return h;
}

HiveValue sz_value(std::string name, std::string_view s, std::uint32_t type) {
  HiveValue v{std::move(name), type, {}};
  for (char c : s) {
    v.data.push_back(static_cast<std::uint8_t>(c));
    v.data.push_back(0);
  }
  v.data.push_back(0);
  v.data.push_back(0);
  return v;
}

HiveValue dword_value(std::string name, std::uint32_t d) {
  HiveValue v{std::move(name), 4, {}};
  for (int i = 0; i < 4; ++i) v.data.push_back(static_cast<std::uint8_t>(d >> (8 * i)));
  return v;
}

HiveValue binary_value(std::string name, std::vector<std::uint8_t> data) {
  return HiveValue{std::move(name), 3, std::move(data)};
}

bool write_hive(const std::string& path, const HiveSpec& spec, std::string* why) {
  auto fail = [&](const std::string& m) {
    if (why) *why = m + ": " + std::strerror(errno);
    return false;
  };
  {
    const auto tmpl = empty_hive();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(tmpl.data()), static_cast<std::streamsize>(tmpl.size()));
    if (!out) return fail("cannot write template");
  }
  hive_h* h = hivex_open(path.c_str(), HIVEX_OPEN_WRITE);
  if (h == nullptr) return fail("hivex_open refused the template");
  for (const auto& [key, values] : spec) {
    hive_node_h node = hivex_root(h);
    std::size_t start = 0;
    while (start < key.size()) {
      std::size_t end = key.find('\\', start);
      if (end == std::string::npos) end = key.size();
      const std::string comp = key.substr(start, end - start);
      start = end + 1;
      if (comp.empty()) continue;
      hive_node_h child = hivex_node_get_child(h, node, comp.c_str());
      if (child == 0) child = hivex_node_add_child(h, node, comp.c_str());
      if (child == 0) {
        hivex_close(h);
        return fail("hivex_node_add_child " + comp);
      }
      node = child;
    }
    std::vector<hive_set_value> vals;
    for (const HiveValue& v : values)
      vals.push_back(hive_set_value{const_cast<char*>(v.name.c_str()), static_cast<hive_type>(v.type), v.data.size(),
                                    reinterpret_cast<char*>(const_cast<std::uint8_t*>(v.data.data()))});
    if (!vals.empty() && hivex_node_set_values(h, node, vals.size(), vals.data(), 0) != 0) {
      hivex_close(h);
      return fail("hivex_node_set_values " + key);
    }
  }
  if (hivex_commit(h, nullptr, 0) != 0) {
    hivex_close(h);
    return fail("hivex_commit");
  }
  hivex_close(h);
  return true;
}

}  // namespace mamori::test
