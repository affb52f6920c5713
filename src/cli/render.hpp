// Rendering of scan results for people (clamscan-style lines, --explain) and for programs (one JSON object a line).
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

#include "engine/verdict.hpp"

namespace mamori::cli {

nlohmann::json to_json(const engine::ScanResult& r);
/// "path: OK", "path: Mamori.PE.Malicious FOUND", "path: <why> ERROR".
void print_line(const engine::ScanResult& r, std::ostream& out);
/// The reasons and anomalies, indented under the line.
void print_explanation(const engine::ScanResult& r, std::ostream& out);

}  // namespace mamori::cli
