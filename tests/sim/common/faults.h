// Injected failures, configured through POST /_sim/faults and checked in
// order before a request is routed.
#pragma once

#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace fluxkey::sim {

enum class FaultAction {
  kStatus,    // reply `status` with `headers` and `body`
  kReset,     // drop the connection without a reply (RST)
  kTruncate,  // announce the full Content-Length, send half, close
  kDelay,     // sleep delay_ms, then serve normally
};

struct Fault {
  std::optional<std::string> method;  // any method when absent
  std::string path_source;            // the regex as given, for listings
  std::regex path;                    // searched (not anchored) in the request path
  FaultAction action = FaultAction::kStatus;
  int status = 503;
  std::map<std::string, std::string> headers;
  std::optional<std::string> body;
  int times = 1;  // -1: forever
  int delay_ms = 0;
  // reset only: "before" drops the request unserved; "after" serves it (so
  // its effects happen) and drops the reply; "mid-body" serves it, sends the
  // status line, the headers and half the body, then drops the connection.
  bool after = false;
  bool mid_body = false;
  // Matching requests let through untouched before the fault applies, e.g.
  // the first Secret write succeeds and every later one fails.
  int skip = 0;

  nlohmann::json to_json() const;
};

// Throws std::invalid_argument naming the bad field.
Fault parse_fault(const nlohmann::json& spec);

class FaultSet {
 public:
  void add(Fault fault);
  void clear();
  // The first fault matching the request, with one use consumed.
  std::optional<Fault> take(const std::string& method, const std::string& path);
  nlohmann::json list() const;

 private:
  mutable std::mutex mu_;
  std::vector<Fault> faults_;
};

}  // namespace fluxkey::sim
