// Turns a failed libcurl transfer into the NetworkError a person can act on:
// one line naming host:port (or the URL without its query) and the cause in
// plain words. Never headers or body.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <string>

namespace fluxkey::http {

// What is known about a failed transfer, gathered by the transport.
struct CurlFailure {
  CURLcode code = CURLE_OK;
  std::string method;
  std::string url;         // loggable_url(): no userinfo, no query
  std::string host_port;   // "127.0.0.1:6443"
  std::string detail;      // libcurl's error buffer, one line (no secrets: TLS and socket errors)
  long os_errno = 0;       // CURLINFO_OS_ERRNO
  long verify_result = 0;  // CURLINFO_SSL_VERIFYRESULT (an X509_V_* code)
  bool tcp_connected = false;    // a TCP connection was established
  bool request_started = false;  // libcurl was about to send the request (PREREQFUNCTION)
  std::chrono::milliseconds connect_timeout{0};
  std::chrono::milliseconds total_timeout{0};
  std::string trust_hint;          // how to fix an untrusted certificate
  long long downloaded = 0;        // body bytes received
  long long expected_length = -1;  // Content-Length, -1 when unknown
};

// Throws NetworkError, or UsageError when the URL itself is unusable.
[[noreturn]] void throw_curl_failure(const CurlFailure& failure);

}  // namespace fluxkey::http
