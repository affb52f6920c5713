// The static VBA evaluator. It reads each module into procedures of statements, runs module-level Const/Dim, then
// runs every procedure's body in order with its parameters unknown, folding what can be known from constants:
// literals, Chr()/Asc() arithmetic, string functions, Split/Join/Array, variables and arrays, calls to the macro's
// own Functions (with their arguments bound), If branches whose condition is known, counted For loops up to a cap,
// and form/document strings reached through `Form.Control.Property`, `ActiveDocument.Variables("x")` or
// `BuiltInDocumentProperties("x")`. Everything else is "unknown" (an object, a date, a random number) or, for a
// variable nobody assigned, Empty ("" / 0), as VBA has it.
//
// An expression is compiled into a tree the first time it runs (see compile) and evaluated from the tree after that;
// what the compiler leaves alone is evaluated while it is parsed (the precedence levels over one statement's tokens,
// see parse_level). Nothing is executed but this arithmetic. Every string computed by an assignment, a call argument or a
// Function's return is a candidate; candidates are scanned for IOCs and PowerShell at the end. Bounds:
// limits::max_vba_expr_levels, max_call_depth, max_string, max_array, max_statements, max_loop_iterations and the overall
// max_work.
#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <deque>
#include <map>
#include <iterator>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "analysis/candidates.hpp"
#include "analysis/iocs.hpp"
#include "analysis/text_util.hpp"
#include "analysis/vba_lines.hpp"
#include "common/codepage.hpp"

namespace mamori::analysis {

using detail::Candidate;

namespace {

// ---------------------------------------------------------------------------------------------------------------
// Values

struct Value {
  enum class K : std::uint8_t { empty, unknown, num, str, arr };
  K k = K::empty;
  double n = 0;
  std::string s;
  std::shared_ptr<std::vector<Value>> a;
  bool partial = false;  // a string built with unknown pieces left out

  static Value unknown() { Value v; v.k = K::unknown; return v; }
  static Value number(double d) { Value v; v.k = K::num; v.n = d; return v; }
  static Value string(std::string x, bool part = false) { Value v; v.k = K::str; v.s = std::move(x); v.partial = part; return v; }
  static Value array(std::vector<Value> e) {
    Value v;
    v.k = K::arr;
    v.a = std::make_shared<std::vector<Value>>(std::move(e));
    return v;
  }
  bool known() const { return k != K::unknown; }
  bool is_str() const { return k == K::str; }
};

std::string num_to_string(double d) {
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15) return std::to_string(static_cast<long long>(d));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.15g", d);
  return buf;
}

// String view of a value for string functions; nullopt for unknown and arrays.
std::optional<std::string> as_string(const Value& v) {
  switch (v.k) {
    case Value::K::empty: return std::string();
    case Value::K::str: return v.s;
    case Value::K::num: return num_to_string(v.n);
    default: return std::nullopt;
  }
}

std::optional<double> as_number(const Value& v) {
  switch (v.k) {
    case Value::K::empty: return 0.0;
    case Value::K::num: return v.n;
    case Value::K::str: {
      std::string_view s = v.s;
      while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
      while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
      if (s.empty() || s.size() > 40) return std::nullopt;
      if (s.size() > 2 && s[0] == '&' && (s[1] == 'H' || s[1] == 'h')) {
        double r = 0;
        for (char c : s.substr(2)) {
          if (!is_xdigit(c)) return std::nullopt;
          r = r * 16 + (is_digit(c) ? c - '0' : lower(c) - 'a' + 10);
        }
        return r;
      }
      char* end = nullptr;
      const std::string tmp(s);
      const double d = std::strtod(tmp.c_str(), &end);
      if (end == nullptr || *end != '\0') return std::nullopt;
      if (!std::isfinite(d)) return std::nullopt;
      return d;
    }
    default: return std::nullopt;
  }
}

// VBA rounds half to even when converting to an integer (CInt, Chr's argument, Mod and \ operands).
std::optional<long long> as_int(const Value& v) {
  auto d = as_number(v);
  if (!d || !std::isfinite(*d) || std::fabs(*d) > 9e15) return std::nullopt;
  return static_cast<long long>(std::nearbyint(*d));
}

// ---------------------------------------------------------------------------------------------------------------
// Tokens

// Binary operators, classified once when the statement is read (see parse_level for their precedence levels).
enum class BinOp : std::uint8_t { none, imp, eqv, xor_, or_, and_, like, is, eq, ne, lt, gt, le, ge, amp, add, sub,
                                  mod, idiv, mul, div, pow };

// The precedence level of a binary operator (see parse_level), -1 for none.
constexpr int binary_level(BinOp o) {
  switch (o) {
    case BinOp::imp: case BinOp::eqv: return 0;
    case BinOp::xor_: return 1;
    case BinOp::or_: return 2;
    case BinOp::and_: return 3;
    case BinOp::like: case BinOp::is: case BinOp::eq: case BinOp::ne: case BinOp::lt: case BinOp::gt: case BinOp::le:
    case BinOp::ge: return 5;
    case BinOp::amp: return 6;
    case BinOp::add: case BinOp::sub: return 7;
    case BinOp::mod: return 8;
    case BinOp::idiv: return 9;
    case BinOp::mul: case BinOp::div: return 10;
    case BinOp::pow: return 12;
    default: return -1;
  }
}

// The words the evaluator's statements and expressions test for, and the operators they look at: a token's word or
// operator is classified once when the module is read, so each test at run time is one byte compared (a
// statement's head alone is tested against some thirty words, on every run of the statement).
enum class Kw : std::uint8_t { None, As, Attribute, ByRef, ByVal, Call, Case, Const, Declare, Dim, Do, Each, Else, ElseIf, End, EndIf, Enum, Erase, Event, Exit, For, Friend, Function, Global, GoTo, If, Implements, In, Let, Loop, New, Next, Not, On, Option, Optional, ParamArray, Preserve, Private, Property, Public, ReDim, Resume, Select, Set, Static, Step, Sub, Then, To, Type, Until, Wend, While, With };
constexpr std::string_view kKwNames[] = {"", "as", "attribute", "byref", "byval", "call", "case", "const", "declare", "dim", "do", "each", "else", "elseif", "end", "endif", "enum", "erase", "event", "exit", "for", "friend", "function", "global", "goto", "if", "implements", "in", "let", "loop", "new", "next", "not", "on", "option", "optional", "paramarray", "preserve", "private", "property", "public", "redim", "resume", "select", "set", "static", "step", "sub", "then", "to", "type", "until", "wend", "while", "with"};
enum class Op : std::uint8_t { None, lparen, rparen, comma, dot, bang, eq, assign, star, plus, minus };

struct Tk {
  enum K : std::uint8_t { id, num, str, op, eol };
  static constexpr std::uint32_t kNone = UINT32_MAX;
  Tk() = default;
  Tk(K kind, std::string_view text, double number) : k(kind), t(text), n(number) {}
  K k = eol;
  BinOp bop = BinOp::none;  // the binary operator this token stands for
  Kw kw = Kw::None;         // an identifier that is one of the words above (any case)
  Op opc = Op::None;        // an operator that is one of those above
  // Set once builtin() has said this identifier, where it stands, is none of the built-ins: undeclared names and
  // object members are read over and over, and each time were compared with a hundred names.
  mutable bool not_builtin = false;
  // The identifier's symbol (its key interned, see Evaluator::sym_of) and its local variable slot in the procedure
  // slot_proc, both resolved on first use: a name is looked up once per token, not at every read and write.
  mutable std::uint32_t sym = kNone;
  mutable std::uint32_t slot_proc = kNone;
  mutable std::uint32_t slot = 0;
  // The expression compiled from this token on (Evaluator::compile), kNone before the first try, kFail when it
  // cannot be compiled. Copies of tokens into new statements are reset (see fresh_copy).
  mutable std::uint32_t expr = kNone;
  static constexpr std::uint32_t kFail = UINT32_MAX - 1;
  // Identifier (as written), operator text, or string value. The bytes live in the evaluator's text arena for as
  // long as the evaluator (a module of a large add-in is a million tokens: no allocation per token).
  std::string_view t;
  double n = 0;
};
static_assert(sizeof(Tk) <= 48, "a token grew: the modules of a large add-in hold a million of them");

// A token copied into a statement of its own (an inline If's part, a parameter's default): what was compiled from
// the original's position does not hold in the copy.
inline Tk fresh_copy(const Tk& t) {
  Tk c = t;
  c.expr = Tk::kNone;
  return c;
}

BinOp classify_operator(const Tk& t) {
  const std::string_view o = t.t;
  if (t.k == Tk::op) {
    if (o.size() == 1) {
      switch (o[0]) {
        case '=': return BinOp::eq;
        case '<': return BinOp::lt;
        case '>': return BinOp::gt;
        case '&': return BinOp::amp;
        case '+': return BinOp::add;
        case '-': return BinOp::sub;
        case '\\': return BinOp::idiv;
        case '*': return BinOp::mul;
        case '/': return BinOp::div;
        case '^': return BinOp::pow;
        default: return BinOp::none;
      }
    }
    if (o == "<>") return BinOp::ne;
    if (o == "<=" || o == "=<") return BinOp::le;
    if (o == ">=" || o == "=>") return BinOp::ge;
    return BinOp::none;
  }
  if (t.k != Tk::id || o.size() < 2 || o.size() > 4) return BinOp::none;
  // Every identifier of two to four letters comes here: lower-cased once, then compared by length.
  // o.size() <= 4 above; GCC 12 cannot see that through the inlined lexer and warns of an overflow, hence the slack
  char b[8];
  const std::size_t n = std::min(o.size(), sizeof b);
  for (std::size_t i = 0; i < n; ++i) b[i] = lower(o[i]);
  const std::string_view w(b, n);
  switch (w.size()) {
    case 2:
      if (w == "or") return BinOp::or_;
      if (w == "is") return BinOp::is;
      break;
    case 3:
      if (w == "imp") return BinOp::imp;
      if (w == "eqv") return BinOp::eqv;
      if (w == "xor") return BinOp::xor_;
      if (w == "and") return BinOp::and_;
      if (w == "mod") return BinOp::mod;
      break;
    default:
      if (w == "like") return BinOp::like;
      break;
  }
  return BinOp::none;
}

bool id_start(char c) { return is_alpha(c) || c == '_' || static_cast<unsigned char>(c) >= 0x80; }
bool id_char(char c) { return is_alnum(c) || c == '_' || static_cast<unsigned char>(c) >= 0x80; }

// Token text that outlives the statement it was read from: blocks filled one after the other and freed with the
// evaluator. Text that already lies in the module source is not copied (see lex).
class TextArena {
 public:
  std::string_view keep(std::string_view x) {
    if (x.empty()) return {};
    if (x.size() > left_) {
      const std::size_t n = std::max(x.size(), kBlock);
      blocks_.emplace_back(new char[n]);
      cur_ = blocks_.back().get();
      left_ = n;
    }
    std::memcpy(cur_, x.data(), x.size());
    const std::string_view r(cur_, x.size());
    cur_ += x.size();
    left_ -= x.size();
    return r;
  }

 private:
  static constexpr std::size_t kBlock = 64 * 1024;
  std::vector<std::unique_ptr<char[]>> blocks_;
  char* cur_ = nullptr;
  std::size_t left_ = 0;
};

Kw keyword_of(std::string_view id) {
  if (id.size() < 2 || id.size() > 10) return Kw::None;
  // The words by length and first letter: an identifier is compared with the two or three that could match.
  static const auto by_start = [] {
    std::array<std::vector<std::uint8_t>, 11 * 26> t;
    for (std::size_t k = 1; k < std::size(kKwNames); ++k)
      t[kKwNames[k].size() * 26 + static_cast<std::size_t>(kKwNames[k][0] - 'a')].push_back(static_cast<std::uint8_t>(k));
    return t;
  }();
  const char first = lower(id[0]);
  if (first < 'a' || first > 'z') return Kw::None;
  const auto& cands = by_start[id.size() * 26 + static_cast<std::size_t>(first - 'a')];
  if (cands.empty()) return Kw::None;
  char b[10];
  for (std::size_t i = 0; i < id.size(); ++i) b[i] = lower(id[i]);
  const std::string_view w(b, id.size());
  for (const std::uint8_t k : cands)
    if (kKwNames[k] == w) return static_cast<Kw>(k);
  return Kw::None;
}

Op op_of(std::string_view o) {
  if (o.size() == 2) return o == ":=" ? Op::assign : Op::None;
  if (o.size() != 1) return Op::None;
  switch (o[0]) {
    case '(': return Op::lparen;
    case ')': return Op::rparen;
    case ',': return Op::comma;
    case '.': return Op::dot;
    case '!': return Op::bang;
    case '=': return Op::eq;
    case '*': return Op::star;
    case '+': return Op::plus;
    case '-': return Op::minus;
    default: return Op::None;
  }
}

// Tokenizes one statement (comments already removed) into `out` (cleared first): the tokens followed by one eol.
// The caller keeps `out` from statement to statement, so its storage is reused instead of grown token by token.
// Token text is a view into `s` when `s` outlives the evaluator (`stable`: it lies in the module source), else a
// copy kept in `arena`; `buf` is scratch for unquoting and number parsing.
void lex(std::string_view s, bool stable, TextArena& arena, std::string& buf, std::vector<Tk>& out) {
  out.clear();
  const auto text = [&](std::string_view x) { return stable ? x : arena.keep(x); };
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (is_space(c)) {
      ++i;
      continue;
    }
    if (c == '"') {
      // Runs between quotes are appended whole; "" inside is one quote.
      const std::size_t q0 = s.find('"', i + 1);
      const std::size_t e0 = q0 == std::string_view::npos ? s.size() : q0;
      if (q0 == std::string_view::npos || q0 + 1 >= s.size() || s[q0 + 1] != '"') {
        // No "" inside (almost every literal): the text between the quotes as it is.
        out.emplace_back(Tk::str, text(s.substr(i + 1, e0 - i - 1)), 0);
        i = e0 + 1;
        continue;
      }
      buf.clear();
      std::size_t j = i + 1;
      while (j < s.size()) {
        const std::size_t q = s.find('"', j);
        const std::size_t end = q == std::string_view::npos ? s.size() : q;
        buf.append(s.data() + j, end - j);
        j = end;
        if (q == std::string_view::npos) break;
        if (j + 1 < s.size() && s[j + 1] == '"') {
          buf.push_back('"');
          j += 2;
          continue;
        }
        break;
      }
      out.emplace_back(Tk::str, arena.keep(buf), 0);
      i = j + 1;
      continue;
    }
    if (c == '&' && i + 1 < s.size() && (s[i + 1] == 'H' || s[i + 1] == 'h' || s[i + 1] == 'O' || s[i + 1] == 'o')) {
      const bool hex = s[i + 1] == 'H' || s[i + 1] == 'h';
      std::size_t j = i + 2;
      double v = 0;
      while (j < s.size() && (hex ? is_xdigit(s[j]) : (s[j] >= '0' && s[j] <= '7')) && j - i < 20) {
        const char d = s[j];
        v = v * (hex ? 16 : 8) + (is_digit(d) ? d - '0' : lower(d) - 'a' + 10);
        ++j;
      }
      if (j > i + 2) {
        bool is_long = false;
        if (j < s.size() && (s[j] == '&' || s[j] == '%' || s[j] == '^')) {
          is_long = s[j] == '&';
          ++j;
        }
        // &HFFFF is the Integer -1 unless it carries the Long suffix; &HFFFFFFFF is the Long -1.
        if (hex && !is_long && j - i <= 6 && v >= 32768 && v <= 65535) v -= 65536;
        else if (hex && v >= 2147483648.0 && v <= 4294967295.0) v -= 4294967296.0;
        out.emplace_back(Tk::num, text(s.substr(i, j - i)), v);
        i = j;
        continue;
      }
    }
    if (is_digit(c) || (c == '.' && i + 1 < s.size() && is_digit(s[i + 1]))) {
      std::size_t j = i;
      while (j < s.size() && is_digit(s[j])) ++j;
      if (j < s.size() && s[j] == '.' && j + 1 < s.size() && is_digit(s[j + 1])) {
        ++j;
        while (j < s.size() && is_digit(s[j])) ++j;
      }
      if (j < s.size() && (s[j] == 'E' || s[j] == 'e') && j + 1 < s.size() &&
          (is_digit(s[j + 1]) || ((s[j + 1] == '-' || s[j + 1] == '+') && j + 2 < s.size() && is_digit(s[j + 2])))) {
        j += 2;
        while (j < s.size() && is_digit(s[j])) ++j;
      }
      const std::string_view lit = s.substr(i, j - i);
      buf.assign(lit);  // strtod reads up to a NUL
      if (j < s.size() && (s[j] == '#' || s[j] == '!' || s[j] == '@' || s[j] == '%' || s[j] == '&' || s[j] == '^')) ++j;
      const double value = std::strtod(buf.c_str(), nullptr);
      out.emplace_back(Tk::num, text(lit), value);
      i = j;
      continue;
    }
    if (id_start(c)) {
      std::size_t j = i;
      while (j < s.size() && id_char(s[j])) ++j;
      if (j < s.size() && (s[j] == '$' || s[j] == '%')) ++j;
      out.emplace_back(Tk::id, text(s.substr(i, j - i)), 0);
      i = j;
      continue;
    }
    if (c == '[') {  // [bracketed identifier]
      const std::size_t j = s.find(']', i + 1);
      if (j != std::string_view::npos && j - i < 256) {
        out.emplace_back(Tk::id, text(s.substr(i + 1, j - i - 1)), 0);
        i = j + 1;
        continue;
      }
    }
    std::size_t len = 1;  // <> <= >= := =< => are one operator
    if (i + 1 < s.size()) {
      const char d = s[i + 1];
      if ((c == '<' && (d == '>' || d == '=')) || (c == '>' && d == '=') || (c == ':' && d == '=') ||
          (c == '=' && (d == '<' || d == '>')))
        len = 2;
    }
    out.emplace_back(Tk::op, text(s.substr(i, len)), 0);
    i += len;
  }
  out.emplace_back(Tk::eol, std::string_view(), 0);
  for (auto& t : out) {
    t.bop = classify_operator(t);
    if (t.k == Tk::id) t.kw = keyword_of(t.t);
    else if (t.k == Tk::op) t.opc = op_of(t.t);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Modules, procedures, statements

struct Stmt {
  std::vector<Tk> toks;
  std::uint32_t line = 0;  // 1-based physical line in the module source
};

struct Param {
  std::string name;  // lower case
  std::uint32_t sym = 0, slot = 0;
  bool optional = false;
  bool param_array = false;
  std::vector<Tk> default_value;  // the tokens after '=', then an eol; empty for none
};

struct Proc {
  std::string name;   // as written
  std::string key;    // lower case
  std::uint32_t key_sym = 0, key_slot = 0;  // the return value's variable
  bool is_function = false;
  std::vector<Param> params;
  std::vector<Stmt> body;
  std::size_t module = 0;
  // Block structure: for an opener at i, match[i] is its closer (Next, End If, Loop, Wend, End Select, End With).
  std::vector<std::uint32_t> match;
};

// A member path ("UserForm1.Label1.Caption"): views of token text, which lives as long as the evaluator.
using Path = std::vector<std::string_view>;

struct Module {
  std::string name;
  std::vector<Stmt> decls;  // module-level statements
  std::vector<std::size_t> procs;
};

inline bool kw(const Tk& t, Kw w) { return t.kw == w; }
inline bool is_op(const Tk& t, Op o) { return t.opc == o; }

// ---------------------------------------------------------------------------------------------------------------
// The evaluator

// A read position in one statement's tokens. The token list always ends with eol, which peek() returns past the end.
struct Cursor {
  const std::vector<Tk>* t;
  std::size_t i = 0;
  Cursor(const std::vector<Tk>& toks, std::size_t at) : t(&toks), i(at) {}
  const Tk& peek(std::size_t k = 0) const {
    const std::size_t j = i + k;
    return j < t->size() ? (*t)[j] : t->back();
  }
};

// The names builtin() tests for. It looks its name up here once (builtin_index) and compares indexes (bi, made
// when compiling), instead of comparing the name with each literal in turn.
constexpr std::string_view kBuiltinNames[] = {
    "vbcrlf", "vbnewline", "vbcr", "vblf", "vbtab", "vbnullstring", "vbnullchar", "vbback", "true", "false", "vbhide",
    "vbbinarycompare", "vbnormalfocus", "vbtextcompare", "vbunicode", "vbfromunicode", "empty", "chr", "chrw", "chrb",
    "chr$", "chrw$", "chrb$", "asc", "ascw", "ascb", "strreverse", "lcase", "ucase", "trim", "ltrim", "rtrim", "len",
    "lenb", "mid", "midb", "left", "right", "leftb", "rightb", "replace", "split", "join", "array", "ubound",
    "lbound", "cstr", "cvar", "str", "cint", "clng", "cbyte", "clnglng", "cdbl", "csng", "val", "ccur", "cdec", "int",
    "fix", "abs", "sgn", "sqr", "round", "hex", "hex$", "oct", "oct$", "space", "space$", "string", "string$",
    "instr", "instrrev", "iif", "choose", "environ", "environ$", "log", "exp", "sin", "cos", "tan", "atn", "strconv",
};
consteval int bi(std::string_view n) {
  for (std::size_t i = 0; i < std::size(kBuiltinNames); ++i)
    if (kBuiltinNames[i] == n) return static_cast<int>(i);
  throw "not in kBuiltinNames";  // a compile error: every name builtin() tests is in the table
}
int builtin_index(std::string_view name) {
  static const std::unordered_map<std::string_view, int> table = [] {
    std::unordered_map<std::string_view, int> t;
    for (std::size_t i = 0; i < std::size(kBuiltinNames); ++i) t.emplace(kBuiltinNames[i], static_cast<int>(i));
    return t;
  }();
  const auto it = table.find(name);
  return it == table.end() ? -1 : it->second;
}

class Evaluator {
 public:
  Evaluator(const DocumentStrings& extra, bool compiled) : extra_(extra), compiled_(compiled) {
    empty_sym_ = intern(std::string());
  }

  void add_module(std::string name, std::string_view source) {
    const std::size_t mi = modules_.size();
    modules_.push_back({std::move(name), {}, {}});
    std::size_t cur = npos;
    for_each_vba_statement(source, StatementBlanks::any_space, limits::max_string, [&](std::string_view text, std::uint32_t line) {
      if (!charge(text.size())) return;
      const bool stable = text.data() >= source.data() && text.data() + text.size() <= source.data() + source.size();
      lex(text, stable, arena_, lex_buf_, scratch_);
      if (scratch_.size() <= 1) return;
      // The statement keeps exactly its tokens: one allocation, each token moved once.
      Stmt st{std::vector<Tk>(std::make_move_iterator(scratch_.begin()), std::make_move_iterator(scratch_.end())), line};
      // Literals are candidates wherever they appear (a statement the evaluator cannot follow still shows them).
      for (const auto& t : st.toks)
        if (t.k == Tk::str && t.t.size() >= 8 && literal_set_.size() < kMaxCandidates && literal_set_.insert(std::string(t.t)).second)
          literals_.push_back({std::string(t.t), where(mi, line), false});
      std::size_t p = 0;
      while (p < st.toks.size() && (kw(st.toks[p], Kw::Public) || kw(st.toks[p], Kw::Private) || kw(st.toks[p], Kw::Friend) ||
                                    kw(st.toks[p], Kw::Static) || kw(st.toks[p], Kw::Global)))
        ++p;
      const Tk& head = st.toks[p];
      if (cur == npos && (kw(head, Kw::Sub) || kw(head, Kw::Function) || kw(head, Kw::Property))) {
        std::size_t q = p + 1;
        if (kw(head, Kw::Property) && q < st.toks.size() && st.toks[q].k == Tk::id) ++q;  // Get/Let/Set
        if (q >= st.toks.size() || st.toks[q].k != Tk::id) return;
        Proc pr;
        pr.name = std::string(st.toks[q].t);
        pr.key = to_lower(strip_suffix(pr.name));
        pr.is_function = !kw(head, Kw::Sub);
        pr.module = mi;
        parse_params(st.toks, q + 1, pr.params);
        cur = procs_.size();
        // Parameters take the first slots, then the procedure's own name (a Function's return value).
        slots_.emplace_back();
        for (auto& prm : pr.params) prm.slot = slot_in(cur, prm.sym = intern(prm.name));
        pr.key_slot = slot_in(cur, pr.key_sym = intern(pr.key));
        procs_.push_back(std::move(pr));
        modules_[mi].procs.push_back(cur);
        return;
      }
      if (cur != npos && kw(st.toks[0], Kw::End) &&
          (kw(st.toks[1], Kw::Sub) || kw(st.toks[1], Kw::Function) || kw(st.toks[1], Kw::Property))) {
        finish(procs_[cur]);
        cur = npos;
        return;
      }
      if (cur != npos) procs_[cur].body.push_back(std::move(st));
      else modules_[mi].decls.push_back(std::move(st));
    });
    if (cur != npos) finish(procs_[cur]);
  }

  void run() {
    proc_of_sym_.assign(sym_names_.size(), kNoProc);
    for (const auto& p : procs_)
      if (proc_of_sym_[p.key_sym] == kNoProc) proc_of_sym_[p.key_sym] = static_cast<std::uint32_t>(&p - procs_.data());
    // Module-level declarations first (Const, Dim arrays), every module, so cross-module constants resolve.
    for (std::size_t m = 0; m < modules_.size(); ++m) {
      Frame f;
      f.module = m;
      f.global_scope = true;
      for (const auto& st : modules_[m].decls) exec_simple(st, f);
    }
    // Then every procedure once, in source order, parameters unknown.
    for (std::size_t pi = 0; pi < procs_.size() && !exhausted(); ++pi) {
      Frame f;
      f.module = procs_[pi].module;
      f.proc = &procs_[pi];
      for (const auto& prm : procs_[pi].params) set_local(f, prm.slot, Value::unknown());
      exec_range(procs_[pi], 0, procs_[pi].body.size(), f);
    }
    collect_form_fallbacks();
  }

  std::vector<Candidate> take_candidates() {
    std::vector<Candidate> all;
    all.reserve(cands_.size() + literals_.size());
    for (auto& c : cands_)
      if (!c.value.empty()) all.push_back(std::move(c));
    for (auto& l : literals_)
      if (!seen_.count(l.value)) all.push_back(std::move(l));
    return all;
  }

  const std::unordered_set<std::string>& literal_values() const { return literal_set_; }

  std::uint64_t work() const { return work_; }
  std::uint64_t statements() const { return statements_; }
  std::uint32_t limits_hit() const { return limits_hit_; }
  // The work budget ran out inside a compiled expression: the run is to be redone without them (see compile).
  bool crossed() const { return crossed_; }

 private:
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);

  struct Frame {
    std::size_t module = 0;
    const Proc* proc = nullptr;
    bool global_scope = false;
    // Local variables by slot (see slot_in); a slot at or past the end, or not set, holds no variable.
    std::vector<Value> vals;
    std::vector<std::uint8_t> set;
    std::vector<Path> with;  // With target paths
    std::uint32_t line = 0;
  };

  // ---- bookkeeping ----

  bool charge(std::uint64_t n) {
    work_ += n + 1;
    if (work_ > limits::max_work) {
      if (!budget_reported_) {
        budget_reported_ = true;
        ++limits_hit_;
      }
      return false;
    }
    return true;
  }
  bool exhausted() const { return work_ > limits::max_work || statements_ > limits::max_statements; }

  std::string where(std::size_t module, std::uint32_t line) const {
    return "vba:" + modules_[module].name + ":" + std::to_string(line);
  }

  static std::string strip_suffix(std::string_view n) {
    if (!n.empty() && (n.back() == '$' || n.back() == '%')) n.remove_suffix(1);
    return std::string(n);
  }
  static std::string key_of(std::string_view n) { return to_lower(strip_suffix(n)); }
  // An identifier's key: its symbol's name (sym_names_ is a deque, so the reference stays valid as symbols are added).
  const std::string& key_of(const Tk& t) { return sym_names_[sym_of(t)]; }

  // ---- names ----
  //
  // Every variable and procedure name (a key: lower case, suffix dropped) is interned once as a symbol. Globals are
  // indexed by symbol; each procedure numbers the symbols its code uses as local slots, and a frame holds its locals
  // by slot. Tokens remember both, so a read or a write costs an index instead of hashing the name in two maps.
  // What is visible is unchanged: a local shadows a global, and which names exist where is as with the maps.
  static constexpr std::uint32_t kNoProc = UINT32_MAX;
  struct Var {
    std::uint32_t sym;
    std::uint32_t slot;  // Tk::kNone in a frame without locals (module level)
  };

  std::uint32_t intern(const std::string& key) {
    const auto [it, added] = sym_ids_.try_emplace(key, static_cast<std::uint32_t>(sym_names_.size()));
    if (added) {
      sym_names_.push_back(key);
      gvals_.emplace_back();
      gset_.push_back(0);
    }
    return it->second;
  }
  std::uint32_t sym_of(const Tk& t) {
    if (t.sym == Tk::kNone) t.sym = intern(key_of(t.t));
    return t.sym;
  }
  std::uint32_t slot_in(std::size_t proc, std::uint32_t sym) {
    auto& table = slots_[proc];
    return table.try_emplace(sym, static_cast<std::uint32_t>(table.size())).first->second;
  }
  static std::uint32_t proc_index(const Frame& f, const std::vector<Proc>& procs) {
    return static_cast<std::uint32_t>(f.proc - procs.data());
  }
  // An identifier's variable as frame f sees it. A token lies in one procedure's code (or a copy of it: the parts
  // of an inline If, a parameter's default), and is read only in that procedure's frames; the slot is kept with
  // the procedure it was made for all the same.
  Var var_of(const Tk& t, const Frame& f) {
    const std::uint32_t sym = sym_of(t);
    if (f.proc == nullptr) return {sym, Tk::kNone};
    const std::uint32_t pi = proc_index(f, procs_);
    if (t.slot_proc != pi) {
      t.slot = slot_in(pi, sym);
      t.slot_proc = pi;
    }
    return {sym, t.slot};
  }
  std::uint32_t proc_of(std::uint32_t sym) const { return sym < proc_of_sym_.size() ? proc_of_sym_[sym] : kNoProc; }

  static Value* local(Frame& f, std::uint32_t slot) {
    return slot < f.set.size() && f.set[slot] ? &f.vals[slot] : nullptr;
  }
  void set_local(Frame& f, std::uint32_t slot, Value v) {
    if (f.proc == nullptr) return;  // module level: declare and assign write globals there
    if (slot >= f.vals.size()) {
      const std::size_t n = std::max<std::size_t>(slot + 1, slots_[proc_index(f, procs_)].size());
      f.vals.resize(n);
      f.set.resize(n, 0);
    }
    f.vals[slot] = std::move(v);
    f.set[slot] = 1;
  }
  void set_global(std::uint32_t sym, Value v) {
    if (!gset_[sym]) {
      gset_[sym] = 1;
      ++gcount_;
    }
    gvals_[sym] = std::move(v);
  }

  // A string worth scanning. Per (frame, variable) the latest value replaces an earlier one it extends, so a
  // string built piece by piece is scanned once, not once per piece.
  void candidate(const Value& v, const Frame& f, const std::string& slot = {}) {
    if (!v.is_str() || v.s.size() < 6) return;
    if (!charge(v.s.size())) return;
    // (The place is spelt out only for a string that is kept: most assignments repeat a value already seen.)
    if (!slot.empty()) {
      // The key is built in one reused buffer; only a new slot's key is copied (into slot_cand_).
      std::string& key = slot_key_;
      key.assign(slot_prefix(f)).append(slot);
      auto it = slot_cand_.find(key);
      if (it != slot_cand_.end()) {
        Candidate& c = cands_[it->second];
        if (v.s.size() >= c.value.size() && v.s.compare(0, c.value.size(), c.value) == 0) {
          if (seen_.insert(v.s).second) {
            c.value = v.s;
            c.where = where(f.module, f.line);
            c.partial = v.partial;
          }
          return;
        }
      }
      if (!seen_.insert(v.s).second) return;
      if (cands_.size() >= kMaxCandidates) return;
      slot_cand_[key] = cands_.size();
      cands_.push_back({v.s, where(f.module, f.line), v.partial});
      return;
    }
    if (!seen_.insert(v.s).second || cands_.size() >= kMaxCandidates) return;
    cands_.push_back({v.s, where(f.module, f.line), v.partial});
  }
  static constexpr std::size_t kMaxCandidates = 50000;

  // "module:procedure:", the start of frame f's candidate slot keys; made once per procedure (or per module for
  // module-level code) instead of once per call.
  const std::string& slot_prefix(const Frame& f) {
    std::vector<std::string>& table = f.proc ? proc_prefix_ : module_prefix_;
    const std::size_t at = f.proc ? proc_index(f, procs_) : f.module;
    if (table.size() <= at) table.resize(at + 1);
    std::string& pre = table[at];
    if (pre.empty()) pre = std::to_string(f.module) + ":" + (f.proc ? f.proc->key : std::string()) + ":";
    return pre;
  }

  // ---- procedure structure ----

  void parse_params(const std::vector<Tk>& t, std::size_t i, std::vector<Param>& out) {
    if (i >= t.size() || !is_op(t[i], Op::lparen)) return;
    ++i;
    int depth = 0;
    Param cur;
    bool have = false, in_default = false;
    for (; i < t.size() && t[i].k != Tk::eol; ++i) {
      const Tk& x = t[i];
      if (is_op(x, Op::lparen)) { ++depth; if (in_default) cur.default_value.push_back(fresh_copy(x)); continue; }
      if (is_op(x, Op::rparen)) {
        if (depth == 0) break;
        --depth;
        if (in_default) cur.default_value.push_back(fresh_copy(x));
        continue;
      }
      if (depth == 0 && is_op(x, Op::comma)) {
        if (have) out.push_back(cur);
        cur = {};
        have = in_default = false;
        continue;
      }
      if (in_default) { cur.default_value.push_back(fresh_copy(x)); continue; }
      if (depth == 0 && is_op(x, Op::eq)) { in_default = true; continue; }
      if (x.k != Tk::id || depth > 0) continue;
      if (kw(x, Kw::Optional)) { cur.optional = true; continue; }
      if (kw(x, Kw::ParamArray)) { cur.param_array = true; continue; }
      if (kw(x, Kw::ByVal) || kw(x, Kw::ByRef)) continue;
      if (kw(x, Kw::As)) { ++i; continue; }  // skip the type name
      if (!have) { cur.name = key_of(x); have = true; }
    }
    if (have) out.push_back(cur);
    if (out.size() > 64) out.resize(64);
    for (auto& prm : out)
      if (!prm.default_value.empty()) prm.default_value.emplace_back(Tk::eol, std::string_view(), 0);
  }

  // Matches block openers with their closers so that loops and branches can be run as ranges.
  void finish(Proc& p) {
    p.match.assign(p.body.size(), 0);
    std::vector<std::pair<int, std::uint32_t>> stack;  // (kind, index)
    enum { kFor = 1, kIf, kDo, kWhile, kSelect, kWith };
    for (std::uint32_t i = 0; i < p.body.size(); ++i) {
      const auto& t = p.body[i].toks;
      p.match[i] = i;
      int open = 0, close = 0;
      if (kw(t[0], Kw::For)) open = kFor;
      else if (kw(t[0], Kw::Next)) close = kFor;
      else if (kw(t[0], Kw::If) && is_block_if(t)) open = kIf;
      else if (kw(t[0], Kw::End) && t.size() > 1 && kw(t[1], Kw::If)) close = kIf;
      else if (kw(t[0], Kw::EndIf)) close = kIf;
      else if (kw(t[0], Kw::Do)) open = kDo;
      else if (kw(t[0], Kw::Loop)) close = kDo;
      else if (kw(t[0], Kw::While)) open = kWhile;
      else if (kw(t[0], Kw::Wend)) close = kWhile;
      else if (kw(t[0], Kw::Select)) open = kSelect;
      else if (kw(t[0], Kw::End) && t.size() > 1 && kw(t[1], Kw::Select)) close = kSelect;
      else if (kw(t[0], Kw::With)) open = kWith;
      else if (kw(t[0], Kw::End) && t.size() > 1 && kw(t[1], Kw::With)) close = kWith;
      if (open) {
        if (stack.size() < 4096) stack.emplace_back(open, i);
      } else if (close) {
        // Pop to the nearest opener of the same kind (an unclosed inner block is dropped).
        for (std::size_t k = stack.size(); k-- > 0;) {
          if (stack[k].first == close) {
            p.match[stack[k].second] = i;
            stack.resize(k);
            break;
          }
        }
      }
    }
  }

  static bool is_block_if(const std::vector<Tk>& t) {
    // "If c Then" with nothing after Then.
    for (std::size_t i = 1; i < t.size(); ++i)
      if (kw(t[i], Kw::Then)) return t[i + 1].k == Tk::eol;
    return false;
  }

  // ---- execution ----

  void exec_range(const Proc& p, std::size_t begin, std::size_t end, Frame& f) {
    std::size_t pc = begin;
    while (pc < end && pc < p.body.size()) {
      if (exhausted() || !charge(16)) return;  // a statement costs more than its tokens: frames, lookups
      ++statements_;
      const Stmt& st = p.body[pc];
      const auto& t = st.toks;
      f.line = st.line;
      const std::size_t m = p.match[pc];
      // Only the block openers finish() matched have m > pc; every other statement skips the keyword tests.
      if (m <= pc) {
        exec_simple(st, f);
        ++pc;
      } else if (kw(t[0], Kw::For) && m > pc) {
        exec_for(p, pc, m, f);
        pc = m + 1;
      } else if (kw(t[0], Kw::If) && m > pc) {
        exec_if(p, pc, m, f);
        pc = m + 1;
      } else if ((kw(t[0], Kw::Do) || kw(t[0], Kw::While)) && m > pc) {
        // Loops with a condition run once: enough to fold what the body builds from constants.
        if (kw(t[0], Kw::While) || (t.size() > 2 && (kw(t[1], Kw::While) || kw(t[1], Kw::Until)))) {
          Cursor c{t, kw(t[0], Kw::While) ? 1u : 2u};
          eval_expr(c, f);
        }
        exec_range(p, pc + 1, m, f);
        pc = m + 1;
      } else if (kw(t[0], Kw::Select) && m > pc) {
        if (t.size() > 2) {
          Cursor c{t, 2};
          candidate(eval_expr(c, f), f);
        }
        exec_range(p, pc + 1, m, f);  // every Case in turn: the junk in them assigns junk
        pc = m + 1;
      } else if (kw(t[0], Kw::With) && m > pc) {
        f.with.push_back(path_of(t, 1, f));
        exec_range(p, pc + 1, m, f);
        if (!f.with.empty()) f.with.pop_back();
        pc = m + 1;
      } else {
        exec_simple(st, f);
        ++pc;
      }
    }
  }

  // A dotted path of identifiers starting at i ("UserForm1.Label1"), with a With prefix for a leading '.'.
  Path path_of(const std::vector<Tk>& t, std::size_t i, const Frame& f) {
    Path path;
    if (i < t.size() && is_op(t[i], Op::dot) && !f.with.empty()) path = f.with.back();
    while (i < t.size()) {
      if (is_op(t[i], Op::dot)) { ++i; continue; }
      if (t[i].k != Tk::id) break;
      path.push_back(t[i].t);
      ++i;
      if (i < t.size() && !is_op(t[i], Op::dot)) break;
    }
    return path;
  }

  void exec_for(const Proc& p, std::size_t pc, std::size_t next, Frame& f) {
    const auto& t = p.body[pc].toks;
    if (t.size() > 2 && kw(t[1], Kw::Each)) {
      // For Each x In arr: run the body for each known element (bounded), else once.
      const Var var = t[2].k == Tk::id ? var_of(t[2], f) : Var{empty_sym_, Tk::kNone};
      std::size_t i = 3;
      while (i < t.size() && !kw(t[i], Kw::In)) ++i;
      Cursor c{t, i + 1};
      Value coll = eval_expr(c, f);
      if (coll.k == Value::K::arr && coll.a) {
        // coll holds the array for the loop: an element assignment or ReDim in the body copies it first (they
        // write in place only into an array nothing else holds), so it is read here without a copy.
        const auto& elems = *coll.a;
        std::uint32_t n = 0;
        for (const auto& e : elems) {
          if (++n > limits::max_loop_iterations || ++loop_iterations_ > limits::max_total_loop_iterations) {
            ++limits_hit_;
            break;
          }
          assign(var, e, f);
          exec_range(p, pc + 1, next, f);
          if (exhausted()) return;
        }
        return;
      }
      assign(var, Value::unknown(), f);
      exec_range(p, pc + 1, next, f);
      return;
    }
    if (t.size() < 4 || t[1].k != Tk::id) {
      exec_range(p, pc + 1, next, f);
      return;
    }
    const Var var = var_of(t[1], f);
    Cursor c{t, 2};
    if (!is_op(c.peek(), Op::eq)) {
      exec_range(p, pc + 1, next, f);
      return;
    }
    c.i++;
    const Value from = eval_expr(c, f);
    Value to = Value::unknown(), step = Value::number(1);
    if (kw(c.peek(), Kw::To)) {
      c.i++;
      to = eval_expr(c, f);
    }
    if (kw(c.peek(), Kw::Step)) {
      c.i++;
      step = eval_expr(c, f);
    }
    const auto a = as_number(from), b = as_number(to), s = as_number(step);
    if (a && b && s && *s != 0 && from.known() && to.known()) {
      const double count = std::floor((*b - *a) / *s) + 1;
      if (count >= 0 && count <= limits::max_loop_iterations &&
          loop_iterations_ + static_cast<std::uint64_t>(count) <= limits::max_total_loop_iterations) {
        for (double x = *a; (*s > 0 ? x <= *b : x >= *b); x += *s) {
          if (++loop_iterations_ > limits::max_total_loop_iterations) break;
          assign(var, Value::number(x), f);
          exec_range(p, pc + 1, next, f);
          if (exhausted()) return;
          // The body may have changed the counter; read it back as VBA does.
          if (const Value* cur = local(f, var.slot)) {
            if (auto v = as_number(*cur)) x = *v;
            else break;
          }
        }
        assign(var, Value::unknown(), f);
        return;
      }
      ++limits_hit_;
    }
    assign(var, Value::unknown(), f);
    exec_range(p, pc + 1, next, f);
  }

  void exec_if(const Proc& p, std::size_t pc, std::size_t end, Frame& f) {
    // Branch heads at this nesting level: the If, each ElseIf, the Else. They go on heads_ above what the Ifs
    // this one runs inside put there (an If in a branch pushes its own above these and takes them off again).
    const std::size_t base = heads_.size();
    heads_.push_back(pc);
    for (std::size_t i = pc + 1; i < end; ++i) {
      const auto& t = p.body[i].toks;
      if (kw(t[0], Kw::ElseIf) || (kw(t[0], Kw::Else) && t[1].k == Tk::eol)) heads_.push_back(i);
      // Skip nested blocks.
      if (p.match[i] > i) i = p.match[i];
    }
    heads_.push_back(end);
    const std::size_t nheads = heads_.size() - base;
    auto head = [&](std::size_t h) { return heads_[base + h]; };  // by index: a nested If may grow heads_
    bool taken = false;
    for (std::size_t h = 0; h + 1 < nheads && !taken; ++h) {
      const auto& t = p.body[head(h)].toks;
      f.line = p.body[head(h)].line;
      bool run = true;
      if (!kw(t[0], Kw::Else)) {
        Cursor c{t, 1};
        const Value cond = eval_expr(c, f);
        const auto n = cond.known() ? as_number(cond) : std::nullopt;
        if (n && *n == 0) run = false;
        if (n && *n != 0) taken = true;
      }
      if (run) exec_range(p, head(h) + 1, head(h + 1), f);
    }
    heads_.resize(base);
  }

  // One statement that is not a block opener.
  void exec_simple(const Stmt& st, Frame& f) {
    const auto& t = st.toks;
    f.line = st.line;
    if (!charge(t.size())) return;
    std::size_t i = 0;
    while (kw(t[i], Kw::Public) || kw(t[i], Kw::Private) || kw(t[i], Kw::Global) || kw(t[i], Kw::Static) || kw(t[i], Kw::Friend)) ++i;
    const Tk& h = t[i];
    if (h.k == Tk::eol || h.k != Tk::id) return;
    if (kw(h, Kw::Attribute) || kw(h, Kw::Option) || kw(h, Kw::On) || kw(h, Kw::GoTo) || kw(h, Kw::Exit) || kw(h, Kw::Resume) ||
        kw(h, Kw::Declare) || kw(h, Kw::Type) || kw(h, Kw::Enum) || kw(h, Kw::End) || kw(h, Kw::Else) || kw(h, Kw::Case) ||
        kw(h, Kw::Next) || kw(h, Kw::Loop) || kw(h, Kw::Wend) || kw(h, Kw::Implements) || kw(h, Kw::Event) || kw(h, Kw::Erase))
      return;
    if (kw(h, Kw::ElseIf)) return;
    if (kw(h, Kw::Const)) {
      exec_decl(t, i + 1, f, true);
      return;
    }
    if (kw(h, Kw::Dim) || kw(h, Kw::ReDim) || (i > 0 && h.k == Tk::id && !is_op(t[i + 1], Op::eq))) {
      std::size_t j = kw(h, Kw::Dim) || kw(h, Kw::ReDim) ? i + 1 : i;
      if (kw(t[j], Kw::Preserve)) ++j;
      exec_decl(t, j, f, false, kw(h, Kw::ReDim) && kw(t[i + 1], Kw::Preserve));
      return;
    }
    if (kw(h, Kw::If)) {  // single-line If c Then a [Else b]
      exec_inline_if(t, i, f);
      return;
    }
    if (kw(h, Kw::Set) || kw(h, Kw::Let)) ++i;
    if (kw(t[i], Kw::Call)) {
      Cursor c{t, i + 1};
      exec_call_statement(c, f);
      return;
    }
    exec_assign_or_call(t, i, f);
  }

  // Dim/Const/ReDim lists: "a As String, b(10), Const c = 1".
  void exec_decl(const std::vector<Tk>& t, std::size_t i, Frame& f, bool is_const, bool preserve = false) {
    while (i < t.size() && t[i].k == Tk::id) {
      const std::string& name = key_of(t[i]);
      const Var var = var_of(t[i], f);
      ++i;
      Value v;  // Empty
      // The array's size when the bounds were read: it is made at the end (see sized_array), when nothing else
      // can read the variable's old array any more.
      std::optional<std::size_t> elems;
      if (is_op(t[i], Op::lparen)) {
        // Array bounds: "x(3)", "x(1 To 5)", "x()" (dynamic).
        Cursor c{t, i + 1};
        std::optional<long long> upper;
        if (!is_op(c.peek(), Op::rparen)) {
          Value a = eval_expr(c, f);
          if (kw(c.peek(), Kw::To)) {
            c.i++;
            a = eval_expr(c, f);
          }
          upper = as_int(a);
          while (c.peek().k != Tk::eol && !is_op(c.peek(), Op::rparen)) c.i++;  // further dimensions: ignored
        }
        // Past the ')' when there is one; an unclosed "Dim x(3" ends at the eol (fuzz_vba_eval: read past the tokens).
        i = std::min(c.i, t.size() - 1);
        if (is_op(t[i], Op::rparen)) ++i;
        if (upper && *upper >= 0 && static_cast<std::size_t>(*upper) < limits::max_array)
          elems = static_cast<std::size_t>(*upper) + 1;
        else
          v = Value::array({});
      }
      if (kw(t[i], Kw::As)) {
        ++i;
        if (kw(t[i], Kw::New)) ++i;
        while (t[i].k == Tk::id || is_op(t[i], Op::dot)) {
          ++i;
          if (t[i - 1].k == Tk::id && !is_op(t[i], Op::dot)) break;
        }
        if (is_op(t[i], Op::star)) i = std::min(i + 2, t.size() - 1);  // String * 10
      }
      if (is_op(t[i], Op::eq)) {
        Cursor c{t, i + 1};
        v = eval_expr(c, f);
        i = std::min(c.i, t.size() - 1);
        candidate(v, f, name);
        elems.reset();  // the value replaces the array
      }
      if (elems) v = sized_array(*elems, var, f, preserve);
      if (is_const || v.k != Value::K::empty || !lookup_mut(var, f)) declare(var, std::move(v), f);
      if (!is_op(t[i], Op::comma)) break;
      ++i;
    }
  }

  // A Dim/ReDim array of n elements; with Preserve, the variable's old elements first. "ReDim Preserve a(k)" in a
  // loop grows an array one element at a time: when the old array is the variable's alone and declare() is about
  // to overwrite that very variable, its elements are moved over instead of copied (the same elements, without
  // copying every string on every pass).
  Value sized_array(std::size_t n, Var var, Frame& f, bool preserve) {
    Value* old = preserve ? lookup_mut(var, f) : nullptr;
    if (old == nullptr || old->k != Value::K::arr || !old->a) return Value::array(std::vector<Value>(n));
    const bool overwritten = f.global_scope ? old == &gvals_[var.sym] : (f.proc != nullptr && old == local(f, var.slot));
    if (overwritten && old->a.use_count() == 1) {
      Value v;
      v.k = Value::K::arr;
      v.a = std::move(old->a);
      v.a->resize(n);
      return v;
    }
    std::vector<Value> e(n);
    for (std::size_t k = 0; k < e.size() && k < old->a->size(); ++k) e[k] = (*old->a)[k];
    return Value::array(std::move(e));
  }

  void exec_inline_if(const std::vector<Tk>& t, std::size_t i, Frame& f) {
    Cursor c{t, i + 1};
    const Value cond = eval_expr(c, f);
    if (!kw(c.peek(), Kw::Then)) return;
    c.i++;
    // Split the rest at the top-level Else.
    std::size_t else_at = t.size() - 1;
    for (std::size_t k = c.i; k < t.size(); ++k)
      if (kw(t[k], Kw::Else)) { else_at = k; break; }
    const auto n = cond.known() ? as_number(cond) : std::nullopt;
    // A part is made a statement of its own the first time it runs and kept (keyed by its first token, which lies
    // in a statement that outlives the run): an If inside a loop or a called Function runs again and again.
    auto run_part = [&](std::size_t a, std::size_t b) {
      if (a >= b) return;
      auto it = inline_parts_.find(&t[a]);
      if (it == inline_parts_.end()) {
        Stmt part;
        part.line = f.line;
        part.toks.reserve(b - a + 1);
        for (std::size_t k = a; k < b; ++k) part.toks.push_back(fresh_copy(t[k]));
        part.toks.emplace_back(Tk::eol, std::string_view(), 0);
        it = inline_parts_.emplace(&t[a], std::move(part)).first;
      }
      exec_simple(it->second, f);
    };
    if (!n || *n != 0) run_part(c.i, else_at);
    if (else_at + 1 < t.size() && (!n || *n == 0)) run_part(else_at + 1, t.size() - 1);
  }

  // "x = e", "x(i) = e", "obj.Prop = e", or a call statement "f a, b" / "obj.Method a, b".
  void exec_assign_or_call(const std::vector<Tk>& t, std::size_t i, Frame& f) {
    if (t[i].k != Tk::id && !is_op(t[i], Op::dot)) return;
    // Find a top-level '=' after an lvalue-looking prefix.
    std::size_t k = i;
    int depth = 0;
    bool simple_lvalue = true;
    for (; k < t.size() && t[k].k != Tk::eol; ++k) {
      if (is_op(t[k], Op::lparen)) ++depth;
      else if (is_op(t[k], Op::rparen)) --depth;
      else if (depth == 0 && is_op(t[k], Op::eq)) break;
      else if (depth == 0 && !(t[k].k == Tk::id || is_op(t[k], Op::dot))) simple_lvalue = false;
      if (depth == 0 && k > i && t[k].k == Tk::id && t[k - 1].k == Tk::id) simple_lvalue = false;  // "f a"
    }
    if (k < t.size() && is_op(t[k], Op::eq) && simple_lvalue) {
      Cursor c{t, k + 1};
      Value v = eval_expr(c, f);  // moved into the variable once the candidate is taken
      if (t[i].k == Tk::id && (is_op(t[i + 1], Op::eq) || (is_op(t[i + 1], Op::lparen) && !is_op(t[i + 2], Op::rparen)))) {
        const std::string& name = key_of(t[i]);
        const Var var = var_of(t[i], f);
        if (is_op(t[i + 1], Op::eq)) {
          candidate(v, f, name);
          assign(var, std::move(v), f);
        } else {
          // Element assignment x(i) = v.
          Cursor ic{t, i + 2};
          const Value idx = eval_expr(ic, f);
          // (The slot's name is spelt out only for a value candidate() looks at.)
          if (v.is_str() && v.s.size() >= 6) candidate(v, f, name + "(" + (as_string(idx) ? *as_string(idx) : "?") + ")");
          auto* arr = lookup_mut(var, f);
          const auto n = as_int(idx);
          if (arr && arr->k == Value::K::arr && arr->a && n && *n >= 0 && static_cast<std::size_t>(*n) < arr->a->size()) {
            if (arr->a.use_count() > 1) arr->a = std::make_shared<std::vector<Value>>(*arr->a);
            (*arr->a)[static_cast<std::size_t>(*n)] = std::move(v);
          } else if (arr && arr->k == Value::K::arr && arr->a && n && *n >= 0 &&
                     static_cast<std::size_t>(*n) < limits::max_array) {
            if (arr->a.use_count() > 1) arr->a = std::make_shared<std::vector<Value>>(*arr->a);
            arr->a->resize(static_cast<std::size_t>(*n) + 1);
            (*arr->a)[static_cast<std::size_t>(*n)] = std::move(v);
          }
        }
      } else {
        candidate(v, f);  // obj.Prop = v
      }
      return;
    }
    Cursor c{t, i};
    exec_call_statement(c, f);
  }

  // "f a, b", "f(a, b)", "obj.Method a, b": the callee's path, then arguments without parentheses.
  void exec_call_statement(Cursor& c, Frame& f) {
    const std::size_t start = c.i;
    // Parse the callee as a postfix expression; when what follows is not the end, read arguments.
    Value v = eval_postfix(c, f, /*statement=*/true);
    (void)v;
    std::vector<Value> args;
    while (c.peek().k != Tk::eol && args.size() < 64 && !abort_) {
      if (is_op(c.peek(), Op::comma)) {
        c.i++;
        continue;
      }
      const std::size_t before = c.i;
      // Named argument "x:=v".
      if (c.peek().k == Tk::id && is_op(c.peek(1), Op::assign)) c.i += 2;
      Value a = eval_expr(c, f);
      candidate(a, f);
      args.push_back(std::move(a));
      if (c.i == before) c.i++;  // no progress: skip a token
    }
    // A call of our own procedure without parentheses: run it with the arguments.
    const auto& t = *c.t;
    if (t[start].k == Tk::id && (t[start + 1].k != Tk::op || !is_op(t[start + 1], Op::dot))) {
      const std::uint32_t pi = proc_of(sym_of(t[start]));
      if (pi != kNoProc && !args.empty()) call_proc(procs_[pi], args, f);
    }
    abort_ = false;
  }

  // ---- variables ----

  Value* lookup_mut(Var v, Frame& f) {
    if (Value* l = local(f, v.slot)) return l;
    return gset_[v.sym] ? &gvals_[v.sym] : nullptr;
  }
  void declare(Var v, Value x, Frame& f) {
    if (f.global_scope) set_global(v.sym, std::move(x));
    else set_local(f, v.slot, std::move(x));
  }
  void assign(Var v, Value x, Frame& f) {
    if (v.sym == empty_sym_) return;
    if (f.global_scope) {
      set_global(v.sym, std::move(x));
      return;
    }
    if (Value* l = local(f, v.slot)) {
      *l = std::move(x);
      return;
    }
    // The function's own name is its return value; a module-level variable stays global.
    if (f.proc && f.proc->key_sym == v.sym) {
      set_local(f, v.slot, std::move(x));
      return;
    }
    if (gset_[v.sym]) {
      gvals_[v.sym] = std::move(x);
      return;
    }
    // Undeclared: implicitly global in effect for droppers that set a name in one procedure and read it in another.
    if (gcount_ < 65536) set_global(v.sym, std::move(x));
  }

  // ---- expressions ----

  Value eval_expr(Cursor& c, Frame& f) {
    depth_ = 0;
    abort_ = false;
    // The compiled form when there is one and the work budget is not spent yet (once it is, every level entered is
    // a cut, which only the parse below follows).
    if (compiled_ && c.i < c.t->size() && work_ <= limits::max_work) {
      const Tk& start = (*c.t)[c.i];
      if (start.expr == Tk::kNone) start.expr = compile(c);
      if (start.expr != Tk::kFail) {
        const XExpr x = xexprs_[start.expr];
        work_ += x.level_work;  // what entering its precedence levels costs the parse, all at once
        Value v = xeval(x.root, f);
        // A budget crossed in here was crossed at another moment than the parse would have crossed it (the levels'
        // work was charged first): the evaluation is redone without compiled expressions (see evaluate).
        if (work_ > limits::max_work) crossed_ = true;
        c.i = x.end;
        return v;
      }
    }
    Value v = parse_level(c, f, 0);
    abort_ = false;
    return v;
  }

  // ---- compiled expressions ----
  //
  // An expression is compiled the first time it runs, from the token it starts at, into a tree: literals, names
  // with their argument lists, member chains and index calls, unary and binary operators. It is what parse_level
  // and eval_postfix do with the same tokens, minus the parsing: a statement runs many times (loops, calls of the
  // macro's own Functions), and the parse re-read thirteen precedence levels around every operand each time.
  //
  // The compiler is parse_level's walk over the levels with nodes in place of values, so it takes the same tokens,
  // enters the same levels (their work, two units each, is charged when the expression runs) and reaches the same
  // depth. An expression the parse would cut or give up on (deeper than max_vba_expr_levels, a missing ')', a
  // token that starts no operand, more than 256 arguments) is not compiled: the parse runs it, as before. So is a
  // call statement's callee (its chain stops where a value is unknown, which only running shows).
  //
  // The tree is evaluated in the parse's order (arguments, then the name; the left operand, then the right one,
  // then the operator), so calls, candidates and every charge happen in the same sequence; only the levels' work is
  // charged at the start instead of level by level. That changes nothing unless the work budget runs out during
  // the expression, and then the evaluator is run again without compiled expressions (crossed_).
  struct XNode {
    enum Kind : std::uint8_t { str, num, omitted, ident, paren, dot, neg, not_, bin };
    Kind kind = omitted;
    BinOp op = BinOp::none;
    bool has_args = false;     // ident: "name(...)"
    bool chained = false;      // ident: a member, a call or an index follows its arguments
    bool member_path = false;  // ident: a member follows: the member path starts with the name
    const Tk* tok = nullptr;   // str, num, ident
    std::uint32_t a = 0, b = 0;  // paren: the inner expression; neg, not_: the operand; bin: left and right
    std::uint32_t args = 0, nargs = 0;        // ident: its arguments (xargs_)
    std::uint32_t members = 0, nmembers = 0;  // ident, paren, dot: the member chain (xmembers_)
    std::uint32_t calls = 0, ncalls = 0;      // ident, paren, dot: the index calls after it (xcalls_)
  };
  struct XMember {
    std::string_view name;
    std::string key;  // key_of(name), for the library-qualified built-ins
    bool has_args = false;
    std::uint32_t args = 0, nargs = 0;
  };
  struct XCall {
    std::uint32_t args = 0, nargs = 0;
  };
  struct XExpr {
    std::uint32_t root = 0;
    std::uint32_t end = 0;  // the token index the parse stops at
    std::uint64_t level_work = 0;
  };

  std::uint32_t xnode(XNode n) {
    xnodes_.push_back(n);
    return static_cast<std::uint32_t>(xnodes_.size() - 1);
  }

  // Compiles the expression at c (c itself is not moved); Tk::kFail when it is not to be compiled.
  std::uint32_t compile(const Cursor& at) {
    if (xexprs_.size() >= kMaxCompiled) return Tk::kFail;
    const std::size_t nodes = xnodes_.size(), args = xargs_.size(), members = xmembers_.size(),
                      calls = xcalls_.size();
    Cursor c = at;
    cfail_ = false;
    cdepth_ = cmax_depth_ = 0;
    clevels_ = 0;
    cframes_.clear();
    const std::uint32_t root = cparse_level(c, 0);
    if (cfail_ || cmax_depth_ > limits::max_vba_expr_levels || c.i > UINT32_MAX / 2) {
      xnodes_.resize(nodes);
      xargs_.resize(args);
      xmembers_.resize(members);
      xcalls_.resize(calls);
      return Tk::kFail;
    }
    xexprs_.push_back({root, static_cast<std::uint32_t>(c.i), 2 * clevels_});
    return static_cast<std::uint32_t>(xexprs_.size() - 1);
  }
  static constexpr std::size_t kMaxCompiled = 1u << 22;

  // parse_level's walk (see there), building nodes.
  std::uint32_t cparse_level(Cursor& c, int level, bool pow_operand = false) {
    if (cfail_) return 0;
    const std::size_t base = cframes_.size();
    auto plain = [&](int a, int b) {
      if (a > b) return;
      if (cframes_.size() > base && cframes_.back().kind == kPlain && cframes_.back().last + 1 == a)
        cframes_.back().last = static_cast<std::uint8_t>(b);
      else
        cframes_.push_back({static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(b), kPlain});
    };
    std::uint32_t v = 0;
    for (int lv = level;;) {
      const int stop = lv <= 4 ? 4 : lv <= 11 ? 11 : 13;
      const int k = stop - lv + 1;
      cdepth_ += static_cast<std::uint32_t>(k);
      clevels_ += static_cast<std::uint64_t>(k);
      cmax_depth_ = std::max(cmax_depth_, cdepth_);
      if (cmax_depth_ > limits::max_vba_expr_levels) cfail_ = true;  // the parse cuts here
      if (stop == 13) {
        plain(lv, 12);
        v = cfail_ ? 0 : cpostfix(c);
        --cdepth_;
        break;
      }
      std::uint8_t kind = kPlain;
      if (stop == 4 && kw(c.peek(), Kw::Not)) kind = kNot;
      else if (stop == 11 && is_op(c.peek(), Op::minus)) kind = kNegate;
      else if (stop == 11 && is_op(c.peek(), Op::plus)) kind = kPlus;
      if (kind == kPlain) {
        plain(lv, stop);
        lv = stop + 1;
      } else {
        plain(lv, stop - 1);
        cframes_.push_back({static_cast<std::uint8_t>(stop), static_cast<std::uint8_t>(stop), kind});
        c.i++;
        lv = stop;
      }
    }
    BinOp o = c.peek().bop;
    int ol = binary_level(o);
    while (cframes_.size() > base) {
      const LevelFrame fr = cframes_.back();
      if (fr.kind != kPlain) {
        if (!cfail_ && fr.kind == kNot) v = xnode({.kind = XNode::not_, .a = v});
        else if (!cfail_ && fr.kind == kNegate) v = xnode({.kind = XNode::neg, .a = v});
        cframes_.pop_back();
        --cdepth_;
        continue;
      }
      int top = fr.last;
      while (!cfail_ && ol >= fr.first && ol <= top && !(pow_operand && ol == 12)) {
        cdepth_ -= static_cast<std::uint32_t>(top - ol);
        top = ol;
        c.i++;
        const std::uint32_t rhs = ol == 12 ? cparse_level(c, 11, true) : cparse_level(c, ol + 1);
        if (cfail_) break;
        v = xnode({.kind = XNode::bin, .op = o, .a = v, .b = rhs});
        o = c.peek().bop;
        ol = binary_level(o);
      }
      cdepth_ -= static_cast<std::uint32_t>(top - fr.first + 1);
      cframes_.pop_back();
    }
    return v;
  }

  // eval_postfix's reading of a primary and its chain (outside a call statement), building nodes.
  std::uint32_t cpostfix(Cursor& c) {
    const Tk& t = c.peek();
    if (t.k == Tk::str || t.k == Tk::num) {
      c.i++;
      return xnode({.kind = t.k == Tk::str ? XNode::str : XNode::num, .tok = &t});
    }
    XNode n;
    if (is_op(t, Op::lparen)) {
      c.i++;
      n.kind = XNode::paren;
      n.a = cparse_level(c, 0);
      if (cfail_) return 0;
      if (is_op(c.peek(), Op::rparen)) c.i++;
      else cfail_ = true;
    } else if (is_op(t, Op::dot) || is_op(t, Op::bang)) {
      n.kind = XNode::dot;
    } else if (t.k != Tk::id) {
      cfail_ = true;
    } else {
      c.i++;
      n.kind = XNode::ident;
      n.tok = &t;
      n.has_args = is_op(c.peek(), Op::lparen);
      if (n.has_args) cparse_args(c, n.args, n.nargs);
      n.chained = is_op(c.peek(), Op::dot) || is_op(c.peek(), Op::bang) || is_op(c.peek(), Op::lparen);
      n.member_path = is_op(c.peek(), Op::dot) || is_op(c.peek(), Op::bang);
    }
    if (cfail_) return 0;
    if (n.kind != XNode::ident || n.chained) cchain(c, n);
    if (cfail_) return 0;
    return xnode(n);
  }

  // member_chain's reading (outside a call statement): members with their arguments, then index calls.
  void cchain(Cursor& c, XNode& n) {
    std::vector<XMember> ms;
    while (!cfail_ && (is_op(c.peek(), Op::dot) || is_op(c.peek(), Op::bang)) && c.peek(1).k == Tk::id) {
      c.i++;
      XMember m;
      m.name = c.peek().t;
      m.key = key_of(m.name);
      c.i++;
      m.has_args = is_op(c.peek(), Op::lparen);
      if (m.has_args) cparse_args(c, m.args, m.nargs);
      ms.push_back(std::move(m));
    }
    std::vector<XCall> cs;
    while (!cfail_ && is_op(c.peek(), Op::lparen)) {
      XCall k;
      cparse_args(c, k.args, k.nargs);
      cs.push_back(k);
    }
    if (cfail_) return;
    n.members = static_cast<std::uint32_t>(xmembers_.size());
    n.nmembers = static_cast<std::uint32_t>(ms.size());
    for (auto& m : ms) xmembers_.push_back(std::move(m));
    n.calls = static_cast<std::uint32_t>(xcalls_.size());
    n.ncalls = static_cast<std::uint32_t>(cs.size());
    for (const auto& k : cs) xcalls_.push_back(k);
  }

  // parse_args's reading; the cursor is on '('.
  void cparse_args(Cursor& c, std::uint32_t& first, std::uint32_t& count) {
    std::vector<std::uint32_t> ids;
    c.i++;
    if (is_op(c.peek(), Op::rparen)) {
      c.i++;
    } else {
      while (!cfail_) {
        if (c.peek().k == Tk::id && is_op(c.peek(1), Op::assign)) c.i += 2;
        if (is_op(c.peek(), Op::comma)) {
          ids.push_back(xnode({.kind = XNode::omitted}));
        } else {
          ids.push_back(cparse_level(c, 0));
          if (ids.size() > 256) cfail_ = true;
        }
        if (cfail_) break;
        if (is_op(c.peek(), Op::comma)) {
          c.i++;
          continue;
        }
        break;
      }
      if (cfail_) return;
      if (is_op(c.peek(), Op::rparen)) c.i++;
      else cfail_ = true;
    }
    first = static_cast<std::uint32_t>(xargs_.size());
    count = static_cast<std::uint32_t>(ids.size());
    for (auto id : ids) xargs_.push_back(id);
  }

  // An argument list whose vector comes from args_pool_ and goes back there (emptied: the values end where they
  // ended before, with the list) instead of one allocation per call. Only a list with arguments touches the pool.
  struct PooledArgs {
    Evaluator& e;
    std::vector<Value> v;
    explicit PooledArgs(Evaluator& ev) : e(ev) {}
    PooledArgs(const PooledArgs&) = delete;
    PooledArgs& operator=(const PooledArgs&) = delete;
    ~PooledArgs() {
      if (v.capacity() == 0) return;
      v.clear();
      if (e.args_pool_.size() < kArgsPool) e.args_pool_.push_back(std::move(v));
    }
  };
  static constexpr std::size_t kArgsPool = 64;

  void xeval_args(std::uint32_t first, std::uint32_t count, Frame& f, std::vector<Value>& args) {
    if (count == 0) return;
    if (args.capacity() == 0 && !args_pool_.empty()) {
      args = std::move(args_pool_.back());
      args_pool_.pop_back();
    }
    args.reserve(count);
    for (std::uint32_t k = 0; k < count; ++k) args.push_back(xeval(xargs_[first + k], f));
  }

  Value xeval(std::uint32_t id, Frame& f) {
    const XNode& n = xnodes_[id];  // a deque: compiling another expression (in a called Function) keeps it
    switch (n.kind) {
      case XNode::str:
        if (!charge(n.tok->t.size())) return Value::unknown();
        return Value::string(std::string(n.tok->t));
      case XNode::num: return Value::number(n.tok->n);
      case XNode::omitted: return Value{};
      case XNode::not_: {
        const Value v = xeval(n.a, f);
        const auto x = v.known() ? as_int(v) : std::nullopt;
        return x ? Value::number(static_cast<double>(~*x)) : Value::unknown();
      }
      case XNode::neg: {
        const Value v = xeval(n.a, f);
        const auto x = v.known() ? as_number(v) : std::nullopt;
        return x ? Value::number(-*x) : Value::unknown();
      }
      case XNode::bin: {
        // A chain of operators of one level is a tree as deep as it is long: its left side is walked here, not
        // recursed into (a right operand is of a higher level, so its depth is bounded by the levels).
        std::uint32_t spine[64];
        std::size_t ns = 0;
        std::uint32_t cur = id;
        while (xnodes_[cur].kind == XNode::bin && ns < std::size(spine)) {
          spine[ns++] = cur;
          cur = xnodes_[cur].a;
        }
        Value v = xeval(cur, f);
        for (std::size_t k = ns; k-- > 0;) {
          const XNode& b = xnodes_[spine[k]];
          const Value rhs = xeval(b.b, f);
          v = binary(b.op, std::move(v), rhs);
        }
        return v;
      }
      case XNode::paren: return xchain(n, f, xeval(n.a, f), {});
      case XNode::dot: {
        Path path;
        if (!f.with.empty()) path = f.with.back();
        return xchain(n, f, Value::unknown(), std::move(path));
      }
      case XNode::ident: break;
    }
    const Tk& t = *n.tok;
    const Var var = var_of(t, f);
    PooledArgs pooled(*this);
    std::vector<Value>& args = pooled.v;
    if (n.has_args) xeval_args(n.args, n.nargs, f, args);
    const std::uint32_t pi = proc_of(var.sym);
    Value v;
    if (auto* x = lookup_mut(var, f); x != nullptr && !(f.proc && f.proc->key_sym == var.sym && n.has_args)) {
      if (!n.has_args && !n.chained) return *x;
      if (n.has_args) v = index(*x, args);
      else v = *x;
    } else if (pi != kNoProc) {
      v = call_proc(procs_[pi], args, f);
    } else if (auto b = t.not_builtin ? std::nullopt : builtin(key_of(t), args, n.has_args, f)) {
      v = std::move(*b);
    } else {
      t.not_builtin = true;
      v = Value::unknown();
      for (const auto& a : args) candidate(a, f);
    }
    if (!n.chained) return v;
    Path path;
    if (n.member_path) path.push_back(t.t);
    return xchain(n, f, std::move(v), std::move(path));
  }

  // member_chain on a compiled chain.
  Value xchain(const XNode& n, Frame& f, Value v, Path path) {
    for (std::uint32_t k = 0; k < n.nmembers; ++k) {
      const XMember& m = xmembers_[n.members + k];
      PooledArgs pooled(*this);
      std::vector<Value>& args = pooled.v;
      if (m.has_args) xeval_args(m.args, m.nargs, f, args);
      path.push_back(m.name);
      if (path.size() > 16) path.erase(path.begin());
      if (path.size() == 2 && (iequals(path[0], "VBA") || iequals(path[0], "Strings") || iequals(path[0], "Interaction") ||
                               iequals(path[0], "Conversion") || iequals(path[0], "Math"))) {
        if (auto b = builtin(m.key, args, m.has_args, f)) {
          v = std::move(*b);
          continue;
        }
      }
      v = resolve_member(path, m.name, args, v);
      if (!v.known())
        for (const auto& a : args) candidate(a, f);
    }
    for (std::uint32_t k = 0; k < n.ncalls; ++k) {
      const XCall& call = xcalls_[n.calls + k];
      PooledArgs pooled(*this);
      xeval_args(call.args, call.nargs, f, pooled.v);
      v = index(v, pooled.v);
    }
    return v;
  }

  // Levels, loosest first: 0 Imp/Eqv, 1 Xor, 2 Or, 3 And, 4 Not, 5 comparisons, 6 &, 7 + -, 8 Mod, 9 \, 10 * /,
  // 11 unary -, 12 ^, 13 postfix. Binary operators of every level associate to the left, ^ too (a ^ b ^ c is
  // (a ^ b) ^ c, as VBA computes it). The right operand of ^ is read from level 11 so that a ^ -b works, but that
  // read leaves the next ^ to the loop on the left (pow_operand). Not is read only where level 4 is entered
  // ("a And Not b", not "a = Not b"), a sign only where level 11 is.
  //
  // This is the recursive descent over those levels made into one loop. Each level entered costs what a recursive
  // call cost before: one step of depth_ and one unit of work, checked against limits::max_vba_expr_levels and the work
  // budget level by level, so where an expression is cut, and the work charged, are as they were. Levels are
  // entered in runs up to the next one that looks at the token (4, 11, the primary) and kept on frames_ as runs, so
  // an operand costs a few steps instead of thirteen calls that each looked at the next token. Only an operator's
  // right operand recurses.
  Value parse_level(Cursor& c, Frame& f, int level, bool pow_operand = false) {
    if (abort_) return Value::unknown();
    const std::size_t base = frames_.size();
    // Plain levels a..b entered: extend the run on top (this call's own, not the caller's) or start one.
    auto plain = [&](int a, int b) {
      if (a > b) return;
      if (frames_.size() > base && frames_.back().kind == kPlain && frames_.back().last + 1 == a)
        frames_.back().last = static_cast<std::uint8_t>(b);
      else
        frames_.push_back({static_cast<std::uint8_t>(a), static_cast<std::uint8_t>(b), kPlain});
    };
    Value v;
    // Down to the primary, reading the unary operators of the levels passed.
    for (int lv = level;;) {
      const int stop = lv <= 4 ? 4 : lv <= 11 ? 11 : 13;
      const int k = stop - lv + 1;
      if (!enter_levels(static_cast<std::uint32_t>(k))) {
        // A cap is reached in this run: enter one level at a time to stop where the recursion stopped.
        int entered = 0;
        while (entered < k && ++depth_ <= limits::max_vba_expr_levels && charge(1)) ++entered;
        if (entered < k) {
          ++limits_hit_;  // abort_ is false on the way down: nothing but this sets it before the primary
          abort_ = true;
          --depth_;
          plain(lv, lv + entered - 1);
          v = Value::unknown();
          break;
        }
      }
      if (stop == 13) {  // levels lv..12 passed, 13 is the primary
        plain(lv, 12);
        v = eval_postfix(c, f, false);
        --depth_;
        break;
      }
      std::uint8_t kind = kPlain;
      if (stop == 4 && kw(c.peek(), Kw::Not)) kind = kNot;
      else if (stop == 11 && is_op(c.peek(), Op::minus)) kind = kNegate;
      else if (stop == 11 && is_op(c.peek(), Op::plus)) kind = kPlus;
      if (kind == kPlain) {
        plain(lv, stop);
        lv = stop + 1;
      } else {
        plain(lv, stop - 1);
        frames_.push_back({static_cast<std::uint8_t>(stop), static_cast<std::uint8_t>(stop), kind});
        c.i++;  // the operand of Not or a sign is read at the same level again
        lv = stop;
      }
    }
    // Back up: each level applies its unary operator, or takes the binary operators of its own level.
    BinOp o = c.peek().bop;
    int ol = binary_level(o);
    while (frames_.size() > base) {
      const LevelFrame fr = frames_.back();
      if (fr.kind != kPlain) {
        if (fr.kind == kNot) {
          const auto n = v.known() ? as_int(v) : std::nullopt;
          v = n ? Value::number(static_cast<double>(~*n)) : Value::unknown();
        } else if (fr.kind == kNegate) {
          const auto n = v.known() ? as_number(v) : std::nullopt;
          v = n ? Value::number(-*n) : Value::unknown();
        }
        frames_.pop_back();
        --depth_;
        continue;
      }
      // A run of plain levels, innermost (last) first: the operator's own level takes it; the levels above it are
      // left as their returns left them. After a right operand the next operator is never of a level above.
      int top = fr.last;
      while (!abort_ && ol >= fr.first && ol <= top && !(pow_operand && ol == 12)) {
        depth_ -= static_cast<std::uint32_t>(top - ol);
        top = ol;
        c.i++;
        Value rhs = ol == 12 ? parse_level(c, f, 11, true) : parse_level(c, f, ol + 1);
        v = binary(o, std::move(v), rhs);
        o = c.peek().bop;
        ol = binary_level(o);
      }
      depth_ -= static_cast<std::uint32_t>(top - fr.first + 1);
      frames_.pop_back();
    }
    return v;
  }

  // Enters k levels at once when neither the depth cap nor the work budget can be reached on the way: the same
  // depth and work as k level entries of one unit each (charge adds the unit and one).
  bool enter_levels(std::uint32_t k) {
    if (depth_ + k > limits::max_vba_expr_levels || work_ > limits::max_work || (limits::max_work - work_) / 2 < k)
      return false;
    depth_ += k;
    work_ += 2 * static_cast<std::uint64_t>(k);
    return true;
  }

  enum : std::uint8_t { kPlain, kNot, kNegate, kPlus };
  struct LevelFrame {
    std::uint8_t first, last, kind;  // levels first..last entered; a unary operator's level is one level alone
  };

  static bool has_string(const Value& v) {
    return v.k == Value::K::empty || v.k == Value::K::str || v.k == Value::K::num;
  }

  // a & b. `a` is consumed: a string built piece by piece (s = s & x) grows in place instead of being copied.
  Value concat(Value&& a, const Value& b) {
    const bool ha = has_string(a), hb = has_string(b);
    if (!ha && !hb) return Value::unknown();
    const bool part = !ha || !hb || a.partial || b.partial;
    std::string r = a.k == Value::K::str ? std::move(a.s) : ha ? *as_string(a) : std::string();
    std::string converted;
    std::string_view rb;
    if (b.k == Value::K::str) {
      rb = b.s;
    } else if (hb) {
      converted = *as_string(b);
      rb = converted;
    }
    if (r.size() + rb.size() > limits::max_string) {
      ++limits_hit_;
      return Value::unknown();
    }
    if (!charge(r.size() + rb.size())) return Value::unknown();
    r += rb;
    return Value::string(std::move(r), part);
  }

  Value binary(BinOp o, Value&& a, const Value& b) {
    if (o == BinOp::amp) return concat(std::move(a), b);
    if (o == BinOp::add) {
      // String + string concatenates; a number on either side adds (VBA converts the string).
      if ((a.is_str() || a.k == Value::K::empty) && (b.is_str() || b.k == Value::K::empty) &&
          !(a.k == Value::K::empty && b.k == Value::K::empty))
        return concat(std::move(a), b);
      if ((a.is_str() && !b.known()) || (!a.known() && b.is_str())) return concat(std::move(a), b);
      auto x = as_number(a), y = as_number(b);
      if (a.known() && b.known() && x && y) return Value::number(*x + *y);
      return Value::unknown();
    }
    if (!a.known() || !b.known()) return Value::unknown();
    switch (o) {
      case BinOp::eq: case BinOp::ne: case BinOp::lt: case BinOp::gt: case BinOp::le: case BinOp::ge: {
        int cmp = 0;
        if (a.is_str() && b.is_str()) {
          cmp = a.s.compare(b.s);
        } else {
          auto x = as_number(a), y = as_number(b);
          if (!x || !y) return Value::unknown();
          cmp = *x < *y ? -1 : (*x > *y ? 1 : 0);
        }
        bool r = false;
        if (o == BinOp::eq) r = cmp == 0;
        else if (o == BinOp::ne) r = cmp != 0;
        else if (o == BinOp::lt) r = cmp < 0;
        else if (o == BinOp::gt) r = cmp > 0;
        else if (o == BinOp::le) r = cmp <= 0;
        else r = cmp >= 0;
        return Value::number(r ? -1 : 0);
      }
      case BinOp::like: case BinOp::is: return Value::unknown();
      case BinOp::and_: case BinOp::or_: case BinOp::xor_: case BinOp::imp: case BinOp::eqv: {
        auto x = as_int(a), y = as_int(b);
        if (!x || !y) return Value::unknown();
        long long r = 0;
        if (o == BinOp::and_) r = *x & *y;
        else if (o == BinOp::or_) r = *x | *y;
        else if (o == BinOp::xor_) r = *x ^ *y;
        else if (o == BinOp::eqv) r = ~(*x ^ *y);
        else r = (~*x) | *y;
        return Value::number(static_cast<double>(r));
      }
      case BinOp::mod: case BinOp::idiv: {
        auto x = as_int(a), y = as_int(b);
        if (!x || !y || *y == 0) return Value::unknown();
        if (*x == LLONG_MIN) return Value::unknown();
        return Value::number(static_cast<double>(o == BinOp::mod ? *x % *y : *x / *y));
      }
      default: break;
    }
    auto x = as_number(a), y = as_number(b);
    if (!x || !y) return Value::unknown();
    double r = 0;
    if (o == BinOp::sub) r = *x - *y;
    else if (o == BinOp::mul) r = *x * *y;
    else if (o == BinOp::div) {
      if (*y == 0) return Value::unknown();
      r = *x / *y;
    } else if (o == BinOp::pow) r = std::pow(*x, *y);
    if (!std::isfinite(r)) return Value::unknown();
    return Value::number(r);
  }
  // Arguments in parentheses; the cursor is on '('. Named arguments keep their position.
  std::vector<Value> parse_args(Cursor& c, Frame& f) {
    std::vector<Value> args;
    c.i++;  // (
    if (is_op(c.peek(), Op::rparen)) {
      c.i++;
      return args;
    }
    while (!abort_) {
      if (c.peek().k == Tk::id && is_op(c.peek(1), Op::assign)) c.i += 2;
      if (is_op(c.peek(), Op::comma)) {
        args.push_back(Value{});  // omitted
      } else {
        args.push_back(parse_level(c, f, 0));
        if (args.size() > 256) {
          abort_ = true;
          break;
        }
      }
      if (is_op(c.peek(), Op::comma)) {
        c.i++;
        continue;
      }
      break;
    }
    if (is_op(c.peek(), Op::rparen)) c.i++;
    else abort_ = true;
    return args;
  }

  // Primary expression with its member/call/index chain.
  Value eval_postfix(Cursor& c, Frame& f, bool statement) {
    const Tk& t = c.peek();
    if (t.k == Tk::str) {
      c.i++;
      if (!charge(t.t.size())) return Value::unknown();
      return Value::string(std::string(t.t));
    }
    if (t.k == Tk::num) {
      c.i++;
      return Value::number(t.n);
    }
    if (is_op(t, Op::lparen)) {
      c.i++;
      Value v = parse_level(c, f, 0);
      if (is_op(c.peek(), Op::rparen)) c.i++;
      else abort_ = true;
      return member_chain(c, f, std::move(v), {}, statement);
    }
    Path path;
    Value v;
    if (is_op(t, Op::dot) || is_op(t, Op::bang)) {
      if (!f.with.empty()) path = f.with.back();
      v = Value::unknown();
      return member_chain(c, f, std::move(v), std::move(path), statement);
    }
    if (t.k != Tk::id) {
      c.i++;
      abort_ = true;
      return Value::unknown();
    }
    c.i++;
    const std::string& key = key_of(t);
    const Var var = var_of(t, f);
    bool has_args = is_op(c.peek(), Op::lparen);
    // In a call statement "f (a), b" the parentheses belong to the first argument; treat "f(" as a call anyway.
    std::vector<Value> args;
    if (has_args) args = parse_args(c, f);
    if (abort_) return Value::unknown();
    const std::uint32_t pi = proc_of(var.sym);
    // Nothing after the primary (most variable reads): member_chain would hand the value back as it is.
    auto chained = [&] { return is_op(c.peek(), Op::dot) || is_op(c.peek(), Op::bang) || is_op(c.peek(), Op::lparen); };
    if (auto* x = lookup_mut(var, f); x != nullptr && !(f.proc && f.proc->key_sym == var.sym && has_args)) {
      if (!has_args && !chained()) return *x;  // one copy, straight into the result
      if (has_args) v = index(*x, args);
      else v = *x;
    } else if (pi != kNoProc) {
      if (statement && !has_args) {
        // "Foo" on its own line: the call statement passes the arguments that follow.
        v = Value::unknown();
      } else {
        v = call_proc(procs_[pi], args, f);
      }
    } else if (auto b = t.not_builtin ? std::nullopt : builtin(key, args, has_args, f)) {
      v = std::move(*b);
    } else {
      t.not_builtin = true;  // whether a name is a built-in depends only on it and on has_args, fixed here
      v = Value::unknown();
      for (const auto& a : args) candidate(a, f);  // arguments of CreateObject, Shell, Run...
    }
    if (!chained()) return v;
    if (is_op(c.peek(), Op::dot) || is_op(c.peek(), Op::bang)) path.push_back(t.t);  // only a member chain reads the path
    return member_chain(c, f, std::move(v), std::move(path), statement);
  }

  Value member_chain(Cursor& c, Frame& f, Value v, Path path, bool statement) {
    while (!abort_ && (is_op(c.peek(), Op::dot) || is_op(c.peek(), Op::bang)) && c.peek(1).k == Tk::id) {
      c.i++;
      const std::string_view m = c.peek().t;
      c.i++;
      std::vector<Value> args;
      const bool has_args = is_op(c.peek(), Op::lparen);
      if (has_args) args = parse_args(c, f);
      if (abort_) return Value::unknown();
      path.push_back(m);
      if (path.size() > 16) path.erase(path.begin());
      // VBA.Replace(...), Strings.Mid(...): library-qualified built-ins.
      if (path.size() == 2 && (iequals(path[0], "VBA") || iequals(path[0], "Strings") || iequals(path[0], "Interaction") ||
                               iequals(path[0], "Conversion") || iequals(path[0], "Math"))) {
        if (auto b = builtin(key_of(m), args, has_args, f)) {
          v = std::move(*b);
          continue;
        }
      }
      v = resolve_member(path, m, args, v);
      if (!v.known())
        for (const auto& a : args) candidate(a, f);  // obj.Create(x), obj.Run(x), obj.Open "GET", url...
      if (!has_args && !v.known() && statement) break;
    }
    // An indexed result: Split(x, "@")(1).
    while (!abort_ && is_op(c.peek(), Op::lparen) && !statement) {
      auto args = parse_args(c, f);
      v = index(v, args);
    }
    return v;
  }

  Value index(const Value& v, const std::vector<Value>& args) {
    if (v.k != Value::K::arr || !v.a || args.size() != 1) return Value::unknown();
    auto n = as_int(args[0]);
    if (!n || *n < 0 || static_cast<std::size_t>(*n) >= v.a->size()) return Value::unknown();
    return (*v.a)[static_cast<std::size_t>(*n)];
  }

  // Form controls, document variables and properties.
  Value resolve_member(const Path& path, std::string_view m, const std::vector<Value>& args,
                       const Value& base) {
    static constexpr std::string_view kProps[] = {"Caption", "Text", "Value", "Tag", "ControlTipText", "GroupName",
                                                  "Accelerator", "List", "AlternativeText", "Title"};
    if ((iequals(m, "variables") || iequals(m, "builtindocumentproperties") || iequals(m, "customdocumentproperties") ||
         iequals(m, "item")) && args.size() == 1 && args[0].is_str()) {
      for (const auto& fs : extra_.forms)
        if ((fs.property == "Variable" || fs.property == "Property") && iequals(fs.control, args[0].s))
          return Value::string(fs.value);
      return Value::unknown();
    }
    bool is_prop = false;
    for (auto p : kProps)
      if (iequals(m, p)) is_prop = true;
    if (is_prop && base.is_str()) return base;  // Variables("x").Value, a control's default then .Text
    if (is_prop && path.size() >= 2) {
      const std::string_view ctl = path[path.size() - 2];
      const std::string_view* form = path.size() >= 3 ? &path[path.size() - 3] : nullptr;
      if (auto v = form_lookup(form, ctl, m)) return Value::string(*v);
      return Value::unknown();
    }
    // A control by itself (default property).
    const std::string_view* form = path.size() >= 2 ? &path[path.size() - 2] : nullptr;
    if (auto v = form_lookup(form, m, {})) return Value::string(*v);
    return Value::unknown();
  }

  const std::string* form_lookup(const std::string_view* form, std::string_view ctl, std::string_view prop) {
    const FormString* best = nullptr;
    int best_score = -1;
    for (const auto& fs : extra_.forms) {
      if (fs.control.empty() || !iequals(fs.control, ctl)) continue;
      if (fs.property == "Variable" || fs.property == "Property") continue;
      int score = 1;
      if (form && iequals(fs.form, *form)) score += 2;
      if (!prop.empty() && iequals(fs.property, prop)) score += 4;
      if (prop.empty() && (fs.property.empty() || iequals(fs.property, "Value") || iequals(fs.property, "Text") ||
                           iequals(fs.property, "Caption")))
        score += 3;
      if (!prop.empty() && fs.property.empty()) score += 1;
      if (score > best_score) {
        best_score = score;
        best = &fs;
      }
    }
    return best == nullptr ? nullptr : &best->value;
  }

  // The arguments are the caller's temporaries (every caller drops them after the call): they are moved into the
  // parameters. An array passed on is then held by the parameter instead of by both (a copy of the array is made
  // on the first element write either way when the caller's variable holds it too).
  Value call_proc(const Proc& p, std::vector<Value>& args, Frame& caller) {
    if (call_depth_ >= limits::max_call_depth) {
      ++limits_hit_;
      return Value::unknown();
    }
    if (exhausted()) return Value::unknown();
    Frame f;
    f.module = p.module;
    f.proc = &p;
    if (!vals_pool_.empty()) {
      f.vals = std::move(vals_pool_.back());
      vals_pool_.pop_back();
    }
    if (!set_pool_.empty()) {
      f.set = std::move(set_pool_.back());
      set_pool_.pop_back();
    }
    for (std::size_t k = 0; k < p.params.size(); ++k) {
      const Param& prm = p.params[k];
      if (prm.param_array) {
        std::vector<Value> rest;
        for (std::size_t r = k; r < args.size(); ++r) rest.push_back(std::move(args[r]));
        set_local(f, prm.slot, Value::array(std::move(rest)));
        break;
      }
      if (k < args.size()) {
        set_local(f, prm.slot, std::move(args[k]));
      } else if (!prm.default_value.empty()) {
        Cursor c{prm.default_value, 0};
        const std::uint32_t saved_depth = depth_;
        Value d = eval_expr(c, f);
        set_local(f, prm.slot, std::move(d));
        depth_ = saved_depth;
      } else {
        set_local(f, prm.slot, Value{});
      }
    }
    set_local(f, p.key_slot, Value{});
    ++call_depth_;
    const std::uint32_t saved_depth = depth_;
    const bool saved_abort = abort_;
    abort_ = false;
    exec_range(p, 0, p.body.size(), f);
    depth_ = saved_depth;
    abort_ = saved_abort;
    --call_depth_;
    Value r = std::move(f.vals[p.key_slot]);  // set above; the frame ends here
    // The locals end here, as they did with the frame; the vectors' storage is kept for the next call.
    f.vals.clear();
    f.set.clear();
    if (vals_pool_.size() < kFramePool) vals_pool_.push_back(std::move(f.vals));
    if (set_pool_.size() < kFramePool) set_pool_.push_back(std::move(f.set));
    if (p.is_function) {
      Frame& w = caller;
      candidate(r, w);
    }
    return r;
  }

  // ---- built-in functions ----

  static std::string chr_of(long long code, bool wide) {
    if (wide) {
      if (code < 0) code += 65536;
      if (code < 0 || code > 0xFFFF) return {};
      return utf8_of(static_cast<std::uint32_t>(code));
    }
    if (code < 0 || code > 255) return {};
    if (code < 0x80) return std::string(1, static_cast<char>(code));
    const char b = static_cast<char>(code);
    return codepage_to_utf8(std::string_view(&b, 1), 1252);
  }

  // First code point of a UTF-8 string.
  static long long first_code_point(std::string_view s) {
    if (s.empty()) return -1;
    const auto c0 = static_cast<unsigned char>(s[0]);
    if (c0 < 0x80) return c0;
    int n = c0 >= 0xF0 ? 3 : c0 >= 0xE0 ? 2 : c0 >= 0xC0 ? 1 : 0;
    long long cp = c0 & (0x3F >> n);
    for (int k = 1; k <= n && static_cast<std::size_t>(k) < s.size(); ++k)
      cp = (cp << 6) | (static_cast<unsigned char>(s[static_cast<std::size_t>(k)]) & 0x3F);
    return cp;
  }

  // `name` is a view: it is compared with a hundred literals, and a view compares the lengths first.
  std::optional<Value> builtin(std::string_view name, const std::vector<Value>& a, bool has_args, Frame& f) {
    const int id = builtin_index(name);  // -1 for a name none of the tests below compares with
    auto str = [&](std::size_t i) -> std::optional<std::string> {
      if (i >= a.size() || !a[i].known()) return std::nullopt;
      return as_string(a[i]);
    };
    auto num = [&](std::size_t i) -> std::optional<long long> {
      if (i >= a.size() || !a[i].known()) return std::nullopt;
      return as_int(a[i]);
    };
    auto partial = [&](std::size_t i) { return i < a.size() && a[i].partial; };
    auto unknown_or = [&](bool cond, auto make) -> Value { return cond ? make() : Value::unknown(); };
    (void)f;
    // Constants (no arguments).
    if (!has_args) {
      if (id == bi("vbcrlf") || id == bi("vbnewline")) return Value::string("\r\n");
      if (id == bi("vbcr")) return Value::string("\r");
      if (id == bi("vblf")) return Value::string("\n");
      if (id == bi("vbtab")) return Value::string("\t");
      if (id == bi("vbnullstring")) return Value::string("");
      if (id == bi("vbnullchar")) return Value::string(std::string(1, '\0'));
      if (id == bi("vbback")) return Value::string("\b");
      if (id == bi("true")) return Value::number(-1);
      if (id == bi("false") || id == bi("vbhide") || id == bi("vbbinarycompare")) return Value::number(0);
      if (id == bi("vbnormalfocus") || id == bi("vbtextcompare")) return Value::number(1);
      if (id == bi("vbunicode")) return Value::number(64);
      if (id == bi("vbfromunicode")) return Value::number(128);
      if (id == bi("empty")) return Value{};
      // Word's WdKey constants (wdKeyA = 65 ... wdKey9 = 57): Emotet spelled letters with them.
      if (name.size() == 6 && name.compare(0, 5, "wdkey") == 0 && is_alnum(name[5]))
        return Value::number(static_cast<double>(upper(name[5])));
    }
    if (id == bi("chr") || id == bi("chrw") || id == bi("chrb") || id == bi("chr$") || id == bi("chrw$") || id == bi("chrb$")) {
      auto n = num(0);
      if (!n) return Value::unknown();
      const std::string s = chr_of(*n, name[3] == 'w');
      if (s.empty() && *n != 0) return Value::unknown();
      return Value::string(*n == 0 ? std::string(1, '\0') : s);
    }
    if (id == bi("asc") || id == bi("ascw") || id == bi("ascb")) {
      auto s = str(0);
      if (!s || s->empty()) return Value::unknown();
      const long long cp = id == bi("ascb") ? static_cast<unsigned char>((*s)[0]) : first_code_point(*s);
      return Value::number(static_cast<double>(cp));
    }
    if (id == bi("strreverse")) {
      auto s = str(0);
      if (!s) return Value::unknown();
      return Value::string(std::string(s->rbegin(), s->rend()), partial(0));
    }
    if (id == bi("lcase") || id == bi("ucase")) {
      auto s = str(0);
      if (!s) return Value::unknown();
      return Value::string(id == bi("lcase") ? to_lower(*s) : to_upper(*s), partial(0));
    }
    if (id == bi("trim") || id == bi("ltrim") || id == bi("rtrim")) {
      auto s = str(0);
      if (!s) return Value::unknown();
      std::string_view v = *s;
      if (id != bi("rtrim")) while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      if (id != bi("ltrim")) while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
      return Value::string(std::string(v), partial(0));
    }
    if (id == bi("len") || id == bi("lenb")) {
      auto s = str(0);
      if (!s || partial(0)) return Value::unknown();
      return Value::number(static_cast<double>(s->size() * (id == bi("lenb") ? 2 : 1)));
    }
    if (id == bi("mid") || id == bi("midb")) {
      auto s = str(0);
      auto st = num(1);
      if (!s || !st || *st < 1) return Value::unknown();
      const std::size_t from = static_cast<std::size_t>(*st - 1);
      std::size_t n = std::string::npos;
      if (a.size() > 2) {
        auto l = num(2);
        if (!l || *l < 0) return Value::unknown();
        n = static_cast<std::size_t>(*l);
      }
      if (from >= s->size()) return Value::string("");
      return Value::string(s->substr(from, n), partial(0));
    }
    if (id == bi("left") || id == bi("right") || id == bi("leftb") || id == bi("rightb")) {
      auto s = str(0);
      auto l = num(1);
      if (!s || !l || *l < 0) return Value::unknown();
      const std::size_t n = std::min(s->size(), static_cast<std::size_t>(*l));
      return Value::string(name[0] == 'l' ? s->substr(0, n) : s->substr(s->size() - n), partial(0));
    }
    if (id == bi("replace")) {
      auto s = str(0), from = str(1), to = str(2);
      if (!s || !from || !to) return Value::unknown();
      long long start = 1, count = -1;
      if (a.size() > 3 && a[3].k != Value::K::empty) {
        auto v = num(3);
        if (!v || *v < 1) return Value::unknown();
        start = *v;
      }
      if (a.size() > 4 && a[4].k != Value::K::empty) {
        auto v = num(4);
        if (!v) return Value::unknown();
        count = *v;
      }
      const bool icase = a.size() > 5 && num(5).value_or(0) == 1;
      note_replace(*from, *to);
      std::string_view src = *s;
      if (static_cast<std::size_t>(start - 1) > src.size()) return Value::string("");
      src = src.substr(static_cast<std::size_t>(start - 1));
      std::string r;
      std::size_t i = 0;
      long long done = 0;
      while (!from->empty() && i <= src.size() && (count < 0 || done < count)) {
        const std::size_t p = icase ? ifind(src, *from, i) : src.find(*from, i);
        if (p == std::string_view::npos) break;
        r.append(src.substr(i, p - i));
        r.append(*to);
        if (r.size() > limits::max_string) {
          ++limits_hit_;
          return Value::unknown();
        }
        i = p + from->size();
        ++done;
      }
      if (i < src.size()) r.append(src.substr(i));
      if (!charge(r.size())) return Value::unknown();
      return Value::string(std::move(r), partial(0));
    }
    if (id == bi("split")) {
      auto s = str(0);
      if (!s) return Value::unknown();
      std::string d = " ";
      if (a.size() > 1 && a[1].k != Value::K::empty) {
        auto dv = str(1);
        if (!dv) return Value::unknown();
        d = *dv;
      }
      note_split(d);
      std::vector<Value> parts;
      if (d.empty()) {
        parts.push_back(Value::string(*s));
      } else {
        std::size_t i = 0;
        while (parts.size() < limits::max_array) {
          const std::size_t p = s->find(d, i);
          parts.push_back(Value::string(s->substr(i, p == std::string::npos ? std::string::npos : p - i)));
          if (p == std::string::npos) break;
          i = p + d.size();
        }
      }
      if (!charge(s->size() + parts.size())) return Value::unknown();
      return Value::array(std::move(parts));
    }
    if (id == bi("join")) {
      if (a.empty() || a[0].k != Value::K::arr || !a[0].a) return Value::unknown();
      std::string d = " ";
      if (a.size() > 1) {
        auto dv = str(1);
        if (!dv) return Value::unknown();
        d = *dv;
      }
      std::string r;
      bool part = false;
      for (const auto& e : *a[0].a) {
        if (&e != &a[0].a->front()) r += d;
        auto es = e.known() ? as_string(e) : std::nullopt;
        if (!es) part = true;
        else r += *es;
        if (r.size() > limits::max_string) {
          ++limits_hit_;
          return Value::unknown();
        }
      }
      return Value::string(std::move(r), part);
    }
    if (id == bi("array")) {
      if (a.size() > limits::max_array) return Value::unknown();
      return Value::array(a);
    }
    if (id == bi("ubound") || id == bi("lbound")) {
      if (a.empty() || a[0].k != Value::K::arr || !a[0].a) return Value::unknown();
      return Value::number(id == bi("lbound") ? 0 : static_cast<double>(a[0].a->size()) - 1);
    }
    if (id == bi("cstr") || id == bi("cvar") || id == bi("str")) {
      auto s = str(0);
      if (!s) return Value::unknown();
      if (id == bi("str") && a[0].k == Value::K::num && a[0].n >= 0) return Value::string(" " + *s);
      return Value::string(*s, partial(0));
    }
    if (id == bi("cint") || id == bi("clng") || id == bi("cbyte") || id == bi("clnglng") || id == bi("cdbl") || id == bi("csng") ||
        id == bi("val") || id == bi("ccur") || id == bi("cdec")) {
      if (a.empty() || !a[0].known()) return Value::unknown();
      auto d = as_number(a[0]);
      if (!d) return id == bi("val") ? Value::number(0) : Value::unknown();
      if (id == bi("cint") || id == bi("clng") || id == bi("cbyte") || id == bi("clnglng")) return Value::number(std::nearbyint(*d));
      return Value::number(*d);
    }
    if (id == bi("int") || id == bi("fix") || id == bi("abs") || id == bi("sgn") || id == bi("sqr") || id == bi("round")) {
      if (a.empty() || !a[0].known()) return Value::unknown();
      auto d = as_number(a[0]);
      if (!d) return Value::unknown();
      if (id == bi("int")) return Value::number(std::floor(*d));
      if (id == bi("fix")) return Value::number(std::trunc(*d));
      if (id == bi("abs")) return Value::number(std::fabs(*d));
      if (id == bi("sgn")) return Value::number(*d > 0 ? 1 : (*d < 0 ? -1 : 0));
      if (id == bi("sqr")) return *d >= 0 ? Value::number(std::sqrt(*d)) : Value::unknown();
      return Value::number(std::nearbyint(*d));
    }
    if (id == bi("hex") || id == bi("hex$") || id == bi("oct") || id == bi("oct$")) {
      auto n = num(0);
      if (!n) return Value::unknown();
      char buf[32];
      const auto u = static_cast<unsigned long long>(*n < 0 ? (*n & 0xFFFFFFFFll) : *n);
      std::snprintf(buf, sizeof buf, name[0] == 'h' ? "%llX" : "%llo", u);
      return Value::string(buf);
    }
    if (id == bi("space") || id == bi("space$")) {
      auto n = num(0);
      if (!n || *n < 0 || static_cast<std::size_t>(*n) > limits::max_string) return Value::unknown();
      return Value::string(std::string(static_cast<std::size_t>(*n), ' '));
    }
    if (id == bi("string") || id == bi("string$")) {
      auto n = num(0);
      if (!n || *n < 0 || static_cast<std::size_t>(*n) > 65536 || a.size() < 2 || !a[1].known()) return Value::unknown();
      std::string ch;
      if (a[1].is_str()) ch = a[1].s.substr(0, 1);
      else if (auto c = as_int(a[1])) ch = chr_of(*c, false);
      if (ch.size() != 1) return Value::unknown();
      return Value::string(std::string(static_cast<std::size_t>(*n), ch[0]));
    }
    if (id == bi("instr") || id == bi("instrrev")) {
      // InStr([start,] s, find)
      std::size_t si = 0;
      long long start = 1;
      if (a.size() >= 3 && a[0].k == Value::K::num) {
        start = as_int(a[0]).value_or(1);
        si = 1;
      }
      auto s = str(si), needle = str(si + 1);
      if (!s || !needle || start < 1 || partial(si)) return Value::unknown();
      std::size_t p;
      if (id == bi("instr")) p = static_cast<std::size_t>(start - 1) > s->size() ? std::string::npos : s->find(*needle, static_cast<std::size_t>(start - 1));
      else p = s->rfind(*needle);
      return Value::number(p == std::string::npos ? 0 : static_cast<double>(p + 1));
    }
    if (id == bi("iif")) {
      if (a.size() != 3 || !a[0].known()) return Value::unknown();
      auto n = as_number(a[0]);
      if (!n) return Value::unknown();
      return *n != 0 ? a[1] : a[2];
    }
    if (id == bi("choose")) {
      auto n = num(0);
      if (!n || *n < 1 || static_cast<std::size_t>(*n) >= a.size()) return Value::unknown();
      return a[static_cast<std::size_t>(*n)];
    }
    if (id == bi("environ") || id == bi("environ$")) {
      auto s = str(0);
      if (!s || s->empty() || s->size() > 64) return Value::unknown();
      return Value::string("%" + to_upper(*s) + "%");
    }
    if (id == bi("log") || id == bi("exp") || id == bi("sin") || id == bi("cos") || id == bi("tan") || id == bi("atn")) {
      if (a.empty() || !a[0].known()) return Value::unknown();
      auto d = as_number(a[0]);
      if (!d) return Value::unknown();
      double r = 0;
      if (id == bi("log")) { if (*d <= 0) return Value::unknown(); r = std::log(*d); }
      else if (id == bi("exp")) r = std::exp(*d);
      else if (id == bi("sin")) r = std::sin(*d);
      else if (id == bi("cos")) r = std::cos(*d);
      else if (id == bi("tan")) r = std::tan(*d);
      else r = std::atan(*d);
      return unknown_or(std::isfinite(r), [&] { return Value::number(r); });
    }
    if (id == bi("strconv")) {
      // vbUnicode/vbFromUnicode only change the byte layout; for ASCII the text is the same.
      auto s = str(0);
      if (!s) return Value::unknown();
      return Value::string(*s, partial(0));
    }
    return std::nullopt;
  }

  // Replace() and Split() arguments seen anywhere: applied to the form strings when a reference to them could not
  // be resolved, since the macro's markers are what hides the payload there.
  void note_replace(const std::string& from, const std::string& to) {
    if (from.empty() || from.size() > 256 || to.size() > 256 || replaces_.size() >= 64) return;
    replaces_.insert({from, to});
  }
  void note_split(const std::string& d) {
    if (d.size() < 2 || d.size() > 256 || splits_.size() >= 64) return;
    splits_.insert(d);
  }

  void collect_form_fallbacks() {
    Frame f;
    f.module = 0;
    std::map<std::string, std::string> per_form;
    for (const auto& fs : extra_.forms) {
      // Summary properties and variables are read when the macro names them; short ones are noise otherwise.
      if ((fs.property == "Property" || fs.property == "Variable") && fs.value.size() < 32) continue;
      std::string v = fs.value;
      for (int round = 0; round < 2; ++round)
        for (const auto& [from, to] : replaces_)
          if (from.size() >= 2) v = replace_all(v, from, to, false);
      for (const auto& d : splits_) v = replace_all(v, d, "\n", false);
      const std::string w = "vba:" + (fs.form.empty() ? std::string("document") : fs.form) +
                            (fs.control.empty() ? std::string() : "." + fs.control) +
                            (fs.property.empty() ? std::string() : "." + fs.property);
      if (v.size() >= 6 && seen_.insert(v).second && cands_.size() < kMaxCandidates) cands_.push_back({v, w, false});
      std::string& all = per_form[fs.form];
      if (all.size() + v.size() < limits::max_string) all += v;
    }
    for (auto& [form, all] : per_form)
      if (all.size() >= 6 && seen_.insert(all).second && cands_.size() < kMaxCandidates)
        cands_.push_back({all, "vba:" + (form.empty() ? std::string("document") : form) + " (all strings)", false});
  }

  const DocumentStrings& extra_;
  const bool compiled_;
  std::vector<Module> modules_;
  std::vector<Proc> procs_;
  std::unordered_map<std::string, std::uint32_t> sym_ids_;
  std::deque<std::string> sym_names_;
  std::uint32_t empty_sym_ = 0;  // "" (a "[]" identifier): declared by Dim, never assigned
  std::vector<std::unordered_map<std::uint32_t, std::uint32_t>> slots_;  // per procedure: symbol -> local slot
  std::vector<std::uint32_t> proc_of_sym_;  // the first procedure of each name, kNoProc for none
  std::vector<Value> gvals_;                // globals by symbol
  std::vector<std::uint8_t> gset_;
  std::size_t gcount_ = 0;
  std::vector<Candidate> cands_, literals_;
  std::vector<Tk> scratch_;  // add_module's statement tokens before they are copied into the statement
  std::string lex_buf_;
  TextArena arena_;  // token text not in the module sources
  // exec_inline_if's parts by their first token. Nodes do not move when the table grows, so a part running (and
  // adding parts of an If nested in it) stays where it is.
  std::unordered_map<const Tk*, Stmt> inline_parts_;
  std::unordered_map<std::string, std::size_t> slot_cand_;
  std::string slot_key_;  // candidate's key buffer
  std::vector<std::string> proc_prefix_, module_prefix_;  // slot_prefix's, by procedure and by module
  // Frames' local vectors handed back when a call ends, reused by the next call (cleared: no value outlives its
  // frame). At most kFramePool of each are kept.
  std::vector<std::vector<Value>> vals_pool_;
  std::vector<std::vector<std::uint8_t>> set_pool_;
  static constexpr std::size_t kFramePool = 64;
  std::vector<std::size_t> heads_;  // exec_if's branch heads, a stack shared by nested Ifs
  std::vector<std::vector<Value>> args_pool_;  // see PooledArgs
  std::unordered_set<std::string> seen_, literal_set_;
  std::set<std::pair<std::string, std::string>> replaces_;
  std::set<std::string> splits_;
  std::uint64_t work_ = 0, statements_ = 0, loop_iterations_ = 0;
  std::uint32_t limits_hit_ = 0;
  std::uint32_t call_depth_ = 0;
  std::uint32_t depth_ = 0;
  bool abort_ = false;
  bool budget_reported_ = false;
  std::vector<LevelFrame> frames_;  // parse_level's levels entered, at most limits::max_vba_expr_levels
  // Compiled expressions (see compile). Deques: a node stays where it is while another expression is compiled.
  bool crossed_ = false;  // the work budget ran out inside a compiled expression
  std::deque<XNode> xnodes_;
  std::deque<std::uint32_t> xargs_;
  std::deque<XMember> xmembers_;
  std::deque<XCall> xcalls_;
  std::vector<XExpr> xexprs_;
  bool cfail_ = false;
  std::uint32_t cdepth_ = 0, cmax_depth_ = 0;
  std::uint64_t clevels_ = 0;
  std::vector<LevelFrame> cframes_;
};

bool find_same(const std::vector<engine::Ioc>& iocs, const engine::Ioc& i) {
  for (const auto& j : iocs)
    if (j.type == i.type && j.value == i.value) return true;
  return false;
}

// Whether a candidate names PowerShell or carries its obfuscation: "powershell", "pwsh", "frombase64", "[char]",
// " -e", "-join" (any case), '^' or '`' anywhere. One pass that tries only the words starting with the byte at
// hand: every candidate comes here, and most contain none of them (eight searches of the whole string before).
bool worth_decoding(std::string_view s) {
  const auto at = [&](std::size_t i, std::string_view w) { return s.size() - i >= w.size() && iequals(s.substr(i, w.size()), w); };
  for (std::size_t i = 0; i < s.size(); ++i) {
    switch (s[i]) {
      case '^': case '`': return true;
      case 'p': case 'P':
        if (at(i, "powershell") || at(i, "pwsh")) return true;
        break;
      case 'f': case 'F':
        if (at(i, "frombase64")) return true;
        break;
      case '[':
        if (at(i, "[char]")) return true;
        break;
      case ' ':
        if (at(i, " -e")) return true;
        break;
      case '-':
        if (at(i, "-join")) return true;
        break;
      default: break;
    }
  }
  return false;
}

// Scans the candidates: IOCs from each, then from each PowerShell layer decoded from it.
void scan_candidates(std::vector<Candidate> cands, const std::unordered_set<std::string>& literals, Evaluation& out,
                     std::set<std::pair<std::string, std::string>>& from_partial) {
  std::uint64_t scanned = 0;
  auto merge = [&](const std::vector<engine::Ioc>& found, bool partial) {
    for (const auto& i : found)
      if (partial && !find_same(out.iocs, i)) from_partial.insert({i.type, i.value});
    merge_iocs(out.iocs, found);
  };
  for (auto& c : cands) {
    if (scanned > limits::max_work) {
      ++out.limits_hit;
      break;
    }
    scanned += c.value.size();
    auto found = iocs_from_text(c.value, c.where);
    // The concatenation of a form's strings is made up here, not by the macro: only URLs are taken from it.
    if (c.where.size() > 13 && c.where.compare(c.where.size() - 13, 13, "(all strings)") == 0)
      found.erase(std::remove_if(found.begin(), found.end(), [](const engine::Ioc& i) { return i.type != "url"; }),
                  found.end());
    merge(found, c.partial);
    if (!literals.count(c.value) && out.strings.size() < limits::max_decoded_strings)
      out.strings.push_back({c.value, c.where});
    if (!worth_decoding(c.value)) continue;
    const auto layers = decode_powershell(c.value);
    for (const auto& l : layers) {
      scanned += l.size();
      const std::string w = c.where + " (decoded powershell)";
      merge(iocs_from_text(l, w), c.partial);
      if (out.strings.size() < limits::max_decoded_strings) out.strings.push_back({l, w});
    }
  }
}

// True when a URL has nothing after its host but an optional '/'.
bool bare_url(std::string_view u) {
  const std::size_t scheme = u.find("://");
  if (scheme == std::string_view::npos) return false;
  const std::size_t slash = u.find('/', scheme + 3);
  return slash == std::string_view::npos || slash + 1 == u.size();
}

std::string url_host(std::string_view u) {
  const std::size_t scheme = u.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view rest = u.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  return to_lower(rest.substr(0, rest.find(':')));
}

// Drops what another IOC already says better: a URL (or path) that a longer one extends when it came from a
// string with unknown pieces or is only a host ("http://a.example.com" before "http://a.example.com/x"), and a bare
// domain that is the host of a reported URL.
void drop_redundant(std::vector<engine::Ioc>& iocs, const std::set<std::pair<std::string, std::string>>& from_partial) {
  std::set<std::string> hosts;
  for (const auto& i : iocs)
    if (i.type == "url") hosts.insert(url_host(i.value));
  std::vector<engine::Ioc> kept;
  for (const auto& i : iocs) {
    bool drop = i.type == "domain" && hosts.count(i.value) > 0;
    if (!drop && (i.type == "url" || i.type == "path" || i.type == "command")) {
      const bool weak = from_partial.count({i.type, i.value}) > 0 || (i.type == "url" && bare_url(i.value));
      if (weak)
        for (const auto& j : iocs)
          if (&i != &j && j.type == i.type && j.value.size() > i.value.size() &&
              j.value.compare(0, i.value.size(), i.value) == 0) {
            drop = true;
            break;
          }
    }
    if (!drop) kept.push_back(i);
  }
  iocs = std::move(kept);
}

}  // namespace

namespace detail {

void finish_evaluation(std::vector<Candidate> cands, const std::unordered_set<std::string>& literals, Evaluation& out) {
  std::set<std::pair<std::string, std::string>> from_partial;
  scan_candidates(std::move(cands), literals, out, from_partial);
  drop_redundant(out.iocs, from_partial);
}

}  // namespace detail

namespace {

// Runs the modules `add` adds and turns what the evaluator found into the result. With compiled expressions first;
// in the rare run whose work budget ran out inside one, again without them, so that the cut falls where the parse
// puts it.
template <class Add>
Evaluation run_evaluator(const DocumentStrings& extra, Add add, bool compile = true) {
  Evaluation out;
  std::optional<Evaluator> compiled(std::in_place, extra, compile);
  add(*compiled);
  compiled->run();
  std::optional<Evaluator> parsed;
  if (compiled->crossed()) {
    compiled.reset();
    parsed.emplace(extra, false);
    add(*parsed);
    parsed->run();
  }
  Evaluator& ev = parsed ? *parsed : *compiled;
  detail::finish_evaluation(ev.take_candidates(), ev.literal_values(), out);
  out.statements = ev.statements();
  out.work = ev.work();
  out.limits_hit += ev.limits_hit();
  return out;
}

}  // namespace

namespace detail {

Evaluation evaluate_vba_parsed(std::string_view source, std::string_view name, const DocumentStrings& extra) {
  return run_evaluator(extra, [&](Evaluator& ev) { ev.add_module(std::string(name), source); }, false);
}

}  // namespace detail

Evaluation evaluate_vba(std::string_view source, std::string_view name, const DocumentStrings& extra) {
  return run_evaluator(extra, [&](Evaluator& ev) { ev.add_module(std::string(name), source); });
}

Evaluation evaluate_vba(const vba::VbaProject& project, const DocumentStrings& extra) {
  return run_evaluator(extra, [&](Evaluator& ev) {
    for (const auto& m : project.modules) ev.add_module(m.name.empty() ? m.stream_name : m.name, m.source);
  });
}

std::vector<engine::Ioc> iocs_from_vba(const vba::VbaProject& project, const DocumentStrings& extra) {
  return evaluate_vba(project, extra).iocs;
}

}  // namespace mamori::analysis
