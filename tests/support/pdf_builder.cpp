#include "support/pdf_builder.hpp"

#include <zlib.h>

namespace mamori::test {

std::string zlib_compress(const std::string& data) {
  uLongf len = compressBound(static_cast<uLong>(data.size()));
  std::string out(len, '\0');
  compress2(reinterpret_cast<Bytef*>(out.data()), &len, reinterpret_cast<const Bytef*>(data.data()),
            static_cast<uLong>(data.size()), 9);
  out.resize(len);
  return out;
}

std::string build_pdf(const PdfSpec& spec) {
  std::string out = spec.header;
  std::vector<std::size_t> offsets;
  for (std::size_t k = 0; k < spec.objects.size(); ++k) {
    const auto& o = spec.objects[k];
    offsets.push_back(out.size());
    out += std::to_string(k + 1) + " 0 obj\n";
    if (o.has_stream) {
      const std::string body = o.flate ? zlib_compress(o.stream) : o.stream;
      std::string dict = o.dict;
      const auto close = dict.rfind(">>");
      std::string extra = " /Length " + std::to_string(body.size() + (o.wrong_length ? 7 : 0));
      if (o.flate) extra += " /Filter /FlateDecode";
      dict.insert(close, extra + " ");
      out += dict + "\nstream\n" + body + "\nendstream\n";
    } else {
      out += o.dict + "\n";
    }
    out += "endobj\n";
  }
  const std::size_t xref = out.size();
  out += "xref\n0 " + std::to_string(spec.objects.size() + 1) + "\n0000000000 65535 f \n";
  for (auto off : offsets) {
    std::string n = std::to_string(off);
    out += std::string(10 - n.size(), '0') + n + " 00000 n \n";
  }
  out += "trailer\n<< /Size " + std::to_string(spec.objects.size() + 1) + " /Root 1 0 R " + spec.trailer_extra +
         " >>\nstartxref\n" + std::to_string(xref) + "\n";
  if (spec.write_eof) out += "%%EOF\n";
  out += spec.after_eof;
  return out;
}

}  // namespace mamori::test
