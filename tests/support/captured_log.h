// Unit tests' view of what the process logger writes: stderr sent into a
// temporary file for the life of the object, debug records on, so a test
// can check that a message was logged and that no secret ever was.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <stdexcept>
#include <string>

#include "core/log.h"

namespace fluxkey::testing {

class CapturedLog {
 public:
  CapturedLog() : file_(std::tmpfile()), saved_fd_(::dup(2)) {
    if (file_ == nullptr || saved_fd_ < 0) throw std::runtime_error("cannot capture stderr");
    std::fflush(stderr);
    ::dup2(::fileno(file_), 2);
    was_verbose_ = logger().verbose();
    logger().set_verbose(true);
  }
  ~CapturedLog() {
    logger().set_verbose(was_verbose_);
    std::fflush(stderr);
    ::dup2(saved_fd_, 2);
    ::close(saved_fd_);
    std::fclose(file_);
  }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;

  std::string text() {
    std::fflush(stderr);
    std::string out;
    std::rewind(file_);
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, file_)) > 0) out.append(buffer, n);
    return out;
  }

 private:
  std::FILE* file_;
  int saved_fd_;
  bool was_verbose_ = false;
};

}  // namespace fluxkey::testing
