#include "support/archive_builder.hpp"

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <stdexcept>

namespace mamori::test {

Blob blob(std::string_view s) { return Blob(s.begin(), s.end()); }

namespace {

void put16(Blob& b, std::uint32_t v) {
  b.push_back(static_cast<std::uint8_t>(v));
  b.push_back(static_cast<std::uint8_t>(v >> 8));
}
void put32(Blob& b, std::uint32_t v) {
  put16(b, v & 0xffff);
  put16(b, v >> 16);
}
void append(Blob& b, const Blob& x) { b.insert(b.end(), x.begin(), x.end()); }
void append(Blob& b, std::string_view x) { b.insert(b.end(), x.begin(), x.end()); }

std::uint32_t crc(const Blob& b) {
  return static_cast<std::uint32_t>(crc32(0, b.data(), static_cast<uInt>(b.size())));
}

// Raw deflate (no zlib header), as zip stores it.
Blob deflate_raw(const Blob& in) {
  z_stream z{};
  if (deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("deflateInit2");
  Blob out(deflateBound(&z, static_cast<uLong>(in.size())) + 16);
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

struct Header {
  std::string name;
  std::uint16_t method = 0;
  std::uint32_t crc = 0, csize = 0, usize = 0, offset = 0;
};

Blob local_header(const Header& h) {
  Blob b;
  put32(b, 0x04034b50);
  put16(b, 20);
  put16(b, 0);
  put16(b, h.method);
  put16(b, 0);
  put16(b, 0x21);
  put32(b, h.crc);
  put32(b, h.csize);
  put32(b, h.usize);
  put16(b, static_cast<std::uint32_t>(h.name.size()));
  put16(b, 0);
  append(b, h.name);
  return b;
}

Blob central_directory(const std::vector<Header>& hs, std::uint32_t cd_offset) {
  Blob cd;
  for (const auto& h : hs) {
    put32(cd, 0x02014b50);
    put16(cd, 20);
    put16(cd, 20);
    put16(cd, 0);
    put16(cd, h.method);
    put16(cd, 0);
    put16(cd, 0x21);
    put32(cd, h.crc);
    put32(cd, h.csize);
    put32(cd, h.usize);
    put16(cd, static_cast<std::uint32_t>(h.name.size()));
    put16(cd, 0);
    put16(cd, 0);
    put16(cd, 0);
    put16(cd, 0);
    put32(cd, 0);
    put32(cd, h.offset);
    append(cd, h.name);
  }
  Blob end;
  put32(end, 0x06054b50);
  put16(end, 0);
  put16(end, 0);
  put16(end, static_cast<std::uint32_t>(hs.size()));
  put16(end, static_cast<std::uint32_t>(hs.size()));
  put32(end, static_cast<std::uint32_t>(cd.size()));
  put32(end, cd_offset);
  put16(end, 0);
  append(cd, end);
  return cd;
}

}  // namespace

Blob make_zip(const std::vector<ZipItem>& items) {
  Blob out;
  std::vector<Header> hs;
  for (const auto& it : items) {
    Header h;
    h.name = it.name;
    h.method = it.deflate ? 8 : 0;
    h.crc = crc(it.data);
    h.usize = static_cast<std::uint32_t>(it.data.size());
    const Blob body = it.deflate ? deflate_raw(it.data) : it.data;
    h.csize = static_cast<std::uint32_t>(body.size());
    h.offset = static_cast<std::uint32_t>(out.size());
    append(out, local_header(h));
    append(out, body);
    hs.push_back(h);
  }
  append(out, central_directory(hs, static_cast<std::uint32_t>(out.size())));
  return out;
}

namespace {

struct WriteSink {
  Blob* out;
};
la_ssize_t write_cb(struct archive*, void* d, const void* buf, size_t n) {
  auto* s = static_cast<WriteSink*>(d);
  const auto* p = static_cast<const std::uint8_t*>(buf);
  s->out->insert(s->out->end(), p, p + n);
  return static_cast<la_ssize_t>(n);
}

}  // namespace

Blob write_archive(const std::string& format, const std::string& filter, const std::vector<ZipItem>& items,
                   const std::string& options, const std::string& passphrase) {
  Blob out;
  WriteSink sink{&out};
  struct archive* a = archive_write_new();
  if (archive_write_set_format_by_name(a, format.c_str()) != ARCHIVE_OK)
    throw std::runtime_error("format " + format + ": " + archive_error_string(a));
  if (!filter.empty() && archive_write_add_filter_by_name(a, filter.c_str()) != ARCHIVE_OK)
    throw std::runtime_error("filter " + filter + ": " + archive_error_string(a));
  if (!options.empty() && archive_write_set_options(a, options.c_str()) != ARCHIVE_OK)
    throw std::runtime_error("options " + options + ": " + archive_error_string(a));
  if (!passphrase.empty()) archive_write_set_passphrase(a, passphrase.c_str());
  // Small blocks, so that the last block is not padded to 10 KiB of zeros.
  archive_write_set_bytes_per_block(a, 512);
  archive_write_set_bytes_in_last_block(a, 1);
  if (archive_write_open(a, &sink, nullptr, &write_cb, nullptr) != ARCHIVE_OK)
    throw std::runtime_error(std::string("open: ") + archive_error_string(a));
  for (const auto& it : items) {
    struct archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, it.name.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, static_cast<la_int64_t>(it.data.size()));
    archive_entry_set_mtime(e, 1700000000, 0);
    if (archive_write_header(a, e) != ARCHIVE_OK) throw std::runtime_error(std::string("header: ") + archive_error_string(a));
    if (!it.data.empty()) archive_write_data(a, it.data.data(), it.data.size());
    archive_entry_free(e);
  }
  if (archive_write_close(a) != ARCHIVE_OK) throw std::runtime_error(std::string("close: ") + archive_error_string(a));
  archive_write_free(a);
  return out;
}

Blob make_padded_zip(const std::string& name, const Blob& head, std::uint64_t zeros) {
  z_stream z{};
  // Run-length matching only: gigabytes of zeros reach deflate's ~1/1000 at a fraction of the full search's time.
  if (deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_RLE) != Z_OK) throw std::runtime_error("deflateInit2");
  Blob body;
  Blob chunk(1 << 20);
  uLong c = crc32(0, head.data(), static_cast<uInt>(head.size()));
  static const Blob zero_block(1 << 20, 0);
  auto pump = [&](const std::uint8_t* p, std::size_t n, int flush) {
    z.next_in = const_cast<Bytef*>(p);
    z.avail_in = static_cast<uInt>(n);
    do {
      z.next_out = chunk.data();
      z.avail_out = static_cast<uInt>(chunk.size());
      deflate(&z, flush);
      body.insert(body.end(), chunk.data(), chunk.data() + (chunk.size() - z.avail_out));
    } while (z.avail_out == 0);
  };
  pump(head.data(), head.size(), Z_NO_FLUSH);
  for (std::uint64_t left = zeros; left > 0;) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, zero_block.size()));
    c = crc32(c, zero_block.data(), static_cast<uInt>(n));
    pump(zero_block.data(), n, Z_NO_FLUSH);
    left -= n;
  }
  pump(nullptr, 0, Z_FINISH);
  deflateEnd(&z);
  Header h;
  h.name = name;
  h.method = 8;
  h.crc = static_cast<std::uint32_t>(c);
  h.csize = static_cast<std::uint32_t>(body.size());
  h.usize = static_cast<std::uint32_t>(head.size() + zeros);
  Blob out = local_header(h);
  append(out, body);
  append(out, central_directory({h}, static_cast<std::uint32_t>(out.size())));
  return out;
}

Blob make_overlap_bomb(unsigned entries, std::uint64_t kernel_bytes, const std::string& pattern) {
  Blob kernel_plain;
  kernel_plain.reserve(static_cast<std::size_t>(kernel_bytes));
  while (kernel_plain.size() < kernel_bytes) kernel_plain.push_back(static_cast<std::uint8_t>(pattern[kernel_plain.size() % pattern.size()]));
  const Blob kernel = deflate_raw(kernel_plain);
  // Headers are built from the last entry back, because each entry's CRC and sizes cover every later header.
  std::vector<Header> hs(entries);
  std::vector<Blob> lfh(entries);
  for (unsigned i = entries; i-- > 0;) {
    Header& h = hs[i];
    char name[16];
    std::snprintf(name, sizeof name, "f%05u", i);
    h.name = name;
    h.method = 8;
    if (i + 1 == entries) {
      h.crc = crc(kernel_plain);
      h.csize = static_cast<std::uint32_t>(kernel.size());
      h.usize = static_cast<std::uint32_t>(kernel_plain.size());
    } else {
      const Blob& next = lfh[i + 1];
      h.crc = static_cast<std::uint32_t>(crc32_combine(crc(next), hs[i + 1].crc, static_cast<z_off_t>(hs[i + 1].usize)));
      h.csize = static_cast<std::uint32_t>(5 + next.size()) + hs[i + 1].csize;
      h.usize = static_cast<std::uint32_t>(next.size()) + hs[i + 1].usize;
    }
    lfh[i] = local_header(h);
  }
  Blob out;
  for (unsigned i = 0; i < entries; ++i) {
    hs[i].offset = static_cast<std::uint32_t>(out.size());
    if (i > 0) {
      // The stored-block header that quotes this local header inside the previous entries' deflate streams.
      const std::uint32_t len = static_cast<std::uint32_t>(lfh[i].size());
      Blob quote = {0x00};
      put16(quote, len);
      put16(quote, ~len & 0xffff);
      // It belongs before the header, so the previous entry's offset bookkeeping already ends here.
      hs[i].offset += static_cast<std::uint32_t>(quote.size());
      append(out, quote);
    }
    append(out, lfh[i]);
  }
  append(out, kernel);
  append(out, central_directory(hs, static_cast<std::uint32_t>(out.size())));
  return out;
}

Blob make_nested_bomb(unsigned layers, unsigned fanout, const Blob& leaf) {
  Blob cur = leaf;
  for (unsigned l = 0; l < layers; ++l) {
    std::vector<ZipItem> items;
    for (unsigned i = 0; i < fanout; ++i)
      items.push_back({(l == 0 ? "leaf" : "layer" + std::to_string(l)) + "-" + std::to_string(i) + (l == 0 ? ".bin" : ".zip"), cur, true});
    cur = make_zip(items);
  }
  return cur;
}

Blob make_self_chain(unsigned levels, const Blob& leaf) {
  Blob cur = leaf;
  for (unsigned l = 0; l < levels; ++l) cur = make_zip({{"self.zip", cur, false}});
  return cur;
}

std::string mime_base64(const Blob& b) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string s;
  std::size_t line = 0;
  for (std::size_t i = 0; i < b.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{b[i]} << 16) | (i + 1 < b.size() ? std::uint32_t{b[i + 1]} << 8 : 0) |
                            (i + 2 < b.size() ? b[i + 2] : 0);
    s += t[(v >> 18) & 63];
    s += t[(v >> 12) & 63];
    s += i + 1 < b.size() ? t[(v >> 6) & 63] : '=';
    s += i + 2 < b.size() ? t[v & 63] : '=';
    if ((line += 4) >= 76) {
      s += "\r\n";
      line = 0;
    }
  }
  return s;
}

std::string make_eml(const std::string& subject, const std::string& body, const std::vector<MailPart>& parts,
                     const std::string& from) {
  std::string m;
  m += "From: " + from + "\r\n";
  m += "To: Bob <bob@example.org>\r\n";
  m += "Subject: " + subject + "\r\n";
  m += "Date: Tue, 14 Nov 2023 09:30:00 +0900\r\n";
  m += "Message-ID: <test-1@example.com>\r\n";
  m += "MIME-Version: 1.0\r\n";
  if (parts.empty()) {
    m += "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body + "\r\n";
    return m;
  }
  const std::string bnd = "=_mamori_boundary_1";
  m += "Content-Type: multipart/mixed; boundary=\"" + bnd + "\"\r\n\r\nThis is a MIME message.\r\n";
  m += "--" + bnd + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body + "\r\n";
  for (const auto& p : parts) {
    m += "--" + bnd + "\r\nContent-Type: " + p.content_type + "\r\n";
    if (p.rfc2231_name) {
      std::string enc;
      for (unsigned char c : p.filename) {
        if (std::isalnum(c) || c == '.' || c == '-' || c == '_') enc += static_cast<char>(c);
        else {
          char h[4];
          std::snprintf(h, sizeof h, "%%%02X", c);
          enc += h;
        }
      }
      m += "Content-Disposition: attachment; filename*=UTF-8''" + enc + "\r\n";
    } else {
      m += "Content-Disposition: attachment; filename=\"" + p.filename + "\"\r\n";
    }
    m += "Content-Transfer-Encoding: base64\r\n\r\n" + mime_base64(p.data) + "\r\n";
  }
  m += "--" + bnd + "--\r\n";
  return m;
}

}  // namespace mamori::test
