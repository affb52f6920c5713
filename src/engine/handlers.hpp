// The per-format analyses that the scanner dispatches to, one function per file kind, all with one shape: read the
// bytes, fill the result (verdict, score, reasons, anomalies, IOCs), and hand anything the file contains to
// ScanContext::scan_member. A handler never throws for hostile input and never prints.
//
// Each lives in engine/handlers/<kind>.cpp and is listed in the dispatch table in engine/scanner.cpp.
#pragma once

#include "common/bytes.hpp"
#include "engine/context.hpp"
#include "engine/verdict.hpp"

namespace mamori::engine::handlers {

using Handler = void (*)(ByteView bytes, ScanResult& r, ScanContext& ctx);

void pe(ByteView bytes, ScanResult& r, ScanContext& ctx);
void lnk(ByteView bytes, ScanResult& r, ScanContext& ctx);
void onenote(ByteView bytes, ScanResult& r, ScanContext& ctx);
void msg(ByteView bytes, ScanResult& r, ScanContext& ctx);
/// zip, 7z, rar, cab, tar, iso, gzip/bzip2/xz: members through libarchive (engine/handlers/archive.cpp).
void archive(ByteView bytes, ScanResult& r, ScanContext& ctx);
/// .eml and mbox via GMime: attachments, nested messages, uuencode; passwords for archives below (handlers/email.cpp).
void email(ByteView bytes, ScanResult& r, ScanContext& ctx);
/// JScript, VBScript/VBA text, PowerShell, batch, HTA/SCT/WSF: named rules (engine/handlers/script.cpp).
void script(ByteView bytes, ScanResult& r, ScanContext& ctx);
/// OLE2, OOXML, RTF and PDF documents (engine/handlers/office.cpp).
void office(ByteView bytes, ScanResult& r, ScanContext& ctx);

}  // namespace mamori::engine::handlers
