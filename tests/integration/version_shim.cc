// Preloaded into fluxkey (LD_PRELOAD) by version_command_test.cc: a libcurl
// and an OpenSSL that claim versions no header has, so the test tells a
// question asked of the loaded library from a header's compile-time constant.
#include <curl/curl.h>
#include <openssl/crypto.h>

extern "C" {

curl_version_info_data* curl_version_info(CURLversion) {
  static curl_version_info_data data = [] {
    curl_version_info_data d{};
    d.age = CURLVERSION_NOW;
    d.version = "99.1.2";
    d.version_num = 0x630102;
    d.host = "shim";
    d.ssl_version = "OpenSSL/99.3.4";
    return d;
  }();
  return &data;
}

const char* OpenSSL_version(int type) {
  return type == OPENSSL_VERSION_STRING ? "99.3.4" : "OpenSSL 99.3.4 (version_shim)";
}

}  // extern "C"
