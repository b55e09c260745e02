#include "ir/parser.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <unordered_map>

#include "ir/error.h"
#include "ir/op.h"

namespace stratum {

namespace {

struct Token {
  enum Kind { kEnd, kIdent, kValue, kInt, kFloat, kString, kPunct, kOrigin } kind = kEnd;
  // identifier, value name (without '%'), number text, string contents, punctuation or origin (without '@')
  std::string text;
  int line = 1, col = 1;
};

const char* kind_name(Token::Kind kind) {
  static const char* const kNames[] = {"end of input", "a name",   "a %value",    "an integer",
                                       "a number",     "a string", "punctuation", "an @origin"};
  return kNames[kind];
}

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; }

class Lexer {
 public:
  Lexer(std::string_view text, std::string_view source) : text_(text), source_(source) {}

  [[noreturn]] void error_at(int line, int col, const std::string& reason) const {
    fail("{}:{}:{}: {}", source_, line, col, reason);
  }

  Token next() {
    skip_space_and_comments();
    Token token;
    token.line = line_;
    token.col = col_;
    if (pos_ >= text_.size()) return token;
    const char c = text_[pos_];
    if (c == '%') {
      advance();
      token.kind = Token::kValue;
      token.text = take_while(is_name_char);
      if (token.text.empty()) error_at(token.line, token.col, "expected a value name after '%'");
    } else if (c == '@') {
      advance();
      token.kind = Token::kOrigin;
      token.text = take_while([](char ch) { return is_name_char(ch) || ch == '+'; });
      if (!is_origin(token.text))
        error_at(token.line, token.col, "expected layer names joined by '+' after '@'");
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      token.kind = Token::kIdent;
      token.text = take_while(is_name_char);
    } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+') {
      lex_number(token);
    } else if (c == '"') {
      lex_string(token);
    } else if (std::string_view("{}()[],:=").find(c) != std::string_view::npos) {
      token.kind = Token::kPunct;
      token.text = std::string(1, c);
      advance();
    } else {
      error_at(line_, col_, fmt::format("unexpected character '{}'", c));
    }
    return token;
  }

 private:
  void advance() {
    if (text_[pos_] == '\n') {
      ++line_;
      col_ = 1;
    } else {
      ++col_;
    }
    ++pos_;
  }

  void skip_space_and_comments() {
    while (pos_ < text_.size()) {
      if (std::isspace(static_cast<unsigned char>(text_[pos_]))) {
        advance();
      } else if (text_[pos_] == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n') advance();
      } else {
        break;
      }
    }
  }

  template <typename Pred>
  std::string take_while(Pred pred) {
    const size_t start = pos_;
    while (pos_ < text_.size() && pred(text_[pos_])) advance();
    return std::string(text_.substr(start, pos_ - start));
  }

  void lex_number(Token& token) {
    token.text = take_while([](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '+';
    });
    const char* begin = token.text.c_str();
    char* end = nullptr;
    const bool is_float = token.text.find_first_of(".eEn") != std::string::npos;
    if (is_float) {
      std::strtod(begin, &end);
    } else {
      std::strtoll(begin, &end, 10);
    }
    if (end != begin + token.text.size() || token.text == "-" || token.text == "+") {
      error_at(token.line, token.col, fmt::format("'{}' is not a number", token.text));
    }
    token.kind = is_float ? Token::kFloat : Token::kInt;
  }

  void lex_string(Token& token) {
    token.kind = Token::kString;
    advance();
    while (true) {
      if (pos_ >= text_.size() || text_[pos_] == '\n') error_at(token.line, token.col, "unterminated string");
      char c = text_[pos_];
      advance();
      if (c == '"') return;
      if (c == '\\' && pos_ < text_.size()) {
        c = text_[pos_];
        advance();
      }
      token.text += c;
    }
  }

  std::string_view text_, source_;
  size_t pos_ = 0;
  int line_ = 1, col_ = 1;
};

class Parser {
 public:
  Parser(std::string_view text, std::string_view source) : lexer_(text, source) { token_ = lexer_.next(); }

  std::unique_ptr<Graph> parse() {
    expect_keyword("graph");
    auto graph = std::make_unique<Graph>(expect(Token::kIdent, "a graph name").text);
    graph_ = graph.get();
    expect_punct("{");
    while (!is_punct("}")) {
      if (token_.kind == Token::kEnd) error("expected '}' to close the graph");
      parse_statement();
    }
    advance();
    if (token_.kind != Token::kEnd) error("expected the end of input after the graph");
    return graph;
  }

 private:
  [[noreturn]] void error(const std::string& reason) const { error_at(token_, reason); }
  [[noreturn]] void error_at(const Token& token, const std::string& reason) const {
    lexer_.error_at(token.line, token.col, reason);
  }

  void advance() { token_ = lexer_.next(); }
  bool is_punct(const char* p) const { return token_.kind == Token::kPunct && token_.text == p; }

  std::string describe() const {
    if (token_.kind == Token::kEnd) return "end of input";
    return fmt::format("'{}{}'", token_.kind == Token::kOrigin ? "@" : "", token_.text);
  }

  Token expect(Token::Kind kind, const char* what) {
    if (token_.kind != kind) error(fmt::format("expected {}, got {}", what, describe()));
    Token token = token_;
    advance();
    return token;
  }
  void expect_punct(const char* p) {
    if (!is_punct(p)) error(fmt::format("expected '{}', got {}", p, describe()));
    advance();
  }
  void expect_keyword(const char* word) {
    if (token_.kind != Token::kIdent || token_.text != word)
      error(fmt::format("expected '{}', got {}", word, describe()));
    advance();
  }

  void parse_statement() {
    if (token_.kind == Token::kValue) return parse_node();
    const Token keyword =
        expect(Token::kIdent, "a statement (input, param, state, %value = op(...), update, output)");
    if (keyword.text == "input" || keyword.text == "param" || keyword.text == "state")
      return parse_leaf(keyword);
    if (keyword.text == "update") return parse_update();
    if (keyword.text == "output") return parse_outputs();
    error_at(keyword, fmt::format("unknown statement '{}'", keyword.text));
  }

  // input %x : f32[1,2]   |   param %w : f32[3] = xavier_uniform
  void parse_leaf(const Token& keyword) {
    const Token name = expect(Token::kValue, "a %value name");
    if (name.text.find_first_not_of("0123456789") == std::string::npos) {
      error_at(name,
               fmt::format("{} %{} needs a name, not a number: leaves are fed, saved and loaded by name",
                           keyword.text, name.text));
    }
    if (values_.count(name.text)) error_at(name, fmt::format("%{} is already defined", name.text));
    expect_punct(":");
    TensorType type = parse_type();
    Value* value = nullptr;
    if (keyword.text == "input") {
      value = graph_->add_input(name.text, std::move(type));
    } else {
      expect_punct("=");
      const Init init = parse_init();
      value = keyword.text == "param" ? graph_->add_param(name.text, std::move(type), init)
                                      : graph_->add_state(name.text, std::move(type), init);
    }
    define(name, value);
  }

  Init parse_init() {
    const Token kind = expect(Token::kIdent, "an initializer (zeros, ones, xavier_uniform, uniform(bound))");
    if (kind.text == "zeros") return {Init::kZeros, 0};
    if (kind.text == "ones") return {Init::kOnes, 0};
    if (kind.text == "xavier_uniform") return {Init::kXavierUniform, 0};
    if (kind.text != "uniform") error_at(kind, fmt::format("unknown initializer '{}'", kind.text));
    expect_punct("(");
    const Attr bound = parse_attr_value();
    expect_punct(")");
    if (attr_kind(bound) == AttrKind::kInt)
      return {Init::kUniform, static_cast<double>(std::get<int64_t>(bound))};
    if (attr_kind(bound) != AttrKind::kFloat) error_at(kind, "uniform() takes a number");
    return {Init::kUniform, std::get<double>(bound)};
  }

  // f32[256,1,28,28]
  TensorType parse_type() {
    const Token dtype = expect(Token::kIdent, "a type such as f32[2,3]");
    TensorType type;
    if (!parse_dtype(dtype.text, &type.dtype))
      error_at(dtype, fmt::format("unknown element type '{}'", dtype.text));
    expect_punct("[");
    while (!is_punct("]")) {
      const Token dim = expect(Token::kInt, "a dimension");
      const int64_t size = int_value(dim);
      if (size < 1) error_at(dim, fmt::format("dimension {} must be at least 1", size));
      type.shape.push_back(size);
      if (!is_punct("]")) expect_punct(",");
    }
    advance();
    try {
      check_type(type);
    } catch (const Error& e) {
      error_at(dtype, e.what());
    }
    return type;
  }

  // %a, %b = op(%x, %y) {k=v} : f32[...], f32[...] @layer backward  (both marks optional)
  void parse_node() {
    std::vector<Token> results = {expect(Token::kValue, "a %value")};
    while (is_punct(",")) {
      advance();
      results.push_back(expect(Token::kValue, "a %value"));
    }
    expect_punct("=");
    const Token op = expect(Token::kIdent, "an op name");
    if (find_op(op.text) == nullptr) error_at(op, fmt::format("unknown op '{}'", op.text));
    expect_punct("(");
    std::vector<Value*> inputs;
    while (!is_punct(")")) {
      inputs.push_back(use(expect(Token::kValue, "a %value")));
      if (!is_punct(")")) expect_punct(",");
    }
    advance();
    Attrs attrs = is_punct("{") ? parse_attrs() : Attrs{};
    Node* node = nullptr;
    try {
      node = graph_->add_node(op.text, std::move(inputs), std::move(attrs));
    } catch (const Error& e) {
      error_at(op, e.what());
    }
    if (node->outputs().size() != results.size()) {
      error_at(results[0],
               fmt::format("{} has {} results, {} named", op.text, node->outputs().size(), results.size()));
    }
    expect_punct(":");
    for (size_t i = 0; i < results.size(); ++i) {
      if (i > 0) expect_punct(",");
      const Token at = token_;
      const TensorType written = parse_type();
      if (written != node->output(i)->type()) {
        error_at(at, fmt::format("result type {} does not match the inferred {}", type_str(written),
                                 type_str(node->output(i)->type())));
      }
      define(results[i], node->output(i));
    }
    if (token_.kind == Token::kOrigin) graph_->set_origin(node, expect(Token::kOrigin, "an @origin").text);
    if (token_.kind == Token::kIdent && token_.text == "backward") {
      advance();
      graph_->set_backward(node, true);
    }
  }

  Attrs parse_attrs() {
    expect_punct("{");
    Attrs attrs;
    while (!is_punct("}")) {
      const Token name = expect(Token::kIdent, "an attribute name");
      expect_punct("=");
      if (!attrs.emplace(name.text, parse_attr_value()).second) {
        error_at(name, fmt::format("attribute '{}' is given twice", name.text));
      }
      if (!is_punct("}")) expect_punct(",");
    }
    advance();
    return attrs;
  }

  Attr parse_attr_value() {
    const Token token = token_;
    advance();
    switch (token.kind) {
      case Token::kInt:
        return int_value(token);
      case Token::kFloat:
        return float_value(token);
      case Token::kString:
        return token.text;
      case Token::kIdent:
        if (token.text == "true" || token.text == "false") return token.text == "true";
        break;
      case Token::kPunct:
        if (token.text == "[") return parse_int_list();
        break;
      default:
        break;
    }
    error_at(token, fmt::format("expected an attribute value, got {}", kind_name(token.kind)));
  }

  Ints parse_int_list() {
    Ints values;
    while (!is_punct("]")) {
      values.push_back(int_value(expect(Token::kInt, "an integer")));
      if (!is_punct("]")) expect_punct(",");
    }
    advance();
    return values;
  }

  int64_t int_value(const Token& token) {
    errno = 0;
    const int64_t value = std::strtoll(token.text.c_str(), nullptr, 10);
    if (errno == ERANGE) error_at(token, fmt::format("integer {} is out of range", token.text));
    return value;
  }

  // Finite only: the printer could not write an infinity back as a number.
  double float_value(const Token& token) {
    const double value = std::strtod(token.text.c_str(), nullptr);
    if (!std::isfinite(value)) error_at(token, fmt::format("number {} is not finite", token.text));
    return value;
  }

  void parse_update() {
    const Token target = expect(Token::kValue, "a %param or %state");
    expect_punct("=");
    Value* value = use(expect(Token::kValue, "a %value"));
    try {
      graph_->add_update(use(target), value);
    } catch (const Error& e) {
      error_at(target, e.what());
    }
  }

  void parse_outputs() {
    graph_->add_output(use(expect(Token::kValue, "a %value")));
    while (is_punct(",")) {
      advance();
      graph_->add_output(use(expect(Token::kValue, "a %value")));
    }
  }

  // Names made of digits are the printer's numbers: they stay unnamed in the graph.
  void define(const Token& name, Value* value) {
    if (!values_.emplace(name.text, value).second)
      error_at(name, fmt::format("%{} is already defined", name.text));
    const bool numbered = name.text.find_first_not_of("0123456789") == std::string::npos;
    if (!numbered) {
      if (!is_value_name(name.text)) error_at(name, fmt::format("'{}' is not a valid value name", name.text));
      graph_->rename(value, name.text);
    }
  }

  Value* use(const Token& name) {
    auto it = values_.find(name.text);
    if (it == values_.end()) error_at(name, fmt::format("%{} is not defined", name.text));
    return it->second;
  }

  Lexer lexer_;
  Token token_;
  Graph* graph_ = nullptr;
  std::unordered_map<std::string, Value*> values_;
};

}  // namespace

std::unique_ptr<Graph> parse_graph(std::string_view text, std::string_view source) {
  return Parser(text, source).parse();
}

}  // namespace stratum
