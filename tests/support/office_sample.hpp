// The document feature vector as the office tests read it: one feature by its schema name, featurize_office on a
// built file, and the engine with the shipped models (models/office), for the tests that score documents.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/scanner.hpp"
#include "features/office_features.hpp"

namespace mamori::test {

/// The value of the schema feature `name` in `s`; a name the schema lacks fails the test (and gives -1).
float feature(const features::OfficeSample& s, std::string_view name);

features::OfficeSample featurize(const std::vector<std::uint8_t>& file);
features::OfficeSample featurize(const std::string& file);

/// The engine with the shipped models, or nullopt when models/office is not there (a model that is there but does
/// not load fails the test).
std::optional<engine::Scanner> office_scanner(engine::Options opt = {});

}  // namespace mamori::test
