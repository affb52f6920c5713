#include "features/emitter.hpp"

#include <cstdio>

namespace mamori::features {

std::string schema_hash(std::string_view tag, const Schema& s, NameCase names) {
  const bool fold = names == NameCase::folded;
  auto fnv = [fold](std::string_view text, std::uint32_t h) {
    for (char c : text) {
      const auto b = static_cast<std::uint8_t>(fold && c >= 'A' && c <= 'Z' ? c + 32 : c);
      h = (h ^ b) * 16777619u;
    }
    return h;
  };
  std::uint32_t h = fnv(std::string(tag) + "-v" + std::to_string(s.version), 2166136261u);
  for (const auto& f : s.features) h = fnv(f.name, fnv("|", h));
  char buf[16];
  std::snprintf(buf, sizeof buf, "%08x", h);
  return buf;
}

std::string schema_markdown(const Schema& s, std::string_view title, std::string_view intro) {
  std::string md = "# " + std::string(title) + " v" + std::to_string(s.version) + " (hash " + s.hash + ", " +
                   std::to_string(s.features.size()) + " features)\n\n" + std::string(intro) +
                   "\n\n| group | first index | count | what it measures |\n|---|---|---|---|\n";
  for (const auto& g : s.groups)
    md += "| " + g.name + " | " + std::to_string(g.first) + " | " + std::to_string(g.count) + " | " + g.doc + " |\n";
  md += "\n## Features\n\n| index | name |\n|---|---|\n";
  for (std::size_t i = 0; i < s.features.size(); ++i) md += "| " + std::to_string(i) + " | " + s.features[i].name + " |\n";
  return md;
}

}  // namespace mamori::features
