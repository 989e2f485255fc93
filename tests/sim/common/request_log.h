// The request log: one JSON object a request, in memory and appended to
// STATE_DIR/requests.jsonl. It holds method, path, query, status, user,
// content type, fault and duration, never headers or bodies, so no
// credential can end up in it.
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fluxkey::sim {

struct RequestRecord {
  std::string method;
  std::string path;
  std::string query;
  int status = 0;  // 0 when the connection was dropped
  std::string user;
  std::string content_type;
  std::string fault;  // the injected action, empty when none
  double duration_ms = 0;
};

class RequestLog {
 public:
  explicit RequestLog(const std::string& path);

  void append(const RequestRecord& record);
  // Entries from index `since` on, as a JSON array.
  nlohmann::json since(size_t since) const;

 private:
  mutable std::mutex mu_;
  struct FileClose {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, FileClose> file_;
  std::vector<nlohmann::json> entries_;
};

}  // namespace fluxkey::sim
