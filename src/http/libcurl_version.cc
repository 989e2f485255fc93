#include "http/libcurl_version.h"

#include <curl/curl.h>

namespace fluxkey::http {

std::string libcurl_version() {
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  return info != nullptr && info->version != nullptr ? info->version : "unknown";
}

}  // namespace fluxkey::http
