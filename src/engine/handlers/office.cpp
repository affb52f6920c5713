// Documents: OLE2 (Word, Excel, PowerPoint and other compound files), OOXML, RTF and PDF. One feature vector and one
// model for all of them (models/office); reasons are the features that moved the score, the macro lines and
// relationships that matched go to the result's context, and embedded objects (Ole10Native packages, OOXML
// embeddings and ActiveX, RTF objects, the decrypted package of an encrypted document) are scanned as members.
#include "analysis/iocs.hpp"
#include "engine/handlers.hpp"
#include "engine/scanner.hpp"
#include "features/office_features.hpp"

namespace mamori::engine::handlers {

namespace {

// Signature family by document type, so a clamd client sees what kind of file was flagged.
std::string family(const std::string& doc_type) {
  if (doc_type == "rtf") return "Mamori.RTF";
  if (doc_type == "pdf") return "Mamori.PDF";
  return "Mamori.Office";
}

}  // namespace

void office(ByteView bytes, ScanResult& r, ScanContext& ctx) {
  const Scanner& s = ctx.scanner();
  const Options& opt = s.options();
  features::OfficeOptions oo;
  oo.decrypt = opt.decrypt_documents;
  // The passwords an encrypted archive would get (those quoted in the enclosing e-mail first, then the configured
  // ones), tried after the default password on encrypted documents.
  oo.passwords = ctx.passwords();
  auto sample = features::featurize_office(bytes, oo);
  for (auto& a : sample.anomalies) r.anomalies.push_back(std::move(a));
  for (const auto& h : sample.hits) r.context.emplace_back(h.category + " " + h.where, h.text);
  if (!sample.encryption.empty()) {
    std::string how = " (not decrypted)";
    if (sample.decrypted && (sample.password.empty() || sample.password == "VelvetSweatshop"))
      how = " (opened with the default password)";
    else if (sample.decrypted)
      how = " (opened with the password \"" + sample.password + "\")";
    r.context.emplace_back("encryption", sample.encryption + how);
  }

  // What the macros would fetch or run (analysis/: the static VBA evaluator, PowerShell decoding), and URLs or
  // commands in the matched relationships, fields and PDF actions.
  // (The feature pass ran the evaluator on the VBA projects already and kept what it found.)
  analysis::merge_iocs(r.iocs, sample.macro_iocs);
  for (const auto& h : sample.hits)
    if (h.where.rfind("vba:", 0) != 0) analysis::merge_iocs(r.iocs, analysis::iocs_from_text(h.text, h.where));

  // The bucket is found from the vector as the trainer found it, so the engine and the trainer agree on which files
  // the PDF model and a type threshold cover.
  const std::string type = features::office_bucket(sample.x.data());
  const model::Model* m = s.models().office ? &*s.models().office : nullptr;
  if (type == "pdf" && s.models().pdf) m = &*s.models().pdf;
  if (m) {
    auto score = m->score(sample.x);
    if (!score.ok()) {
      r.verdict = Verdict::error;
      r.error = score.error().message;
    } else {
      r.score = *score;
      r.model = m->name();
      const std::string fam = family(sample.doc_type);
      // The operating point of this file's type: the model's own unless meta.json gives the type one.
      if (*score >= m->threshold_for(type)) {
        r.verdict = Verdict::malicious;
        r.signature = fam + ".Malicious";
      } else if (opt.alert_suspicious && *score >= m->suspicious_threshold_for(type)) {
        r.verdict = Verdict::suspicious;
        r.signature = fam + ".Suspicious";
      } else {
        r.verdict = Verdict::clean;
      }
      // Deterministic rules for what the model cannot learn from one source (docs/office.md, "Rules").
      if (auto rule = features::office_rule(sample.x); !rule.empty() || !sample.structural_rule.empty()) {
        if (rule.empty()) rule = sample.structural_rule;
        r.context.emplace_back("rule", rule);
        raise_verdict(r, Verdict::malicious, fam + ".Malicious");
      }
      if (opt.explain) {
        auto c = m->explain(sample.x, opt.max_reasons);
        if (c.ok()) {
          const auto& names = features::office_schema().features;
          for (const auto& x : *c) r.reasons.push_back({names[x.feature].name, x.value, x.contribution});
        }
      }
    }
  } else {
    r.verdict = Verdict::unsupported;
  }

  // What a document hides from the model: encrypted content that no password opened. Reported always; suspicious
  // unless Options::encrypted_documents_are_suspicious is off (--encrypted-doc-ok, AlertEncryptedDoc no).
  if (!sample.encryption.empty() && !sample.decrypted) {
    r.anomalies.push_back("encrypted_not_decrypted: " + sample.encryption);
    if (opt.encrypted_documents_are_suspicious) raise_verdict(r, Verdict::suspicious, "Mamori.Office.Encrypted");
  }
  if (!sample.decrypted_package.empty() && ctx.charge_bytes(r, sample.decrypted_package.size()))
    ctx.scan_member(r, "EncryptedPackage", ByteView(sample.decrypted_package.data(), sample.decrypted_package.size()));
  for (const auto& e : sample.embedded) {
    if (!ctx.charge_bytes(r, e.bytes.size())) break;
    if (!ctx.scan_member(r, e.name, ByteView(e.bytes.data(), e.bytes.size()))) break;
  }
}

}  // namespace mamori::engine::handlers
