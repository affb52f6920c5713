// Shared between the BIFF and OOXML halves of the xls module; not part of its API.
#pragma once

#include "formats/xls/xls.hpp"

namespace mamori::xls {

/// Adds a decoded formula's anomalies and token counts (unknown tokens included) to the workbook: cells and defined
/// names, BIFF and XLSB alike.
void absorb_formula(Workbook& wb, const DecodedFormula& d);

/// Fills Workbook::counts, function_counts, the auto-open flags of names and the sheet anomalies from the model.
void finalize(Workbook& wb);

}  // namespace mamori::xls
