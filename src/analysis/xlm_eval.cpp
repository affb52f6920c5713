// The XLM (Excel 4.0 macro) evaluator: the formula text that formats/xls decodes, folded the way the macro sheet
// would compute it from constants. CHAR()/CODE() arithmetic, & and CONCATENATE, MID/LEFT/RIGHT/SUBSTITUTE and
// friends, references to cells whose value is known (string cells, cached results, cells computed earlier), and
// FORMULA()/FORMULA.FILL()/SET.VALUE() writes: a formula written into a cell is evaluated in turn when its text
// is known, since droppers build their EXEC/CALL lines that way.
//
// Cells are visited as Excel runs a macro sheet: per sheet, down each column. Bounded by the same limits as the
// VBA evaluator (expression depth, string length, total work) plus kMaxWrittenFormulas.
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <tuple>

#include "analysis/candidates.hpp"
#include "analysis/iocs.hpp"
#include "analysis/text_util.hpp"
#include "common/codepage.hpp"
#include "formats/xls/xls.hpp"

namespace mamori::analysis {

namespace {

// Formulas written by FORMULA() and evaluated in turn, per workbook.
constexpr std::size_t kMaxWrittenFormulas = 20000;

struct XValue {
  enum class K : std::uint8_t { unknown, num, str } k = K::unknown;
  double n = 0;
  std::string s;
  static XValue str(std::string v) { XValue x; x.k = K::str; x.s = std::move(v); return x; }
  static XValue num(double v) { XValue x; x.k = K::num; x.n = v; return x; }
};

std::optional<std::string> text_of(const XValue& v) {
  if (v.k == XValue::K::str) return v.s;
  if (v.k == XValue::K::num) {
    if (std::isfinite(v.n) && v.n == std::floor(v.n) && std::fabs(v.n) < 1e15) return std::to_string(static_cast<long long>(v.n));
    char b[64];
    std::snprintf(b, sizeof b, "%.15g", v.n);
    return std::string(b);
  }
  return std::nullopt;
}

std::optional<double> number_of(const XValue& v) {
  if (v.k == XValue::K::num) return v.n;
  if (v.k == XValue::K::str && !v.s.empty() && v.s.size() < 40) {
    char* end = nullptr;
    const double d = std::strtod(v.s.c_str(), &end);
    if (end && *end == '\0' && std::isfinite(d)) return d;
  }
  return std::nullopt;
}

using CellKey = std::tuple<std::uint32_t, std::uint32_t, std::uint32_t>;  // sheet, col, row (column-major order)

// Column letters to a 0-based index ("A" 0, "AA" 26); nullopt past XFD.
std::optional<std::uint32_t> column_of(std::string_view letters) {
  if (letters.empty() || letters.size() > 3) return std::nullopt;
  std::uint32_t c = 0;
  for (char ch : letters) c = c * 26 + static_cast<std::uint32_t>(upper(ch) - 'A' + 1);
  if (c == 0 || c > 16384) return std::nullopt;
  return c - 1;
}

class XlmEvaluator {
 public:
  explicit XlmEvaluator(const xls::Workbook& wb) : wb_(wb) {
    for (std::uint32_t i = 0; i < wb.sheets.size(); ++i) sheet_index_[to_lower(wb.sheets[i].name)] = i;
    for (const auto& c : wb.strings) cells_[{c.sheet, c.col, c.row}] = XValue::str(c.text);
    for (const auto& f : wb.formulas) {
      formulas_[{f.sheet, f.col, f.row}] = f.text;
      if (!f.cached.empty()) cells_[{f.sheet, f.col, f.row}] = XValue::str(f.cached);
    }
  }

  void run() {
    // Two passes: cells written by FORMULA() after they were first visited are seen the second time.
    for (int pass = 0; pass < 2 && !exhausted(); ++pass) {
      const auto snapshot = formulas_;
      for (const auto& [key, text] : snapshot) {
        if (exhausted()) break;
        evaluate_cell(key, text);
      }
    }
  }

  std::vector<detail::Candidate> take() { return std::move(cands_); }
  std::uint64_t work() const { return work_; }
  std::uint32_t limits_hit() const { return limits_hit_; }
  std::uint64_t formulas() const { return evaluated_; }

 private:
  struct Tok {
    enum K : std::uint8_t { num, str, ref, id, op, end } k = end;
    std::string t;
    double n = 0;
    CellKey cell{};
  };

  bool exhausted() const { return work_ > limits::max_work; }
  bool charge(std::uint64_t n) {
    work_ += n + 1;
    if (work_ > limits::max_work && !budget_reported_) {
      budget_reported_ = true;
      ++limits_hit_;
    }
    return work_ <= limits::max_work;
  }

  std::string where_of(const CellKey& k) const {
    const auto& [sheet, col, row] = k;
    const std::string name = sheet < wb_.sheets.size() ? wb_.sheets[sheet].name : std::string("?");
    return "xlm:" + name + "!" + xls::a1(row, col);
  }

  void evaluate_cell(const CellKey& key, const std::string& text) {
    ++evaluated_;
    cur_ = key;
    toks_ = lex(text, std::get<0>(key));
    pos_ = 0;
    depth_ = 0;
    abort_ = false;
    if (!charge(text.size())) return;
    if (!toks_.empty() && toks_[0].k == Tok::op && toks_[0].t == "=") ++pos_;
    // "=name=value" assigns a variable (what EXEC(name) later reads).
    std::string assigned;
    if (pos_ + 1 < toks_.size() && toks_[pos_].k == Tok::id && toks_[pos_ + 1].k == Tok::op && toks_[pos_ + 1].t == "=") {
      assigned = to_lower(toks_[pos_].t);
      pos_ += 2;
    }
    XValue v = expr();
    if (!assigned.empty() && names_.size() < 65536) names_[assigned] = v;
    candidate(v);
    if (v.k != XValue::K::unknown) cells_[key] = v;
  }

  void candidate(const XValue& v) {
    if (v.k != XValue::K::str || v.s.size() < 6 || cands_.size() >= 50000) return;
    if (!seen_.insert(v.s).second) return;
    if (!charge(v.s.size())) return;
    cands_.push_back({v.s, where_of(cur_), false});
  }

  // ---- lexer ----
  std::vector<Tok> lex(std::string_view s, std::uint32_t sheet) {
    std::vector<Tok> out;
    std::size_t i = 0;
    while (i < s.size() && out.size() < 100000) {
      const char c = s[i];
      if (is_space(c)) { ++i; continue; }
      if (c == '"') {
        std::string v;
        std::size_t j = i + 1;
        while (j < s.size()) {
          if (s[j] == '"') {
            if (j + 1 < s.size() && s[j + 1] == '"') { v.push_back('"'); j += 2; continue; }
            break;
          }
          v.push_back(s[j++]);
        }
        out.push_back({Tok::str, std::move(v), 0, {}});
        i = j + 1;
        continue;
      }
      if (is_digit(c) || (c == '.' && i + 1 < s.size() && is_digit(s[i + 1]))) {
        std::size_t j = i;
        while (j < s.size() && (is_digit(s[j]) || s[j] == '.')) ++j;
        if (j < s.size() && (s[j] == 'E' || s[j] == 'e') && j + 1 < s.size() && (is_digit(s[j + 1]) || s[j + 1] == '-' || s[j + 1] == '+')) {
          j += 2;
          while (j < s.size() && is_digit(s[j])) ++j;
        }
        const std::string lit(s.substr(i, j - i));
        out.push_back({Tok::num, lit, std::strtod(lit.c_str(), nullptr), {}});
        i = j;
        continue;
      }
      // Sheet-qualified references: 'My Sheet'!A1 or Sheet1!$A$1.
      std::uint32_t ref_sheet = sheet;
      std::size_t j = i;
      if (c == '\'') {
        const std::size_t q = s.find('\'', i + 1);
        if (q != std::string_view::npos && q + 1 < s.size() && s[q + 1] == '!') {
          auto it = sheet_index_.find(to_lower(s.substr(i + 1, q - i - 1)));
          ref_sheet = it == sheet_index_.end() ? 0xFFFFFFFFu : it->second;
          j = q + 2;
        }
      }
      if (c == '$' || is_alpha(c) || c == '_' || c == '\\' || j != i) {
        std::size_t k = j;
        while (k < s.size() && (is_alnum(s[k]) || s[k] == '_' || s[k] == '.' || s[k] == '\\')) ++k;
        if (j == i && k < s.size() && s[k] == '!' && k > i) {
          auto it = sheet_index_.find(to_lower(s.substr(i, k - i)));
          ref_sheet = it == sheet_index_.end() ? 0xFFFFFFFFu : it->second;
          j = k + 1;
        }
        // A1 reference: $?letters$?digits
        std::size_t p = j;
        if (p < s.size() && s[p] == '$') ++p;
        const std::size_t ls = p;
        while (p < s.size() && is_alpha(s[p])) ++p;
        const std::size_t le = p;
        if (p < s.size() && s[p] == '$') ++p;
        const std::size_t ds = p;
        while (p < s.size() && is_digit(s[p])) ++p;
        const bool after_ok = p >= s.size() || !(is_alnum(s[p]) || s[p] == '_' || s[p] == '(' || s[p] == '.');
        if (le > ls && p > ds && after_ok) {
          const auto col = column_of(s.substr(ls, le - ls));
          const std::string digits(s.substr(ds, p - ds));
          const unsigned long row = digits.size() <= 7 ? std::stoul(digits) : 0;
          if (col && row >= 1) {
            out.push_back({Tok::ref, std::string(s.substr(i, p - i)), 0, {ref_sheet, *col, static_cast<std::uint32_t>(row - 1)}});
            i = p;
            continue;
          }
        }
        if (j == i) {
          std::size_t q = i;
          while (q < s.size() && (is_alnum(s[q]) || s[q] == '_' || s[q] == '.' || s[q] == '\\' || s[q] == '$')) ++q;
          if (q == i) q = i + 1;
          out.push_back({Tok::id, std::string(s.substr(i, q - i)), 0, {}});
          i = q;
          continue;
        }
        i = j;  // a sheet prefix not followed by a reference: skip it
        continue;
      }
      std::string op(1, c);
      if (i + 1 < s.size() && ((c == '<' && (s[i + 1] == '>' || s[i + 1] == '=')) || (c == '>' && s[i + 1] == '=')))
        op += s[i + 1];
      out.push_back({Tok::op, op, 0, {}});
      i += op.size();
    }
    out.push_back({Tok::end, {}, 0, {}});
    return out;
  }

  // ---- parser/evaluator ----
  const Tok& peek() const { return toks_[std::min(pos_, toks_.size() - 1)]; }
  bool op(std::string_view o) const { return peek().k == Tok::op && peek().t == o; }

  XValue expr() {
    if (abort_ || ++depth_ > limits::max_expr_depth || !charge(1)) {
      if (!abort_) ++limits_hit_;
      abort_ = true;
      return {};
    }
    XValue l = concat();
    while (!abort_ && (op("=") || op("<>") || op("<") || op(">") || op("<=") || op(">="))) {
      const std::string o = peek().t;
      ++pos_;
      XValue r = concat();
      const auto a = number_of(l), b = number_of(r);
      if (l.k == XValue::K::unknown || r.k == XValue::K::unknown) { l = {}; continue; }
      int cmp;
      if (a && b) cmp = *a < *b ? -1 : (*a > *b ? 1 : 0);
      else cmp = text_of(l)->compare(*text_of(r));
      const bool res = o == "=" ? cmp == 0 : o == "<>" ? cmp != 0 : o == "<" ? cmp < 0 : o == ">" ? cmp > 0 : o == "<=" ? cmp <= 0 : cmp >= 0;
      l = XValue::num(res ? 1 : 0);
    }
    --depth_;
    return l;
  }
  XValue concat() {
    XValue l = additive();
    while (!abort_ && op("&")) {
      ++pos_;
      XValue r = additive();
      auto a = text_of(l), b = text_of(r);
      if (!a || !b || a->size() + b->size() > limits::max_string) {
        if (a && b) ++limits_hit_;
        l = {};
        continue;
      }
      if (!charge(a->size() + b->size())) {
        l = {};
        continue;
      }
      l = XValue::str(*a + *b);
    }
    return l;
  }
  XValue additive() {
    XValue l = term();
    while (!abort_ && (op("+") || op("-"))) {
      const bool plus = peek().t == "+";
      ++pos_;
      XValue r = term();
      auto a = number_of(l), b = number_of(r);
      l = a && b ? XValue::num(plus ? *a + *b : *a - *b) : XValue{};
    }
    return l;
  }
  XValue term() {
    XValue l = power();
    while (!abort_ && (op("*") || op("/"))) {
      const bool mul = peek().t == "*";
      ++pos_;
      XValue r = power();
      auto a = number_of(l), b = number_of(r);
      if (!a || !b || (!mul && *b == 0)) l = {};
      else l = XValue::num(mul ? *a * *b : *a / *b);
    }
    return l;
  }
  XValue power() {
    XValue l = unary();
    while (!abort_ && op("^")) {
      ++pos_;
      XValue r = unary();
      auto a = number_of(l), b = number_of(r);
      const double v = a && b ? std::pow(*a, *b) : NAN;
      l = std::isfinite(v) ? XValue::num(v) : XValue{};
    }
    return l;
  }
  XValue unary() {
    if (op("-")) {
      ++pos_;
      auto v = unary();
      auto a = number_of(v);
      return a ? XValue::num(-*a) : XValue{};
    }
    if (op("+")) {
      ++pos_;
      return unary();
    }
    XValue v = primary();
    if (op("%")) {
      ++pos_;
      auto a = number_of(v);
      v = a ? XValue::num(*a / 100) : XValue{};
    }
    return v;
  }

  XValue primary() {
    if (++depth_ > limits::max_expr_depth) {
      ++limits_hit_;
      abort_ = true;
      return {};
    }
    XValue r = primary_inner();
    --depth_;
    return r;
  }

  XValue primary_inner() {
    const Tok t = peek();
    switch (t.k) {
      case Tok::num: ++pos_; return XValue::num(t.n);
      case Tok::str: ++pos_; return XValue::str(t.t);
      case Tok::ref: {
        ++pos_;
        if (op(":")) {  // a range: its value is not one cell's
          ++pos_;
          if (peek().k == Tok::ref) ++pos_;
          return {};
        }
        auto it = cells_.find(t.cell);
        return it == cells_.end() ? XValue{} : it->second;
      }
      case Tok::op:
        if (t.t == "(") {
          ++pos_;
          XValue v = expr();
          if (op(")")) ++pos_;
          else abort_ = true;
          return v;
        }
        ++pos_;
        abort_ = true;
        return {};
      case Tok::id: {
        ++pos_;
        if (!op("(")) {
          auto it = names_.find(to_lower(t.t));
          if (it != names_.end()) return it->second;
          if (iequals(t.t, "TRUE")) return XValue::num(1);
          if (iequals(t.t, "FALSE")) return XValue::num(0);
          return {};
        }
        ++pos_;
        std::vector<XValue> args;
        std::vector<std::optional<CellKey>> arg_cells;
        while (!abort_ && !op(")") && peek().k != Tok::end && args.size() < 256) {
          if (op(",") || op(";")) {
            args.emplace_back();
            arg_cells.emplace_back();
            ++pos_;
            continue;
          }
          const std::size_t start = pos_;
          args.push_back(expr());
          arg_cells.push_back(toks_[start].k == Tok::ref && pos_ == start + 1 ? std::optional<CellKey>(toks_[start].cell)
                                                                             : std::nullopt);
          if (op(",") || op(";")) ++pos_;
          else break;
        }
        if (op(")")) ++pos_;
        else abort_ = true;
        for (const auto& a : args) candidate(a);
        return call(to_upper(t.t), args, arg_cells);
      }
      default: abort_ = true; return {};
    }
  }

  XValue call(const std::string& f, const std::vector<XValue>& a, const std::vector<std::optional<CellKey>>& cells) {
    auto s = [&](std::size_t i) { return i < a.size() ? text_of(a[i]) : std::nullopt; };
    auto n = [&](std::size_t i) { return i < a.size() ? number_of(a[i]) : std::nullopt; };
    if (f == "CHAR") {
      auto c = n(0);
      if (!c || *c < 1 || *c > 255) return {};
      const char b = static_cast<char>(static_cast<int>(*c));
      return XValue::str(static_cast<unsigned char>(b) < 0x80 ? std::string(1, b) : codepage_to_utf8(std::string_view(&b, 1), 1252));
    }
    if (f == "CODE") {
      auto v = s(0);
      if (!v || v->empty()) return {};
      return XValue::num(static_cast<unsigned char>((*v)[0]));
    }
    if (f == "CONCATENATE") {
      std::string r;
      for (std::size_t i = 0; i < a.size(); ++i) {
        auto v = s(i);
        if (!v || r.size() + v->size() > limits::max_string) return {};
        r += *v;
      }
      return XValue::str(std::move(r));
    }
    if (f == "MID") {
      auto v = s(0);
      auto st = n(1), len = n(2);
      if (!v || !st || !len || *st < 1 || *len < 0) return {};
      const auto from = static_cast<std::size_t>(*st - 1);
      return XValue::str(from >= v->size() ? std::string() : v->substr(from, static_cast<std::size_t>(*len)));
    }
    if (f == "LEFT" || f == "RIGHT") {
      auto v = s(0);
      const auto len = a.size() > 1 ? n(1) : std::optional<double>(1);
      if (!v || !len || *len < 0) return {};
      const std::size_t k = std::min(v->size(), static_cast<std::size_t>(*len));
      return XValue::str(f == "LEFT" ? v->substr(0, k) : v->substr(v->size() - k));
    }
    if (f == "LEN") {
      auto v = s(0);
      return v ? XValue::num(static_cast<double>(v->size())) : XValue{};
    }
    if (f == "UPPER" || f == "LOWER" || f == "TRIM" || f == "T" || f == "CLEAN") {
      auto v = s(0);
      if (!v) return {};
      if (f == "UPPER") return XValue::str(to_upper(*v));
      if (f == "LOWER") return XValue::str(to_lower(*v));
      if (f == "TRIM") {
        std::string r;
        for (char c : *v)
          if (c != ' ' || (!r.empty() && r.back() != ' ')) r.push_back(c);
        while (!r.empty() && r.back() == ' ') r.pop_back();
        return XValue::str(std::move(r));
      }
      return XValue::str(*v);
    }
    if (f == "SUBSTITUTE") {
      auto v = s(0), from = s(1), to = s(2);
      if (!v || !from || !to || from->empty()) return {};
      std::string r;
      std::size_t i = 0;
      while (true) {
        const std::size_t p = v->find(*from, i);
        if (p == std::string::npos) break;
        r.append(*v, i, p - i);
        r += *to;
        if (r.size() > limits::max_string) return {};
        i = p + from->size();
      }
      r.append(*v, i, std::string::npos);
      return XValue::str(std::move(r));
    }
    if (f == "REPT") {
      auto v = s(0);
      auto k = n(1);
      if (!v || !k || *k < 0 || v->size() * static_cast<std::size_t>(*k) > 65536) return {};
      std::string r;
      for (int i = 0; i < static_cast<int>(*k); ++i) r += *v;
      return XValue::str(std::move(r));
    }
    if (f == "INT" || f == "ABS" || f == "VALUE" || f == "ROUND" || f == "TRUNC") {
      auto v = n(0);
      if (!v) return {};
      if (f == "INT") return XValue::num(std::floor(*v));
      if (f == "ABS") return XValue::num(std::fabs(*v));
      if (f == "TRUNC") return XValue::num(std::trunc(*v));
      if (f == "ROUND") {
        const double d = n(1).value_or(0);
        if (d < -15 || d > 15) return {};
        const double m = std::pow(10.0, d);
        return XValue::num(std::round(*v * m) / m);
      }
      return XValue::num(*v);
    }
    if (f == "MOD") {
      auto x = n(0), y = n(1);
      if (!x || !y || *y == 0) return {};
      return XValue::num(*x - *y * std::floor(*x / *y));
    }
    if (f == "IF") {
      auto c = n(0);
      if (!c) return {};
      return *c != 0 ? (a.size() > 1 ? a[1] : XValue::num(1)) : (a.size() > 2 ? a[2] : XValue::num(0));
    }
    if ((f == "FORMULA" || f == "FORMULA.FILL" || f == "FORMULA.ARRAY") && a.size() >= 2 && cells.size() >= 2 && cells[1]) {
      // FORMULA(text, ref): a constant goes into the cell; "=..." becomes the cell's formula, evaluated in turn.
      const CellKey dst = *cells[1];
      if (a[0].k == XValue::K::str && !a[0].s.empty() && a[0].s[0] == '=') {
        if (written_ < kMaxWrittenFormulas) {
          ++written_;
          formulas_[dst] = a[0].s;
          const CellKey saved = cur_;
          const auto saved_toks = std::move(toks_);
          const std::size_t saved_pos = pos_;
          const std::uint32_t saved_depth = depth_;
          if (nest_ < 8) {  // the written formula, now (a formula writing a formula nests; bounded)
            ++nest_;
            evaluate_cell(dst, a[0].s);
            --nest_;
          }
          cur_ = saved;
          toks_ = std::move(saved_toks);
          pos_ = saved_pos;
          depth_ = saved_depth;
          abort_ = false;
        } else {
          ++limits_hit_;
        }
      } else if (a[0].k != XValue::K::unknown) {
        cells_[dst] = a[0];
      }
      return XValue::num(1);
    }
    if (f == "SET.VALUE" && a.size() >= 2 && cells.size() >= 1 && cells[0]) {
      cells_[*cells[0]] = a[1];
      return XValue::num(1);
    }
    if (f == "SET.NAME" && a.size() >= 2) {
      // The name comes as text ("x") or as a bare name, which the lexer read as an identifier.
      if (auto nm = s(0); nm && names_.size() < 65536) names_[to_lower(*nm)] = a[1];
      return XValue::num(1);
    }
    return {};
  }

  const xls::Workbook& wb_;
  std::map<std::string, std::uint32_t> sheet_index_;
  std::map<CellKey, XValue> cells_;
  std::map<CellKey, std::string> formulas_;
  std::map<std::string, XValue> names_;
  std::vector<detail::Candidate> cands_;
  std::unordered_set<std::string> seen_;
  std::vector<Tok> toks_;
  std::size_t pos_ = 0;
  CellKey cur_{};
  std::uint32_t depth_ = 0, nest_ = 0;
  bool abort_ = false;
  bool budget_reported_ = false;
  std::uint64_t work_ = 0, evaluated_ = 0;
  std::uint32_t limits_hit_ = 0;
  std::size_t written_ = 0;
};

}  // namespace

Evaluation evaluate_xlm(const xls::Workbook& wb) {
  Evaluation out;
  XlmEvaluator ev(wb);
  ev.run();
  std::unordered_set<std::string> literals;
  detail::finish_evaluation(ev.take(), literals, out);
  out.statements = ev.formulas();
  out.work = ev.work();
  out.limits_hit += ev.limits_hit();
  return out;
}

std::vector<engine::Ioc> iocs_from_xlm(const xls::Workbook& wb) { return evaluate_xlm(wb).iocs; }

}  // namespace mamori::analysis
