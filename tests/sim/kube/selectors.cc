#include "sim/kube/selectors.h"

#include <algorithm>
#include <cctype>

#include "sim/kube/api_error.h"

namespace fluxkey::sim::kube {
namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t");
  return s.substr(b, e - b + 1);
}

// Splits on commas that are not inside parentheses.
std::vector<std::string> split_top(const std::string& text) {
  std::vector<std::string> out;
  int depth = 0;
  std::string cur;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

bool valid_label_key(const std::string& k) {
  if (k.empty() || k.size() > 317) return false;
  for (char c : k) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' &&
        c != '/') {
      return false;
    }
  }
  return true;
}

const nlohmann::json* label_value(const nlohmann::json& object, const std::string& key) {
  auto meta = object.find("metadata");
  if (meta == object.end() || !meta->is_object()) return nullptr;
  auto labels = meta->find("labels");
  if (labels == meta->end() || !labels->is_object()) return nullptr;
  auto v = labels->find(key);
  if (v == labels->end() || !v->is_string()) return nullptr;
  return &*v;
}

bool requirement_matches(const Requirement& r, const nlohmann::json* value) {
  bool present = value != nullptr;
  std::string v = present ? value->get<std::string>() : "";
  auto in_values = [&] { return std::find(r.values.begin(), r.values.end(), v) != r.values.end(); };
  switch (r.op) {
    case Requirement::Op::kEquals:
    case Requirement::Op::kIn:
      return present && in_values();
    case Requirement::Op::kNotEquals:
    case Requirement::Op::kNotIn:
      return !present || !in_values();
    case Requirement::Op::kExists:
      return present;
    case Requirement::Op::kDoesNotExist:
      return !present;
  }
  return false;
}

std::string field_value(const nlohmann::json& object, const std::string& path) {
  const nlohmann::json* cur = &object;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('.', i);
    if (j == std::string::npos) j = path.size();
    std::string part = path.substr(i, j - i);
    if (!cur->is_object() || !cur->contains(part)) return "";
    cur = &(*cur)[part];
    i = j + 1;
  }
  if (cur->is_string()) return cur->get<std::string>();
  if (cur->is_null()) return "";
  return cur->dump();
}

}  // namespace

bool LabelSelector::matches(const nlohmann::json& object) const {
  for (const auto& r : requirements) {
    if (!requirement_matches(r, label_value(object, r.key))) return false;
  }
  return true;
}

LabelSelector parse_label_selector(const std::string& text) {
  LabelSelector sel;
  if (trim(text).empty()) return sel;
  for (const std::string& raw : split_top(text)) {
    std::string term = trim(raw);
    auto fail = [&](const std::string& why) {
      throw bad_request("unable to parse requirement: " + why);
    };
    if (term.empty()) fail("found '', expected: identifier");
    Requirement r;
    if (term[0] == '!') {
      r.key = trim(term.substr(1));
      r.op = Requirement::Op::kDoesNotExist;
    } else if (size_t p = term.find("!="); p != std::string::npos) {
      r.key = trim(term.substr(0, p));
      r.op = Requirement::Op::kNotEquals;
      r.values = {trim(term.substr(p + 2))};
    } else if (size_t p2 = term.find("=="); p2 != std::string::npos) {
      r.key = trim(term.substr(0, p2));
      r.op = Requirement::Op::kEquals;
      r.values = {trim(term.substr(p2 + 2))};
    } else if (size_t p3 = term.find('='); p3 != std::string::npos) {
      r.key = trim(term.substr(0, p3));
      r.op = Requirement::Op::kEquals;
      r.values = {trim(term.substr(p3 + 1))};
    } else if (size_t open = term.find('('); open != std::string::npos) {
      std::string head = trim(term.substr(0, open));
      size_t close = term.rfind(')');
      if (close == std::string::npos || close < open) fail("found '', expected: )");
      size_t sp = head.find_last_of(" \t");
      if (sp == std::string::npos) fail("found '(', expected: in, notin");
      r.key = trim(head.substr(0, sp));
      std::string op = trim(head.substr(sp + 1));
      if (op == "in") {
        r.op = Requirement::Op::kIn;
      } else if (op == "notin") {
        r.op = Requirement::Op::kNotIn;
      } else {
        fail("found '" + op + "', expected: in, notin");
      }
      std::string inner = term.substr(open + 1, close - open - 1);
      size_t i = 0;
      while (i <= inner.size()) {
        size_t j = inner.find(',', i);
        if (j == std::string::npos) j = inner.size();
        r.values.push_back(trim(inner.substr(i, j - i)));
        i = j + 1;
      }
    } else {
      r.key = term;
      r.op = Requirement::Op::kExists;
    }
    if (!valid_label_key(r.key)) fail("invalid label key \"" + r.key + "\"");
    sel.requirements.push_back(std::move(r));
  }
  return sel;
}

bool FieldSelector::matches(const nlohmann::json& object) const {
  for (const auto& r : requirements) {
    std::string v = field_value(object, r.key);
    bool eq = v == r.values[0];
    if (r.op == Requirement::Op::kEquals ? !eq : eq) return false;
  }
  return true;
}

FieldSelector parse_field_selector(const std::string& text,
                                   const std::vector<std::string>& allowed) {
  FieldSelector sel;
  if (trim(text).empty()) return sel;
  for (const std::string& raw : split_top(text)) {
    std::string term = trim(raw);
    Requirement r;
    size_t p;
    if ((p = term.find("!=")) != std::string::npos) {
      r.op = Requirement::Op::kNotEquals;
      r.key = term.substr(0, p);
      r.values = {term.substr(p + 2)};
    } else if ((p = term.find("==")) != std::string::npos) {
      r.op = Requirement::Op::kEquals;
      r.key = term.substr(0, p);
      r.values = {term.substr(p + 2)};
    } else if ((p = term.find('=')) != std::string::npos) {
      r.op = Requirement::Op::kEquals;
      r.key = term.substr(0, p);
      r.values = {term.substr(p + 1)};
    } else {
      throw bad_request("invalid selector: '" + text + "'; can't understand '" + term + "'");
    }
    bool ok = r.key == "metadata.name" || r.key == "metadata.namespace" ||
              std::find(allowed.begin(), allowed.end(), r.key) != allowed.end();
    if (!ok) {
      throw bad_request("\"" + r.key +
                        "\" is not a known field selector: only \"metadata.name\", " +
                        "\"metadata.namespace\"");
    }
    sel.requirements.push_back(std::move(r));
  }
  return sel;
}

}  // namespace fluxkey::sim::kube
