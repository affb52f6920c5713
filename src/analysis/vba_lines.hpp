// VBA source as statements: the one splitter the static evaluator (vba_eval.cpp) and the chain features
// (src/features/office_chain.cpp) both read modules with, so that a place "vba:Module:12" the evaluator reports names
// the same statement the chain attributes to a procedure.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace mamori::analysis {

// Which bytes count as blanks before a statement and after a leading "Rem". The evaluator's lexer skips every ASCII
// space, the chain tokenizer only spaces and tabs; each keeps the statements it always saw.
enum class StatementBlanks : std::uint8_t { space_tab, any_space };

// Calls fn(statement, first_physical_line) for each statement of `src`: physical lines (\r\n, \r and \n each end
// one, numbered from 1) joined at " _" continuations while the joined line is shorter than `max_logical` bytes,
// comments (' and a leading Rem) removed, split at ':' outside strings (not ":="), leading blanks dropped, empty
// statements skipped. A line that neither continues nor is continued is passed where it lies, without a copy.
template <class F>
void for_each_vba_statement(std::string_view src, StatementBlanks blanks, std::size_t max_logical, F&& fn) {
  const auto blank = [blanks](char c) {
    if (c == ' ' || c == '\t') return true;
    return blanks == StatementBlanks::any_space && (c == '\r' || c == '\n' || c == '\f' || c == '\v');
  };
  const auto is_rem = [](std::string_view p) {
    return p.size() >= 3 && (p[0] == 'R' || p[0] == 'r') && (p[1] == 'E' || p[1] == 'e') && (p[2] == 'M' || p[2] == 'm');
  };
  std::uint32_t line_no = 0, start = 0;
  std::string logical;
  // The next '\r' and the next '\n' at or after i (src.size() for none), each found with memchr and kept until a
  // line passes it: a module is searched once for each, not byte by byte.
  const auto next_of = [&](char c, std::size_t from) {
    const void* p = std::memchr(src.data() + from, c, src.size() - from);
    return p == nullptr ? src.size() : static_cast<std::size_t>(static_cast<const char*>(p) - src.data());
  };
  std::size_t cr = 0, lf = 0;
  bool cr_known = false, lf_known = false;
  std::size_t i = 0;
  while (i < src.size()) {
    if (!cr_known || cr < i) cr = next_of('\r', i), cr_known = true;
    if (!lf_known || lf < i) lf = next_of('\n', i), lf_known = true;
    std::size_t j = std::min(cr, lf);
    std::string_view phys = src.substr(i, j - i);
    ++line_no;
    if (j < src.size() && src[j] == '\r' && j + 1 < src.size() && src[j + 1] == '\n') ++j;
    i = j + 1;
    if (logical.empty()) start = line_no;
    // A continuation is " _" at the end of the line (outside a string and a comment).
    while (!phys.empty() && (phys.back() == ' ' || phys.back() == '\t')) phys.remove_suffix(1);
    const bool cont = phys == "_" || (phys.size() >= 2 && phys.back() == '_' &&
                                      (phys[phys.size() - 2] == ' ' || phys[phys.size() - 2] == '\t'));
    if (cont) phys.remove_suffix(1);
    const bool whole = logical.empty() && !cont;
    if (!whole) logical.append(phys);
    if (cont && logical.size() < max_logical) {
      logical.push_back(' ');
      continue;
    }
    const std::string_view l = whole ? phys : std::string_view(logical);
    // false for a Rem statement, which swallows the rest of the line
    auto emit = [&](std::size_t a, std::size_t b) {
      std::string_view part = l.substr(a, b - a);
      while (!part.empty() && blank(part.front())) part.remove_prefix(1);
      if (is_rem(part) && (part.size() == 3 || blank(part[3]))) return false;
      if (!part.empty()) fn(part, start);
      return true;
    };
    std::size_t from = 0, k = 0;
    for (; k < l.size(); ++k) {
      const char c = l[k];
      if (c == '"') {
        // A string runs to the next quote (a "" inside is two strings back to back); none closes it: to the end.
        const std::size_t q = l.find('"', k + 1);
        if (q == std::string_view::npos) {
          k = l.size();
          break;
        }
        k = q;
        continue;
      }
      if (c == '\'') break;
      if (c == ':' && !(k + 1 < l.size() && l[k + 1] == '=')) {
        if (!emit(from, k)) {
          from = l.size();
          break;
        }
        from = k + 1;
      }
    }
    if (from < l.size()) emit(from, k);
    logical.clear();
  }
}

}  // namespace mamori::analysis
