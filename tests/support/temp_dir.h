// A private temporary folder for a test, removed with everything in it.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace fluxkey::testing {

class TempDir {
 public:
  // In `parent`, named `prefix` and six random characters; mkdtemp makes it
  // 0700: only this user can enter it.
  explicit TempDir(const std::string& parent = "/tmp",
                   const std::string& prefix = "fluxkey-test-") {
    std::string tmpl = parent + "/" + prefix + "XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

  // Writes `content` to path()/name (folders in `name` made as needed) with
  // the given mode and returns the full path.
  std::string write(const std::string& name, const std::string& content, mode_t mode = 0600) const {
    std::string full = path_ + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(full).parent_path());
    {
      std::ofstream out(full, std::ios::binary | std::ios::trunc);
      out << content;
      if (!out) throw std::runtime_error("cannot write " + full);
    }
    ::chmod(full.c_str(), mode);
    return full;
  }

  // How many entries the folder holds (not counting those of subfolders).
  size_t entries() const {
    size_t n = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(path_)) ++n;
    return n;
  }

 private:
  std::string path_;
};

}  // namespace fluxkey::testing
