#include "commands/version.h"

#include "core/build_stamp.h"
#include "crypto/library_versions.h"
#include "http/libcurl_version.h"

namespace fluxkey::commands {

BuildInfo running_build_info() {
  BuildInfo info = stamped_build_info();
  info.libcurl = http::libcurl_version();
  info.openssl = crypto::openssl_version();
  info.libsodium = crypto::libsodium_version();
  return info;
}

void run_version(const std::string& output, std::FILE* out) {
  BuildInfo info = running_build_info();
  std::string text = output == "json"   ? build_info_json(info)
                     : output == "yaml" ? build_info_yaml(info)
                                        : build_info_text(info);
  std::fwrite(text.data(), 1, text.size(), out);
}

}  // namespace fluxkey::commands
