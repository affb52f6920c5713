// Parts of OOXML packages for the document tests: the content types of a Word document, a settings relationship
// that attaches a template, and the workbook, relationships and macro sheet of an XLSM with an Excel 4 macro sheet
// named "M". Written here from ECMA-376 and [MS-XLSX]; nothing comes from real files. ooxml_package zips the parts
// with libarchive's writer (tests/support/archive_builder writes zips of its own too, byte by byte).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace mamori::test {

/// [Content_Types].xml of a Word document: the rels default and the main document part.
extern const char* const kWordContentTypes;

/// word/_rels/settings.xml.rels attaching the template at `target` (rId1, TargetMode External).
std::string attached_template_rels(const std::string& target);

enum class AutoOpenName { none, visible, hidden };

/// xl/workbook.xml: worksheet "Sheet1" (rId1) and macro sheet "M" (rId2) in state `macro_sheet_state` ("hidden",
/// "veryHidden"), with or without an _xlnm.Auto_Open name pointing at M!$A$1.
std::string macro_workbook_xml(const std::string& macro_sheet_state, AutoOpenName auto_open);

/// xl/_rels/workbook.xml.rels for macro_workbook_xml: rId1 worksheets/sheet1.xml, rId2 macrosheets/sheet1.xml.
extern const char* const kMacroWorkbookRels;

/// xl/macrosheets/sheet1.xml with one row holding `row_cells` (the <c> elements).
std::string macrosheet_xml(const std::string& row_cells);

/// The parts, in the given order, in a zip written by libarchive.
std::vector<std::uint8_t> ooxml_package(const std::vector<std::pair<std::string, std::string>>& parts);

}  // namespace mamori::test
