#include "sim/common/request_log.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "core/time.h"

namespace fluxkey::sim {

RequestLog::RequestLog(const std::string& path) : file_(std::fopen(path.c_str(), "a")) {
  if (!file_) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
}

void RequestLog::append(const RequestRecord& r) {
  nlohmann::json entry = {{"ts", format_rfc3339(Clock::now(), true)},
                          {"method", r.method},
                          {"path", r.path},
                          {"query", r.query},
                          {"status", r.status},
                          {"user", r.user},
                          {"content_type", r.content_type},
                          {"duration_ms", r.duration_ms}};
  if (!r.fault.empty()) entry["fault"] = r.fault;
  std::string line = entry.dump() + "\n";
  std::lock_guard<std::mutex> lock(mu_);
  std::fwrite(line.data(), 1, line.size(), file_.get());
  std::fflush(file_.get());
  entries_.push_back(std::move(entry));
}

nlohmann::json RequestLog::since(size_t since) const {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json out = nlohmann::json::array();
  for (size_t i = since; i < entries_.size(); ++i) out.push_back(entries_[i]);
  return out;
}

}  // namespace fluxkey::sim
