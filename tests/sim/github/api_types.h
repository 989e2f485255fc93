// A transport-free view of one HTTP exchange, so that github-sim's behaviour
// can be driven by unit tests without sockets and served by any HTTP server.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace fluxkey::sim::github {

struct CaseInsensitiveLess {
  bool operator()(const std::string& a, const std::string& b) const;
};

struct ApiRequest {
  std::string method;
  std::string target;  // raw request target: path with percent-escapes, and query
  std::map<std::string, std::string, CaseInsensitiveLess> headers;
  std::string body;
  std::string remote_addr = "127.0.0.1";

  std::string header(const std::string& name) const;
};

struct ApiResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::string header(std::string_view name) const;  // "" when absent
  void set_header(std::string name, std::string value);
  void set_json(int status_code, const nlohmann::json& body_json);
};

// "/api/v3/repos/a%2Fb/x?per_page=2" -> path segments, percent-decoded one
// by one (so an encoded "/" stays inside its segment), and query parameters.
struct ParsedTarget {
  std::vector<std::string> segments;
  std::map<std::string, std::string> query;
  bool valid = true;  // false on a broken percent-escape
};
ParsedTarget parse_target(std::string_view target);

std::string percent_decode(std::string_view text, bool plus_is_space, bool* ok);
std::string percent_encode_segment(std::string_view text);

}  // namespace fluxkey::sim::github
