#include "sim/common/faults.h"

#include <cctype>
#include <stdexcept>

namespace fluxkey::sim {
namespace {

const char* action_name(FaultAction a) {
  switch (a) {
    case FaultAction::kStatus:
      return "status";
    case FaultAction::kReset:
      return "reset";
    case FaultAction::kTruncate:
      return "truncate";
    case FaultAction::kDelay:
      return "delay";
  }
  return "?";
}

int int_field(const nlohmann::json& spec, const char* key, int fallback) {
  if (!spec.contains(key)) return fallback;
  if (!spec[key].is_number_integer()) {
    throw std::invalid_argument(std::string("fault field ") + key + " must be an integer");
  }
  return spec[key].get<int>();
}

}  // namespace

nlohmann::json Fault::to_json() const {
  nlohmann::json out = {{"path", path_source}, {"action", action_name(action)}, {"times", times}};
  if (method) out["method"] = *method;
  if (action == FaultAction::kStatus) out["status"] = status;
  if (action == FaultAction::kDelay) out["delay_ms"] = delay_ms;
  if (action == FaultAction::kReset)
    out["phase"] = mid_body ? "mid-body" : after ? "after" : "before";
  if (skip > 0) out["skip"] = skip;
  if (!headers.empty()) out["headers"] = headers;
  if (body) out["body"] = *body;
  return out;
}

Fault parse_fault(const nlohmann::json& spec) {
  if (!spec.is_object()) throw std::invalid_argument("fault must be a JSON object");
  Fault f;
  if (spec.contains("method")) {
    if (!spec["method"].is_string()) throw std::invalid_argument("fault method must be a string");
    std::string method = spec["method"].get<std::string>();
    for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    f.method = method;
  }
  f.path_source = spec.value("path", std::string(".*"));
  try {
    f.path = std::regex(f.path_source, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw std::invalid_argument("fault path is not a valid regex: " + std::string(e.what()));
  }
  std::string action = spec.value("action", std::string("status"));
  if (action == "status") {
    f.action = FaultAction::kStatus;
  } else if (action == "reset") {
    f.action = FaultAction::kReset;
  } else if (action == "truncate") {
    f.action = FaultAction::kTruncate;
  } else if (action == "delay") {
    f.action = FaultAction::kDelay;
  } else {
    throw std::invalid_argument("fault action must be status, reset, truncate or delay");
  }
  f.status = int_field(spec, "status", f.action == FaultAction::kStatus ? 503 : 200);
  if (f.status < 100 || f.status > 599) throw std::invalid_argument("fault status out of range");
  f.times = int_field(spec, "times", 1);
  if (f.times == 0 || f.times < -1) throw std::invalid_argument("fault times must be >= 1 or -1");
  f.delay_ms = int_field(spec, "delay_ms", 0);
  if (f.delay_ms < 0 || f.delay_ms > 600'000) {
    throw std::invalid_argument("fault delay_ms must be within 0..600000");
  }
  if (f.action == FaultAction::kDelay && f.delay_ms == 0) {
    throw std::invalid_argument("a delay fault needs delay_ms");
  }
  if (spec.contains("headers")) {
    if (!spec["headers"].is_object())
      throw std::invalid_argument("fault headers must be an object");
    for (const auto& [k, v] : spec["headers"].items()) {
      if (!v.is_string()) throw std::invalid_argument("fault header values must be strings");
      f.headers[k] = v.get<std::string>();
    }
  }
  if (spec.contains("body")) {
    if (!spec["body"].is_string()) throw std::invalid_argument("fault body must be a string");
    f.body = spec["body"].get<std::string>();
  }
  std::string phase = spec.value("phase", std::string("before"));
  if (phase != "before" && phase != "after" && phase != "mid-body") {
    throw std::invalid_argument("fault phase must be before, after or mid-body");
  }
  if (phase == "mid-body" && f.action != FaultAction::kReset) {
    throw std::invalid_argument("fault phase mid-body applies to the reset action only");
  }
  f.after = phase == "after";
  f.mid_body = phase == "mid-body";
  f.skip = int_field(spec, "skip", 0);
  if (f.skip < 0) throw std::invalid_argument("fault skip must be >= 0");
  return f;
}

void FaultSet::add(Fault fault) {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.push_back(std::move(fault));
}

void FaultSet::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.clear();
}

std::optional<Fault> FaultSet::take(const std::string& method, const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if (it->method && *it->method != method) continue;
    if (!std::regex_search(path, it->path)) continue;
    if (it->skip > 0) {
      // Let this one through; a later fault may still apply to it.
      --it->skip;
      continue;
    }
    Fault hit = *it;
    if (it->times > 0 && --it->times == 0) faults_.erase(it);
    return hit;
  }
  return std::nullopt;
}

nlohmann::json FaultSet::list() const {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& f : faults_) out.push_back(f.to_json());
  return out;
}

}  // namespace fluxkey::sim
