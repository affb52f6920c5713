#include "support/office_sample.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace mamori::test {

float feature(const features::OfficeSample& s, std::string_view name) {
  const auto& f = features::office_schema().features;
  for (std::size_t i = 0; i < f.size(); ++i)
    if (f[i].name == name) return s.x[i];
  ADD_FAILURE() << "no feature " << name;
  return -1;
}

features::OfficeSample featurize(const std::vector<std::uint8_t>& file) {
  return features::featurize_office(ByteView(file.data(), file.size()));
}

features::OfficeSample featurize(const std::string& file) {
  return features::featurize_office(ByteView(reinterpret_cast<const std::uint8_t*>(file.data()), file.size()));
}

std::optional<engine::Scanner> office_scanner(engine::Options opt) {
  const std::string root = std::string(MAMORI_SOURCE_DIR) + "/models";
  if (!std::filesystem::exists(root + "/office/meta.json")) return std::nullopt;
  auto m = engine::load_models(root);
  if (!m.ok()) {
    ADD_FAILURE() << m.error().message;
    return std::nullopt;
  }
  return engine::Scanner(std::move(m).value(), opt);
}

}  // namespace mamori::test
