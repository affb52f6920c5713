// Windows executables: our PE parser, the PE feature vector and the PE model.
#include "engine/handlers.hpp"
#include "engine/scanner.hpp"
#include "features/pe_features.hpp"

namespace mamori::engine::handlers {

void pe(ByteView bytes, ScanResult& r, ScanContext& ctx) {
  const Scanner& s = ctx.scanner();
  const Options& opt = s.options();
  auto sample = features::featurize_pe(bytes, ctx.collapsed_padding());
  if (sample.header_error) r.anomalies.push_back("headers_unreadable: " + sample.header_error->message);
  for (const auto& a : sample.pe.anomalies) r.anomalies.push_back(pe::anomaly_name(a.code));
  const model::Model* m = s.pe_model();
  if (!m) {
    r.verdict = Verdict::unsupported;
    return;
  }
  auto score = m->score(sample.x);
  if (!score.ok()) {
    r.verdict = Verdict::error;
    r.error = score.error().message;
    return;
  }
  r.score = *score;
  r.model = m->name();
  if (*score >= m->threshold()) {
    r.verdict = Verdict::malicious;
    r.signature = "Mamori.PE.Malicious";
  } else if (opt.alert_suspicious && *score >= m->suspicious_threshold()) {
    r.verdict = Verdict::suspicious;
    r.signature = "Mamori.PE.Suspicious";
  } else {
    r.verdict = Verdict::clean;
  }
  // A file that is mostly padding was inflated on purpose (features::binary_padding). That raises a score the model
  // already finds suspicious to malicious, and stands on its own as suspicious.
  if (features::binary_padding(sample)) {
    r.context.emplace_back("rule", "binary-padding");
    if (*score >= m->suspicious_threshold())
      raise_verdict(r, Verdict::malicious, "Mamori.PE.Malicious");
    else if (opt.alert_suspicious)
      raise_verdict(r, Verdict::suspicious, "Mamori.PE.Padded");
  }
  if (opt.explain) {
    auto c = m->explain(sample.x, opt.max_reasons);
    if (c.ok()) {
      const auto& names = features::pe_schema().features;
      for (const auto& x : *c) r.reasons.push_back({names[x.feature].name, x.value, x.contribution});
    }
  }
}

}  // namespace mamori::engine::handlers
