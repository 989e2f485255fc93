#include "http/curl_error.h"

#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "http/http.h"
#include "http/short_duration.h"

namespace fluxkey::http {
namespace {

using Kind = NetworkError::Kind;

std::string os_reason(const CurlFailure& f) {
  switch (f.os_errno) {
    case ECONNREFUSED:
      return "connection refused";
    case ETIMEDOUT:
      return "timed out";
    case ENETUNREACH:
      return "network unreachable";
    case EHOSTUNREACH:
      return "host unreachable";
    case ECONNRESET:
      return "connection reset by peer";
    case EPIPE:
      return "connection closed by peer";
    case 0:
      break;
    default: {
      char buffer[128];
      // GNU strerror_r returns the text, which may not be in buffer.
      std::string text = strerror_r(static_cast<int>(f.os_errno), buffer, sizeof buffer);
      if (!text.empty()) text[0] = static_cast<char>(std::tolower(text[0]));
      return text;
    }
  }
  return f.detail.empty() ? curl_easy_strerror(f.code) : f.detail;
}

std::string with_detail(std::string message, const CurlFailure& f) {
  message += ": ";
  message += f.detail.empty() ? curl_easy_strerror(f.code) : f.detail;
  return message;
}

std::string host_of(const std::string& host_port) {
  auto colon = host_port.rfind(':');
  return colon == std::string::npos ? host_port : host_port.substr(0, colon);
}

std::string verification_reason(const CurlFailure& f) {
  std::string name_mismatch =
      "certificate is not valid for " + host_of(f.host_port) + " (its names do not include it)";
  // libcurl checks the name itself once the chain verifies, and reports
  // that failure only in its error text ("... target host name '...'").
  if (f.detail.find("host name") != std::string::npos) return name_mismatch;
  switch (f.verify_result) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      return "certificate signed by an unknown authority (" + f.trust_hint + ")";
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return "certificate has expired";
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "certificate is not valid yet (check this machine's clock)";
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH:
      return name_mismatch;
    case X509_V_OK:
    case X509_V_ERR_UNSPECIFIED:
      return f.detail.empty() ? "the certificate was refused" : f.detail;
    default:
      return X509_verify_cert_error_string(f.verify_result);
  }
}

[[noreturn]] void fail(const std::string& message, Kind kind, bool request_sent,
                       bool permanent = false) {
  throw NetworkError(message, kind, request_sent, permanent);
}

}  // namespace

void throw_curl_failure(const CurlFailure& f) {
  const std::string& hp = f.host_port;
  const std::string request = f.method + " " + f.url;
  switch (f.code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
      throw UsageError("unsupported URL " + f.url + ": only https:// and http:// are allowed");
    case CURLE_URL_MALFORMAT:
      throw UsageError("malformed URL " + f.url + ": expected https://HOST[:PORT]/PATH");

    // Nothing reached the server: always safe to try again.
    case CURLE_COULDNT_RESOLVE_HOST:
      fail("cannot connect to " + hp + ": host name not found", Kind::kConnect, false);
    case CURLE_COULDNT_RESOLVE_PROXY:
      fail(with_detail("cannot connect to " + hp + ": proxy host name not found", f),
           Kind::kConnect, false);
    case CURLE_COULDNT_CONNECT:
      fail("cannot connect to " + hp + ": " + os_reason(f), Kind::kConnect, false);
    case CURLE_SSL_CONNECT_ERROR:
      fail(with_detail("TLS handshake with " + hp + " failed", f), Kind::kTls, false);
    case CURLE_PEER_FAILED_VERIFICATION:  // also CURLE_SSL_CACERT
      fail("TLS verification of " + hp + " failed: " + verification_reason(f), Kind::kTls, false,
           true);
    case CURLE_SSL_CERTPROBLEM:
      fail(with_detail("cannot use the client certificate for " + hp, f), Kind::kTls, false, true);
    case CURLE_SSL_CACERT_BADFILE:
      fail(with_detail("cannot load the CA certificates to verify " + hp, f), Kind::kTls, false,
           true);
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
      fail(with_detail("TLS setup for " + hp + " failed", f), Kind::kTls, false, true);

    case CURLE_OPERATION_TIMEDOUT:
      if (!f.request_started) {
        auto limit = std::min(f.connect_timeout, f.total_timeout);
        std::string what = f.tcp_connected ? "TLS handshake with " + hp + " timed out after "
                                           : "cannot connect to " + hp + ": timed out after ";
        fail(what + short_duration(limit), Kind::kTimeout, false);
      }
      fail("request to " + f.url + " timed out after " + short_duration(f.total_timeout),
           Kind::kTimeout, true);

    // From here on the request may have reached the server.
    case CURLE_GOT_NOTHING:
      fail(hp + " closed the connection without answering " + request, Kind::kTransfer,
           f.request_started);
    case CURLE_PARTIAL_FILE: {
      std::string message = "the response to " + request + " was cut short";
      if (f.expected_length >= 0) {
        message += ": got " + std::to_string(f.downloaded) + " of " +
                   std::to_string(f.expected_length) + " bytes";
      }
      fail(message, Kind::kTransfer, f.request_started);
    }
    case CURLE_RECV_ERROR:
      fail(with_detail("connection to " + hp + " broke while receiving the response to " + request,
                       f),
           Kind::kTransfer, f.request_started);
    case CURLE_SEND_ERROR:
      fail(with_detail("connection to " + hp + " broke while sending " + request, f),
           Kind::kTransfer, f.request_started);
    case CURLE_WEIRD_SERVER_REPLY:
      fail(hp + " answered " + request + " with something that is not HTTP", Kind::kTransfer,
           f.request_started);
    default:
      fail(with_detail(request + " failed", f), Kind::kTransfer, f.request_started);
  }
}

}  // namespace fluxkey::http
