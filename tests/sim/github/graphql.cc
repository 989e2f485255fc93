#include "sim/github/graphql.h"

#include <cctype>

namespace fluxkey::sim::github {
namespace {

enum class Tok { kName, kString, kInt, kPunct, kEnd };

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;
  int line = 1;
  int column = 1;
};

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  // Returns false with error() set on a malformed token.
  bool next(Token& out) {
    skip_ignored();
    out = Token{};
    out.line = line_;
    out.column = column_;
    if (pos_ >= src_.size()) return true;
    char c = src_[pos_];
    if (c == '"') return string(out);
    if (std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_') {
      out.kind = Tok::kName;
      while (pos_ < src_.size() &&
             (std::isalnum(static_cast<unsigned char>(src_[pos_])) != 0 || src_[pos_] == '_')) {
        out.text.push_back(advance());
      }
      return true;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '-') {
      out.kind = Tok::kInt;
      out.text.push_back(advance());
      while (pos_ < src_.size() && std::isdigit(static_cast<unsigned char>(src_[pos_])) != 0) {
        out.text.push_back(advance());
      }
      return true;
    }
    if (std::string_view("{}():$=!@[]").find(c) != std::string_view::npos) {
      out.kind = Tok::kPunct;
      out.text.push_back(advance());
      return true;
    }
    error_ = std::string("Parse error on \"") + c + "\" at [" + std::to_string(line_) + ", " +
             std::to_string(column_) + "]";
    return false;
  }
  const std::string& error() const { return error_; }

 private:
  char advance() {
    char c = src_[pos_++];
    if (c == '\n') {
      ++line_;
      column_ = 1;
    } else {
      ++column_;
    }
    return c;
  }

  // Whitespace, commas and comments are insignificant in GraphQL.
  void skip_ignored() {
    while (pos_ < src_.size()) {
      char c = src_[pos_];
      if (c == '#') {
        while (pos_ < src_.size() && src_[pos_] != '\n') advance();
      } else if (std::isspace(static_cast<unsigned char>(c)) != 0 || c == ',') {
        advance();
      } else {
        break;
      }
    }
  }

  bool string(Token& out) {
    out.kind = Tok::kString;
    advance();  // opening quote
    while (pos_ < src_.size()) {
      char c = advance();
      if (c == '"') return true;
      if (c == '\n') break;
      if (c != '\\') {
        out.text.push_back(c);
        continue;
      }
      if (pos_ >= src_.size()) break;
      char e = advance();
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out.text.push_back(e);
          break;
        case 'b':
          out.text.push_back('\b');
          break;
        case 'f':
          out.text.push_back('\f');
          break;
        case 'n':
          out.text.push_back('\n');
          break;
        case 'r':
          out.text.push_back('\r');
          break;
        case 't':
          out.text.push_back('\t');
          break;
        case 'u': {
          unsigned cp = 0;
          for (int i = 0; i < 4; ++i) {
            char h = pos_ < src_.size() ? advance() : '\0';
            if (std::isxdigit(static_cast<unsigned char>(h)) == 0) {
              error_ = "Parse error: bad \\u escape in a string at [" + std::to_string(out.line) +
                       ", " + std::to_string(out.column) + "]";
              return false;
            }
            cp = cp * 16 + static_cast<unsigned>(std::isdigit(static_cast<unsigned char>(h)) != 0
                                                     ? h - '0'
                                                     : std::tolower(h) - 'a' + 10);
          }
          append_utf8(out.text, cp);
          break;
        }
        default:
          error_ = "Parse error: bad escape \\" + std::string(1, e) + " in a string at [" +
                   std::to_string(out.line) + ", " + std::to_string(out.column) + "]";
          return false;
      }
    }
    error_ = "Parse error: unterminated string at [" + std::to_string(out.line) + ", " +
             std::to_string(out.column) + "]";
    return false;
  }

  static void append_utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  std::string_view src_;
  size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
  std::string error_;
};

class Parser {
 public:
  Parser(std::string_view src, const nlohmann::json& variables)
      : lexer_(src), variables_(variables) {}

  GraphqlDocument parse() {
    GraphqlDocument doc;
    if (!advance()) return fail(doc);
    if (tok_.kind == Tok::kName && tok_.text == "query") {
      if (!advance()) return fail(doc);
      if (tok_.kind == Tok::kName && !advance()) return fail(doc);  // operation name
      if (is_punct("(") && !skip_variable_definitions()) return fail(doc);
    } else if (tok_.kind == Tok::kName) {
      error_ = "Only query operations are supported by github-sim, got \"" + tok_.text + "\"";
      return fail(doc);
    }
    if (!selection_set(doc.fields)) return fail(doc);
    if (tok_.kind != Tok::kEnd) {
      error_ = unexpected();
      return fail(doc);
    }
    return doc;
  }

 private:
  GraphqlDocument& fail(GraphqlDocument& doc) {
    doc.fields.clear();
    doc.error = error_.empty() ? lexer_.error() : error_;
    return doc;
  }

  bool advance() { return lexer_.next(tok_); }
  bool is_punct(const char* p) const { return tok_.kind == Tok::kPunct && tok_.text == p; }
  std::string unexpected() const {
    std::string what = tok_.kind == Tok::kEnd ? "end of file" : "\"" + tok_.text + "\"";
    return "Parse error on " + what + " at [" + std::to_string(tok_.line) + ", " +
           std::to_string(tok_.column) + "]";
  }
  bool expect(const char* p) {
    if (!is_punct(p)) {
      error_ = unexpected();
      return false;
    }
    return advance();
  }

  // ($owner: String!, $name: String = "x"): the types do not matter here,
  // the values come from `variables`.
  bool skip_variable_definitions() {
    int depth = 0;
    do {
      if (tok_.kind == Tok::kEnd) {
        error_ = unexpected();
        return false;
      }
      if (is_punct("(")) ++depth;
      if (is_punct(")")) --depth;
      if (!advance()) return false;
    } while (depth > 0);
    return true;
  }

  bool selection_set(std::vector<GraphqlField>& out) {
    if (!expect("{")) return false;
    while (!is_punct("}")) {
      if (tok_.kind != Tok::kName) {
        error_ = unexpected();
        return false;
      }
      GraphqlField field;
      field.line = tok_.line;
      field.column = tok_.column;
      field.name = tok_.text;
      if (!advance()) return false;
      if (is_punct(":")) {
        if (!advance()) return false;
        if (tok_.kind != Tok::kName) {
          error_ = unexpected();
          return false;
        }
        field.alias = field.name;
        field.name = tok_.text;
        if (!advance()) return false;
      } else {
        field.alias = field.name;
      }
      if (is_punct("(") && !arguments(field)) return false;
      if (is_punct("{") && !selection_set(field.selection)) return false;
      out.push_back(std::move(field));
    }
    return advance();
  }

  bool arguments(GraphqlField& field) {
    if (!advance()) return false;
    while (!is_punct(")")) {
      if (tok_.kind != Tok::kName) {
        error_ = unexpected();
        return false;
      }
      std::string name = tok_.text;
      if (!advance() || !expect(":")) return false;
      nlohmann::json value;
      if (!argument_value(value)) return false;
      field.arguments.emplace_back(std::move(name), std::move(value));
    }
    return advance();
  }

  bool argument_value(nlohmann::json& value) {
    if (tok_.kind == Tok::kString) {
      value = tok_.text;
    } else if (tok_.kind == Tok::kInt) {
      value = std::stoll(tok_.text);
    } else if (tok_.kind == Tok::kName && (tok_.text == "true" || tok_.text == "false")) {
      value = tok_.text == "true";
    } else if (tok_.kind == Tok::kName && tok_.text == "null") {
      value = nullptr;
    } else if (is_punct("$")) {
      if (!advance()) return false;
      if (tok_.kind != Tok::kName) {
        error_ = unexpected();
        return false;
      }
      if (!variables_.is_object() || !variables_.contains(tok_.text)) {
        error_ = "Variable $" + tok_.text + " is used by anonymous query but not declared";
        return false;
      }
      value = variables_.at(tok_.text);
    } else {
      error_ = unexpected();
      return false;
    }
    return advance();
  }

  Lexer lexer_;
  const nlohmann::json& variables_;
  Token tok_;
  std::string error_;
};

}  // namespace

GraphqlDocument parse_graphql(std::string_view query, const nlohmann::json& variables) {
  return Parser(query, variables).parse();
}

}  // namespace fluxkey::sim::github
