#include "sim/common/secret_ledger.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace fluxkey::sim {
namespace {

std::mutex& ledger_mutex() {
  static std::mutex mu;
  return mu;
}

int& ledger_fd() {
  static int fd = -1;
  return fd;
}

}  // namespace

void open_secret_ledger(const std::string& state_dir) {
  std::string path = state_dir + "/" + kSecretLedgerFile;
  // 0600 from creation; O_APPEND so each line lands whole at the end.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot open " + path + ": " + std::strerror(errno));
  ::fchmod(fd, 0600);  // an existing file from an earlier run keeps no wider mode
  std::lock_guard lock(ledger_mutex());
  if (ledger_fd() >= 0) ::close(ledger_fd());
  ledger_fd() = fd;
}

void record_secret(const std::string& kind, const std::string& value) {
  if (value.empty()) return;
  std::string line = nlohmann::json{{"kind", kind}, {"value", value}}.dump() + "\n";
  std::lock_guard lock(ledger_mutex());
  if (ledger_fd() < 0) return;
  size_t written = 0;
  while (written < line.size()) {
    ssize_t n = ::write(ledger_fd(), line.data() + written, line.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      throw std::runtime_error(std::string("cannot record a secret: ") + std::strerror(errno));
    written += static_cast<size_t>(n);
  }
}

}  // namespace fluxkey::sim
