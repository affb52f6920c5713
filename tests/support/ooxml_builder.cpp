#include "support/ooxml_builder.hpp"

#include "support/archive_builder.hpp"

namespace mamori::test {

const char* const kWordContentTypes =
    "<?xml version=\"1.0\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
    "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
    "<Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.openxmlformats-officedocument."
    "wordprocessingml.document.main+xml\"/></Types>";

std::string attached_template_rels(const std::string& target) {
  return "<?xml version=\"1.0\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
         "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
         "attachedTemplate\" Target=\"" + target + "\" TargetMode=\"External\"/></Relationships>";
}

std::string macro_workbook_xml(const std::string& macro_sheet_state, AutoOpenName auto_open) {
  std::string x =
      "<workbook xmlns:r=\"r\"><sheets><sheet name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/>"
      "<sheet name=\"M\" sheetId=\"2\" state=\"" + macro_sheet_state + "\" r:id=\"rId2\"/></sheets>";
  if (auto_open != AutoOpenName::none)
    x += std::string("<definedNames><definedName name=\"_xlnm.Auto_Open\"") +
         (auto_open == AutoOpenName::hidden ? " hidden=\"1\"" : "") + ">M!$A$1</definedName></definedNames>";
  return x + "</workbook>";
}

const char* const kMacroWorkbookRels =
    "<Relationships><Relationship Id=\"rId1\" Type=\"x/worksheet\" Target=\"worksheets/sheet1.xml\"/>"
    "<Relationship Id=\"rId2\" Type=\"http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet\" "
    "Target=\"macrosheets/sheet1.xml\"/></Relationships>";

std::string macrosheet_xml(const std::string& row_cells) {
  return "<xm:macrosheet xmlns:xm=\"x\"><sheetData><row r=\"1\">" + row_cells + "</row></sheetData></xm:macrosheet>";
}

std::vector<std::uint8_t> ooxml_package(const std::vector<std::pair<std::string, std::string>>& parts) {
  std::vector<ZipItem> items;
  for (const auto& [name, text] : parts) items.push_back({name, blob(text)});
  return write_archive("zip", "", items);
}

}  // namespace mamori::test
