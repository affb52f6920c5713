#include "common/hash.hpp"

#include <openssl/evp.h>

#include <array>

#include "common/mapped_file.hpp"

namespace mamori {

std::string sha256_hex(ByteView b) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int len = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  for_each_chunk(b, 8u << 20, [&](ByteView c) { EVP_DigestUpdate(ctx, c.data(), static_cast<std::size_t>(c.size())); });
  EVP_DigestFinal_ex(ctx, md.data(), &len);
  EVP_MD_CTX_free(ctx);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    out.push_back(hex[md[i] >> 4]);
    out.push_back(hex[md[i] & 15]);
  }
  return out;
}

}  // namespace mamori
