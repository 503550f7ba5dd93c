#include "reward/math/expression_parser.h"

#include "absl/strings/str_cat.h"
#include "reward/math/math_tokenizer.h"
#include "reward/math/text.h"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

namespace forge::reward::math {
namespace {

using Tok = TokenKind;

// ----------------------------------------------------------------------------- names

constexpr std::string_view kFunctions[] = {"sin",    "cos",    "tan",    "sec",  "csc",    "cot",
                                           "arcsin", "arccos", "arctan", "sinh", "cosh",   "tanh",
                                           "ln",     "log",    "exp",    "lg",   "arcsec", "arccsc",
                                           "arccot", "coth",   "sech",   "csch", "det",    "deg"};

bool is_function(std::string_view n) {
  return std::find(std::begin(kFunctions), std::end(kFunctions), n) != std::end(kFunctions);
}

// Commands that are operators or structure, never the start of an operand.
constexpr std::string_view kOperatorCommands[] = {
    "cdot",   "times", "div",   "pm",  "mp",    "cup", "cap",    "le",    "ge",         "ne",
    "approx", "in",    "equiv", "sim", "simeq", "end", "right",  "to",    "rightarrow", "implies",
    "iff",    "land",  "lor",   "ast", "}",     "\\",  "rfloor", "rceil", "setminus",   "cong"};

bool is_operator_command(std::string_view n) {
  return std::find(std::begin(kOperatorCommands), std::end(kOperatorCommands), n) !=
         std::end(kOperatorCommands);
}

// ----------------------------------------------------------------------------- parser

class Parser {
 public:
  Parser(std::vector<Token> toks, WorkBudget* budget) : t_(std::move(toks)), budget_(budget) {}

  absl::StatusOr<MathExpr> run() {
    if (t_.empty()) return absl::InvalidArgumentError("empty answer");
    if (bracket_depth(t_) > kMaxNestingDepth) {
      return absl::ResourceExhaustedError(
          absl::StrCat("nested deeper than ", kMaxNestingDepth, " levels of brackets"));
    }
    int r = parse_top();
    if (r >= 0 && !at_end()) r = fail("unexpected '" + peek().text + "'");
    if (r < 0) {
      if (budget_->exhausted()) return budget_->status();
      if (too_deep_) {
        return absl::ResourceExhaustedError(
            absl::StrCat("operators nested deeper than ", kMaxParseDepth, " parser levels"));
      }
      if (fatal_) return absl::OutOfRangeError(error_);
      return absl::InvalidArgumentError(error_);
    }
    e_.root = r;
    return std::move(e_);
  }

 private:
  // ---- token helpers
  const Token& peek(size_t k = 0) const {
    static const Token kEnd;
    return pos_ + k < t_.size() ? t_[pos_ + k] : kEnd;
  }
  bool at_end() const { return pos_ >= t_.size(); }
  bool is_char(char c, size_t k = 0) const {
    const Token& t = peek(k);
    return t.kind == Tok::kChar && t.text.size() == 1 && t.text[0] == c;
  }
  bool is_cmd(std::string_view name, size_t k = 0) const {
    const Token& t = peek(k);
    return t.kind == Tok::kCmd && t.text == name;
  }
  bool is_word(std::string_view w, size_t k = 0) const {
    const Token& t = peek(k);
    return t.kind == Tok::kWord && t.text == w;
  }
  void next() {
    last_was_number_ = peek().kind == Tok::kNumber;
    ++pos_;
  }

  int fail(std::string msg) {
    if (error_.empty()) error_ = std::move(msg);
    return -1;
  }
  int fatal(std::string msg) {
    fatal_ = true;
    error_ = std::move(msg);
    return -1;
  }

  // The deepest nesting of ( [ { in the tokens.
  static int bracket_depth(const std::vector<Token>& toks) {
    int depth = 0, deepest = 0;
    for (const Token& t : toks) {
      if (t.kind != Tok::kChar || t.text.size() != 1) continue;
      const char c = t.text[0];
      if (c == '(' || c == '[' || c == '{') deepest = std::max(deepest, ++depth);
      if ((c == ')' || c == ']' || c == '}') && depth > 0) --depth;
    }
    return deepest;
  }

  // Depth guard: every recursive production holds one.
  struct Guard {
    explicit Guard(Parser* p) : p_(p) {
      const bool shallow = ++p_->depth_ <= kMaxParseDepth;
      if (!shallow) p_->too_deep_ = true;
      ok_ = shallow && p_->budget_->tick();
    }
    ~Guard() { --p_->depth_; }
    bool ok() const { return ok_; }
    Parser* p_;
    bool ok_;
  };

  // ---- node helpers
  int add(Node n) {
    if (static_cast<int>(e_.nodes.size()) >= kMaxParseNodes) return fail("answer too large");
    return e_.add(std::move(n));
  }
  int make(NodeKind k, std::vector<int> kids, std::string name = "") {
    for (int kid : kids) {
      if (kid < 0) return -1;
    }
    Node n;
    n.kind = k;
    n.kids = std::move(kids);
    n.name = std::move(name);
    return add(std::move(n));
  }
  int number(const Rational& v, int decimals) {
    Node n;
    n.kind = NodeKind::kNumber;
    n.value = v;
    n.decimals = decimals;
    return add(std::move(n));
  }
  int symbol(std::string name) {
    Node n;
    n.kind = NodeKind::kSymbol;
    n.name = std::move(name);
    return add(std::move(n));
  }
  int constant(std::string name) {
    Node n;
    n.kind = NodeKind::kConstant;
    n.name = std::move(name);
    return add(std::move(n));
  }
  int letter(char c) {
    if (c == 'e') return constant("e");
    return symbol(std::string(1, c));
  }

  // ---- grammar
  bool at_separator() const {
    return is_char(',') || is_char(';') || is_word("and") || is_word("or");
  }
  void skip_separator() {
    next();
    if (is_word("and") || is_word("or")) next();
  }

  int parse_top() {
    // Groups separated by ';' hold comma-separated items: "p=5,q=2; p=7,q=2".
    std::vector<std::vector<int>> groups(1);
    bool saw_semicolon = false;
    while (true) {
      int item = parse_relation();
      if (item < 0) return -1;
      groups.back().push_back(item);
      if (is_char(';')) {
        saw_semicolon = true;
        next();
        groups.emplace_back();
        continue;
      }
      if (at_separator()) {
        skip_separator();
        if (at_end()) break;  // trailing separator
        continue;
      }
      break;
    }
    if (groups.back().empty()) groups.pop_back();
    std::vector<int> parts;
    for (auto& g : groups) {
      if (g.size() == 1) {
        parts.push_back(g[0]);
      } else if (saw_semicolon) {
        parts.push_back(make(NodeKind::kTuple, g));  // "p=5,q=2; p=7,q=2": each group is a tuple
      } else {
        parts.push_back(make(NodeKind::kList, g));
      }
    }
    if (parts.size() == 1) return parts[0];
    return make(NodeKind::kList, parts);
  }

  // Items inside brackets: separated by ',' or ';'.
  bool parse_items(std::vector<int>* items) {
    while (true) {
      int item = parse_relation();
      if (item < 0) return false;
      items->push_back(item);
      if (is_char(',') || is_char(';')) {
        next();
        continue;
      }
      return true;
    }
  }

  char relation_op() const {
    const Token& t = peek();
    if (t.kind == Tok::kChar) {
      if (t.text == "=") return '=';
      if (t.text == "<") return '<';
      if (t.text == ">") return '>';
      return 0;
    }
    if (t.kind == Tok::kCmd) {
      if (t.text == "le") return 'l';
      if (t.text == "ge") return 'g';
      if (t.text == "ne") return 'n';
      if (t.text == "approx" || t.text == "sim" || t.text == "simeq") return 'a';
      if (t.text == "in") return 'i';
      if (t.text == "equiv" || t.text == "cong") return '=';
    }
    return 0;
  }

  int parse_relation() {
    Guard g(this);
    if (!g.ok()) return fail("nesting too deep");
    int first = parse_ratio();
    if (first < 0) return -1;
    std::string ops;
    std::vector<int> parts{first};
    while (char op = relation_op()) {
      next();
      int rhs = parse_ratio();
      if (rhs < 0) return -1;
      ops += op;
      parts.push_back(rhs);
    }
    if (ops.empty()) return first;
    return make(NodeKind::kRelation, parts, ops);
  }

  int parse_ratio() {
    int first = parse_union();
    if (first < 0) return -1;
    std::vector<int> parts{first};
    while (is_char(':')) {
      next();
      int p = parse_union();
      if (p < 0) return -1;
      parts.push_back(p);
    }
    if (parts.size() == 1) return first;
    return make(NodeKind::kRatio, parts);
  }

  int parse_union() {
    int first = parse_additive();
    if (first < 0) return -1;
    std::vector<int> parts{first};
    while (is_cmd("cup")) {
      next();
      int p = parse_additive();
      if (p < 0) return -1;
      parts.push_back(p);
    }
    if (parts.size() == 1) return first;
    return make(NodeKind::kUnion, parts);
  }

  int parse_additive() {
    Guard g(this);
    if (!g.ok()) return fail("nesting too deep");
    int first = parse_term();
    if (first < 0) return -1;
    std::vector<int> terms{first};
    while (true) {
      if (is_char('+')) {
        next();
        terms.push_back(parse_term());
      } else if (is_char('-')) {
        next();
        terms.push_back(make(NodeKind::kNeg, {parse_term()}));
      } else if (is_cmd("pm") || is_cmd("mp")) {
        next();
        terms.push_back(make(NodeKind::kPlusMinus, {parse_term()}));
      } else {
        break;
      }
      if (terms.back() < 0) return -1;
      if (!budget_->tick()) return fail("budget");
    }
    if (terms.size() == 1) return first;
    return make(NodeKind::kAdd, terms);
  }

  bool starts_operand() const {
    const Token& t = peek();
    switch (t.kind) {
      case Tok::kNumber:
        return true;
      case Tok::kWord:
        return t.text != "and" && t.text != "or" && t.text != "percent" && t.text != "pct" &&
               t.text != "percentage" && t.text != "...";
      case Tok::kCmd:
        return !is_operator_command(t.text);
      case Tok::kChar:
        if (t.text == "(" || t.text == "{") return true;
        if (t.text == "|") return abs_depth_ == 0;
        return false;
      default:
        return false;
    }
  }

  int parse_term() {
    Guard g(this);
    if (!g.ok()) return fail("nesting too deep");
    int cur = parse_unary();
    if (cur < 0) return -1;
    std::vector<int> factors{cur};
    auto product = [&]() {
      return factors.size() == 1 ? factors[0] : make(NodeKind::kMul, factors);
    };
    while (true) {
      if (!budget_->tick()) return fail("budget");
      if (is_char('*') || is_cmd("cdot") || is_cmd("times") || is_cmd("ast")) {
        next();
        int f = parse_unary();
        if (f < 0) return -1;
        factors.push_back(f);
      } else if (is_char('/') || is_cmd("div")) {
        next();
        int d = parse_unary();
        if (d < 0) return -1;
        int num = product();
        factors.assign(1, make(NodeKind::kDiv, {num, d}));
        if (factors[0] < 0) return -1;
      } else if (starts_operand()) {
        if (peek().kind == Tok::kNumber && last_was_number_) {
          return fail("two numbers in a row");
        }
        int f = parse_power();
        if (f < 0) return -1;
        factors.push_back(f);
      } else {
        break;
      }
    }
    return product();
  }

  int parse_unary() {
    Guard g(this);
    if (!g.ok()) return fail("nesting too deep");
    if (is_char('-')) {
      next();
      return make(NodeKind::kNeg, {parse_unary()});
    }
    if (is_char('+')) {
      next();
      return parse_unary();
    }
    if (is_cmd("pm") || is_cmd("mp")) {
      next();
      return make(NodeKind::kPlusMinus, {parse_unary()});
    }
    return parse_power();
  }

  int parse_power() {
    Guard g(this);
    if (!g.ok()) return fail("nesting too deep");
    int base = parse_postfix();
    if (base < 0) return -1;
    std::vector<int> chain{base};
    while (is_char('^')) {
      next();
      int ex = parse_exponent();
      if (ex < 0) return -1;
      chain.push_back(ex);
    }
    int r = chain.back();
    for (size_t k = chain.size() - 1; k-- > 0;) r = make(NodeKind::kPow, {chain[k], r});
    // A postfix after a power: "2^3!" is rare; percent after a power is not: "10^2 %".
    return parse_postfix_ops(r);
  }

  int parse_exponent() {
    Guard g(this);
    if (!g.ok()) return fail("nesting too deep");
    if (is_char('{')) return parse_brace_group();
    if (peek().kind == Tok::kNumber) return parse_number_token();
    if (is_char('-')) {
      next();
      return make(NodeKind::kNeg, {parse_exponent()});
    }
    if (is_char('+')) {
      next();
      return parse_exponent();
    }
    if (is_char('(')) return parse_primary();
    if (peek().kind == Tok::kWord) return single_letter();
    if (peek().kind == Tok::kCmd) return parse_primary();
    return fail("bad exponent");
  }

  int parse_postfix() {
    int p = parse_primary();
    if (p < 0) return -1;
    return parse_postfix_ops(p);
  }

  int parse_postfix_ops(int p) {
    while (p >= 0) {
      if (is_char('!')) {
        next();
        p = make(NodeKind::kFactorial, {p});
      } else if (is_char('%') || is_word("percent") || is_word("pct") || is_word("percentage")) {
        next();
        p = make(NodeKind::kPercent, {p});
      } else if (is_char('\'') && e_.nodes[static_cast<size_t>(p)].kind == NodeKind::kSymbol) {
        next();
        e_.nodes[static_cast<size_t>(p)].name += "'";
      } else {
        break;
      }
    }
    return p;
  }

  // Number literal at the current token (whole token).
  int parse_number_token() {
    const std::string text = peek().text;
    next();
    auto v = Rational::from_decimal(text);
    if (!v) return fail("number out of range");
    int decimals = -1;
    size_t dot = text.find('.');
    if (dot != std::string::npos && text.find_first_of("eE") == std::string::npos) {
      decimals = static_cast<int>(text.size() - dot - 1);
    }
    return number(*v, decimals);
  }

  // A single character argument taken from the current token: \frac12, \sqrt3, x_12.
  // Returns the character; the token keeps the rest (or is consumed).
  char take_char() {
    Token& t = t_[pos_];
    char c = t.text[0];
    if (t.text.size() == 1) {
      next();
    } else {
      t.text.erase(0, 1);
      t.space_before = false;
      last_was_number_ = false;
    }
    return c;
  }

  int single_letter() {
    char c = take_char();
    return letter(c);
  }

  // Argument of \frac, \sqrt, \binom: a brace group or a single token.
  int parse_arg() {
    if (is_char('{')) return parse_brace_group();
    const Token& t = peek();
    if (t.kind == Tok::kNumber) {
      char c = take_char();
      if (c == '.') return fail("bad argument");
      return number(Rational(c - '0'), -1);
    }
    if (t.kind == Tok::kWord) return single_letter();
    if (t.kind == Tok::kCmd) return parse_primary();
    return fail("missing argument");
  }

  int parse_brace_group() {
    Guard g(this);
    if (!g.ok()) return fail("nesting too deep");
    next();  // '{'
    if (is_char('}')) return fail("empty group");
    std::vector<int> items;
    if (!parse_items(&items)) return -1;
    if (!is_char('}')) return fail("unclosed brace");
    next();
    if (items.size() == 1) return items[0];
    return make(NodeKind::kList, items);
  }

  // The raw text of a subscript: "_1", "_{n-1}", "_\alpha".
  bool subscript_text(std::string* out) {
    next();  // '_'
    if (is_char('{')) {
      next();
      int depth = 1;
      while (!at_end()) {
        const Token& t = peek();
        if (t.kind == Tok::kChar && t.text == "{") ++depth;
        if (t.kind == Tok::kChar && t.text == "}" && --depth == 0) {
          next();
          return true;
        }
        if (t.kind == Tok::kCmd) *out += "\\";
        *out += t.text;
        next();
      }
      return false;
    }
    if (at_end()) return false;
    if (peek().kind == Tok::kNumber || peek().kind == Tok::kWord) {
      *out += take_char();
      return true;
    }
    if (peek().kind == Tok::kCmd) {
      *out += "\\" + peek().text;
      next();
      return true;
    }
    return false;
  }

  // Symbol name continuation: subscripts, then f(x) application for f, g, h.
  int finish_symbol(std::string name) {
    while (is_char('_')) {
      std::string sub;
      if (!subscript_text(&sub)) return fail("bad subscript");
      name += "_" + sub;
    }
    bool fn_letter =
        name.size() == 1 && std::string_view("fghFGH").find(name[0]) != std::string_view::npos;
    if (fn_letter && is_char('(') && !peek().space_before) {
      next();
      std::vector<int> args;
      if (!parse_items(&args)) return -1;
      if (!is_char(')')) return fail("unclosed call");
      next();
      return make(NodeKind::kApply, args, name);
    }
    if (name == "e") return constant("e");
    return symbol(name);
  }

  // Mixed number after an integer literal: "4 4/9" or "918\frac{1}{2}".
  int maybe_mixed(int whole, const std::string& whole_text) {
    if (whole_text.find_first_of(".eE") != std::string::npos) return whole;
    // Plain: whole SPACE int '/' int.
    if (peek().kind == Tok::kNumber && peek().space_before && is_char('/', 1) &&
        peek(2).kind == Tok::kNumber && !peek(1).space_before && !peek(2).space_before &&
        peek().text.find_first_of(".eE") == std::string::npos &&
        peek(2).text.find_first_of(".eE") == std::string::npos && !is_char('^', 3) &&
        !is_char('/', 3)) {
      auto num = Rational::from_decimal(peek().text);
      auto den = Rational::from_decimal(peek(2).text);
      next();
      next();
      next();
      if (!num || !den) return fail("number out of range");
      if (den->is_zero()) return fatal("malformed mixed number (zero denominator)");
      if (Rational::compare(*num, *den) >= 0) {
        return fatal("malformed mixed number (improper fraction)");
      }
      int frac = make(NodeKind::kDiv, {number(*num, -1), number(*den, -1)});
      return make(NodeKind::kAdd, {whole, frac});
    }
    // LaTeX: whole \frac{int}{int} with a proper fraction.
    if (is_cmd("frac")) {
      size_t save = pos_;
      std::vector<Token> saved_tokens(
          t_.begin() + static_cast<long>(pos_),
          t_.begin() + static_cast<long>(std::min(t_.size(), pos_ + 8)));
      next();
      size_t save_nodes = e_.nodes.size();
      int a = parse_arg();
      int b = a >= 0 ? parse_arg() : -1;
      bool ok = a >= 0 && b >= 0 && e_.at(a).kind == NodeKind::kNumber &&
                e_.at(b).kind == NodeKind::kNumber && e_.at(a).decimals < 0 &&
                e_.at(b).decimals < 0 && !e_.at(b).value.is_zero() &&
                Rational::compare(e_.at(a).value, e_.at(b).value) < 0;
      if (ok) {
        int frac = make(NodeKind::kDiv, {a, b});
        return make(NodeKind::kAdd, {whole, frac});
      }
      // Not a mixed number: rewind and let implicit multiplication read it.
      error_.clear();
      pos_ = save;
      std::copy(saved_tokens.begin(), saved_tokens.end(), t_.begin() + static_cast<long>(pos_));
      e_.nodes.resize(save_nodes);
      last_was_number_ = true;
    }
    return whole;
  }

  int parse_primary() {
    Guard g(this);
    if (!g.ok()) return fail("nesting too deep");
    if (at_end()) return fail("unexpected end");
    const Token tok = peek();
    switch (tok.kind) {
      case Tok::kNumber: {
        int n = parse_number_token();
        if (n < 0) return -1;
        if (is_char('_') && !peek().space_before) return base_literal(tok.text);
        if (is_cmd("overline") || (is_char('.') && is_cmd("overline", 1))) {
          return repeating_decimal(tok.text);
        }
        return maybe_mixed(n, tok.text);
      }
      case Tok::kWord:
        return parse_word();
      case Tok::kCmd:
        return parse_command();
      case Tok::kChar:
        break;
      default:
        return fail("unexpected end");
    }
    const char c = tok.text[0];
    if (c == '(' || c == '[') return parse_bracket(c);
    if (c == '{') return parse_brace_group();
    if (c == '|') {
      next();
      ++abs_depth_;
      int inner = parse_additive();
      --abs_depth_;
      if (inner < 0) return -1;
      if (!is_char('|')) return fail("unclosed |");
      next();
      return make(NodeKind::kFunc, {inner}, "abs");
    }
    return fail("unexpected '" + tok.text + "'");
  }

  // "0.\overline{3}" = 1/3, "0.1\overline{6}" = 1/6: the digits under the bar repeat forever.
  int repeating_decimal(const std::string& literal) {
    if (literal.find_first_of("eE") != std::string::npos) return fail("bad repeating decimal");
    if (is_char('.')) {
      if (literal.find('.') != std::string::npos) return fail("bad repeating decimal");
      next();
    }
    next();  // \overline
    if (!is_char('{') || peek(1).kind != Tok::kNumber || !is_char('}', 2)) {
      return fail("bad repeating decimal");
    }
    const std::string rep = peek(1).text;
    next();
    next();
    next();
    if (rep.find_first_not_of("0123456789") != std::string::npos || rep.size() > 30) {
      return fail("bad repeating decimal");
    }
    size_t dot = literal.find('.');
    size_t frac_digits = dot == std::string::npos ? 0 : literal.size() - dot - 1;
    auto base = Rational::from_decimal(literal);
    auto r = Rational::from_decimal(rep);
    auto scale = Rational::pow(Rational(10), static_cast<int64_t>(frac_digits));
    auto nines =
        Rational::sub(*Rational::pow(Rational(10), static_cast<int64_t>(rep.size())), Rational(1));
    if (!base || !r || !scale || !nines) return fail("number out of range");
    auto den = Rational::mul(*scale, *nines);
    if (!den) return fail("number out of range");
    auto tail = Rational::div(*r, *den);
    if (!tail) return fail("number out of range");
    auto v = Rational::add(*base, *tail);
    if (!v) return fail("number out of range");
    return number(*v, -1);
  }

  // "204_5": digits in base 5.
  int base_literal(const std::string& digits) {
    std::string sub;
    if (!subscript_text(&sub)) return fail("bad subscript");
    if (sub.empty() || sub.size() > 2 || !std::all_of(sub.begin(), sub.end(), is_digit)) {
      return fail("bad number base");
    }
    int base = std::stoi(sub);
    if (base < 2 || base > 36) return fail("bad number base");
    Rational v;
    for (char d : digits) {
      int dv = is_digit(d) ? d - '0' : -1;
      if (dv < 0 || dv >= base) return fail("digit out of base");
      auto m = Rational::mul(v, Rational(base));
      if (!m) return fail("number out of range");
      auto a = Rational::add(*m, Rational(dv));
      if (!a) return fail("number out of range");
      v = *a;
    }
    return number(v, -1);
  }

  int parse_bracket(char open) {
    next();
    std::vector<int> items;
    if (!parse_items(&items)) return -1;
    if (!is_char(')') && !is_char(']')) return fail("unclosed bracket");
    char close = peek().text[0];
    next();
    if (items.size() == 1 && ((open == '(' && close == ')') || (open == '[' && close == ']'))) {
      return items[0];
    }
    if (items.size() == 2 && !(open == '(' && close == ')')) {
      Node n;
      n.kind = NodeKind::kInterval;
      n.kids = items;
      n.left_closed = open == '[';
      n.right_closed = close == ']';
      return add(std::move(n));
    }
    if (open == '(' && close == ')') return make(NodeKind::kTuple, items);
    if (open == '[' && close == ']') return make(NodeKind::kTuple, items);
    return fail("bad interval");
  }

  int parse_word() {
    const std::string w = peek().text;
    if (w == "...") {
      next();
      return make(NodeKind::kEllipsis, {});
    }
    if (w == "and" || w == "or") return fail("unexpected '" + w + "'");
    if (w == "pi") {
      next();
      return constant("pi");
    }
    if (w == "inf" || w == "infinity" || w == "infty") {
      next();
      return constant("inf");
    }
    if ((is_function(w) || w == "sqrt" || w == "abs") && is_char('(', 1)) {
      next();
      return parse_function(w);
    }
    // A run of four or more letters is prose ("correct", "apples"), not a product of symbols:
    // such an answer is compared as text only.
    if (w.size() >= 4) return fail("word '" + w + "'");
    // Letters multiply: "xy" = x*y; the last letter may carry a subscript or be f(x).
    next();
    std::vector<int> factors;
    for (size_t k = 0; k + 1 < w.size(); ++k) factors.push_back(letter(w[k]));
    int last = finish_symbol(std::string(1, w.back()));
    if (last < 0) return -1;
    factors.push_back(last);
    if (factors.size() == 1) return factors[0];
    return make(NodeKind::kMul, factors);
  }

  int parse_command() {
    const std::string name = peek().text;
    next();
    if (name == "frac") {
      int a = parse_arg();
      if (a < 0) return -1;
      int b = parse_arg();
      return make(NodeKind::kDiv, {a, b});
    }
    if (name == "sqrt") {
      int index = -1;
      if (is_char('[')) {
        next();
        index = parse_additive();
        if (index < 0) return -1;
        if (!is_char(']')) return fail("unclosed root index");
        next();
      }
      int x = parse_arg();
      if (index < 0) return make(NodeKind::kFunc, {x}, "sqrt");
      return make(NodeKind::kFunc, {index, x}, "root");
    }
    if (name == "binom") {
      int a = parse_arg();
      if (a < 0) return -1;
      int b = parse_arg();
      return make(NodeKind::kFunc, {a, b}, "binom");
    }
    if (name == "pi") return constant("pi");
    if (name == "infty") return constant("inf");
    if (name == "emptyset") return make(NodeKind::kSet, {});
    if (is_function(name)) return parse_function(name);
    if (name == "max" || name == "min" || name == "gcd" || name == "lcm") {
      if (!is_char('(')) return fail("expected (");
      next();
      std::vector<int> args;
      if (!parse_items(&args)) return -1;
      if (!is_char(')')) return fail("unclosed call");
      next();
      return make(NodeKind::kFunc, args, name);
    }
    if (name == "lfloor" || name == "lceil") {
      int inner = parse_additive();
      if (inner < 0) return -1;
      const char* close = name == "lfloor" ? "rfloor" : "rceil";
      if (!is_cmd(close)) return fail("unclosed floor/ceil");
      next();
      return make(NodeKind::kFunc, {inner}, name == "lfloor" ? "floor" : "ceil");
    }
    if (name == "{") {
      if (is_cmd("}")) {
        next();
        return make(NodeKind::kSet, {});
      }
      std::vector<int> items;
      if (!parse_items(&items)) return -1;
      if (!is_cmd("}")) return fail("unclosed set");
      next();
      return make(NodeKind::kSet, items);
    }
    if (name == "begin") return parse_environment();
    if (name == "overline" || name == "vec" || name == "hat" || name == "bar" ||
        name == "widehat" || name == "tilde" || name == "underline" || name == "dot" ||
        name == "ddot" || name == "overrightarrow") {
      return parse_arg();
    }
    if (name == "sum" || name == "prod" || name == "int" || name == "lim" || name == "oint") {
      return fail("unsupported \\" + name);
    }
    if (is_operator_command(name)) return fail("unexpected \\" + name);
    return finish_symbol("\\" + name);
  }

  int parse_function(const std::string& name) {
    std::string fname = name;
    if (fname == "lg") fname = "log10";
    int power = -1;
    int base = -1;
    if (fname == "log" && is_char('_')) {
      next();
      base = parse_exponent();
      if (base < 0) return -1;
    }
    if (is_char('^')) {
      next();
      int ex = parse_exponent();
      if (ex < 0) return -1;
      const Node& en = e_.at(ex);
      bool inverse = en.kind == NodeKind::kNeg && e_.at(en.kids[0]).kind == NodeKind::kNumber &&
                     e_.at(en.kids[0]).value == Rational(1);
      if (inverse && (fname == "sin" || fname == "cos" || fname == "tan")) {
        fname = "arc" + fname;
      } else {
        power = ex;
      }
    }
    int arg;
    if (is_char('(')) {
      next();
      std::vector<int> items;
      if (!parse_items(&items)) return -1;
      if (!is_char(')')) return fail("unclosed call");
      next();
      if (items.size() != 1) return fail("bad function argument");
      arg = items[0];
    } else {
      arg = parse_power();
      if (arg < 0) return -1;
      // "\sin 2x": numbers and letters right after the operand belong to the argument.
      std::vector<int> factors{arg};
      while (peek().kind == Tok::kWord || (peek().kind == Tok::kNumber && !last_was_number_) ||
             is_cmd("pi")) {
        if (peek().kind == Tok::kWord && (is_function(peek().text) || !starts_operand())) {
          break;
        }
        int f = parse_power();
        if (f < 0) return -1;
        factors.push_back(f);
      }
      if (factors.size() > 1) arg = make(NodeKind::kMul, factors);
    }
    int f = base >= 0 ? make(NodeKind::kFunc, {base, arg}, "logb")
                      : make(NodeKind::kFunc, {arg}, fname);
    if (power >= 0) f = make(NodeKind::kPow, {f, power});
    return f;
  }

  // \begin{pmatrix} a & b \\ c & d \end{pmatrix} (also bmatrix, matrix, vmatrix, array).
  int parse_environment() {
    if (!is_char('{')) return fail("bad \\begin");
    next();
    std::string env;
    while (!at_end() && !is_char('}')) {
      env += peek().text;
      next();
    }
    if (!is_char('}')) return fail("bad \\begin");
    next();
    static const char* kMatrixEnvs[] = {"pmatrix", "bmatrix",     "matrix", "vmatrix",
                                        "Bmatrix", "smallmatrix", "array",  "Vmatrix"};
    bool known = false;
    for (const char* m : kMatrixEnvs) known = known || env == m;
    if (!known) return fail("unsupported environment " + env);
    if (env == "array" && is_char('{')) {  // column spec {cc}
      while (!at_end() && !is_char('}')) next();
      if (!is_char('}')) return fail("bad array spec");
      next();
    }
    std::vector<std::vector<int>> rows(1);
    while (true) {
      if (at_end()) return fail("unclosed environment");
      if (is_cmd("end")) {
        next();
        if (!is_char('{')) return fail("bad \\end");
        while (!at_end() && !is_char('}')) next();
        if (!is_char('}')) return fail("bad \\end");
        next();
        break;
      }
      if (is_cmd("\\")) {
        next();
        rows.emplace_back();
        continue;
      }
      if (is_char('&')) return fail("empty matrix cell");
      int cell = parse_relation();
      if (cell < 0) return -1;
      rows.back().push_back(cell);
      if (is_char('&')) {
        next();
        if (is_cmd("\\") || is_cmd("end")) return fail("empty matrix cell");
      }
    }
    while (!rows.empty() && rows.back().empty()) rows.pop_back();
    if (rows.empty()) return fail("empty matrix");
    size_t cols = rows[0].size();
    Node n;
    n.kind = NodeKind::kMatrix;
    for (const auto& r : rows) {
      if (r.size() != cols) return fail("ragged matrix");
      n.kids.insert(n.kids.end(), r.begin(), r.end());
    }
    n.rows = static_cast<int>(rows.size());
    n.cols = static_cast<int>(cols);
    return add(std::move(n));
  }

  std::vector<Token> t_;
  size_t pos_ = 0;
  WorkBudget* budget_;
  MathExpr e_;
  std::string error_;
  bool fatal_ = false;
  bool too_deep_ = false;  // a Guard hit kMaxParseDepth
  int depth_ = 0;
  int abs_depth_ = 0;
  bool last_was_number_ = false;
};

}  // namespace

absl::StatusOr<MathExpr> parse_answer(std::string_view normalized, WorkBudget* budget) {
  if (normalized.size() > kMaxAnswerChars) {
    return absl::ResourceExhaustedError(
        absl::StrCat("longer than the parser accepts (", kMaxAnswerChars, " characters)"));
  }
  Parser p(tokenize_answer(normalized), budget);
  return p.run();
}

}  // namespace forge::reward::math
