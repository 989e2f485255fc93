#include "core/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace fluxkey {

std::string read_file(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw UsageError("cannot read " + what + " " + path + ": " + std::strerror(errno));
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) throw UsageError("cannot read " + what + " " + path + ": read error");
  return content.str();
}

namespace {

// Closes and, unless released, unlinks the temporary file.
class TempFile {
 public:
  TempFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  ~TempFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  int close() {
    int rc = ::close(fd_);
    fd_ = -1;
    return rc;
  }
  void release() { path_.clear(); }

 private:
  std::string path_;
  int fd_;
};

}  // namespace

void write_private_file(const std::string& path, const std::string& content) {
  auto fail = [&](const std::string& why) { throw Error("cannot write " + path + ": " + why); };
  std::string tmpl = path + ".tmp-XXXXXX";
  // mkstemp creates the file 0600, before any byte is written.
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0) fail(std::strerror(errno));
  TempFile tmp(tmpl, fd);
  if (::fchmod(fd, 0600) != 0) fail(std::strerror(errno));
  size_t written = 0;
  while (written < content.size()) {
    ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(std::strerror(errno));
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) fail(std::strerror(errno));
  if (tmp.close() != 0) fail(std::strerror(errno));
  if (::rename(tmp.path().c_str(), path.c_str()) != 0) fail(std::strerror(errno));
  tmp.release();
}

std::string expand_home(const std::string& path) {
  if (path.rfind("~/", 0) != 0) return path;
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') return path;
  return std::string(home) + path.substr(1);
}

}  // namespace fluxkey
