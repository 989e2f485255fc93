#include <curl/curl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <exception>
#include <new>
#include <optional>
#include <stdexcept>

#include "core/text.h"
#include "http/curl_error.h"
#include "http/http.h"
#include "http/url.h"

namespace fluxkey::http {
namespace {

// A reply larger than this is refused rather than buffered: fluxkey reads
// single objects and short lists, so a bigger one is a server fault.
constexpr size_t kMaxBodyBytes = 64u << 20;

// curl_global_init must run once per process before any handle exists; a
// function-local static makes that thread-safe and pairs it with cleanup.
void ensure_curl_initialised() {
  struct Global {
    Global() {
      if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        throw Error("cannot initialise libcurl (out of memory or a broken TLS library)");
      }
    }
    ~Global() { curl_global_cleanup(); }
  };
  static Global global;
}

struct EasyDeleter {
  void operator()(CURL* handle) const { curl_easy_cleanup(handle); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;

struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistDeleter>;

void append(Slist& list, const std::string& line) {
  curl_slist* head = curl_slist_append(list.get(), line.c_str());
  if (head == nullptr) throw std::bad_alloc();
  // Appending returns the same head once the list exists.
  (void)list.release();
  list.reset(head);
}

template <typename T>
void set(CURL* handle, CURLoption option, T value) {
  CURLcode rc = curl_easy_setopt(handle, option, value);
  if (rc != CURLE_OK) {
    throw Error("libcurl refused option " + std::to_string(static_cast<int>(option)) + ": " +
                curl_easy_strerror(rc) + " (is libcurl older than 7.85?)");
  }
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                           text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

bool has_header(const Headers& headers, std::string_view name) {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& h) { return lower_ascii(h.first) == name; });
}

bool clean_token(std::string_view text) {
  if (text.empty()) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

bool clean_value(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

// State of one transfer, shared with libcurl's callbacks.
struct Transfer {
  CURL* handle = nullptr;
  const Request* request = nullptr;
  Response response;
  bool request_started = false;
  bool aborted_by_caller = false;
  bool too_large = false;
  std::exception_ptr callback_error;  // exceptions must not cross libcurl's C frames
};

size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  try {
    std::string_view line(data, n);
    // Each response (a 100 Continue, then the real one) starts with its
    // status line; only the last one's headers count.
    if (line.starts_with("HTTP/")) {
      t->response.headers.clear();
      return n;
    }
    if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
      // Obsolete line folding: continues the previous value.
      if (!t->response.headers.empty() && !trim(line).empty()) {
        t->response.headers.back().second += ' ';
        t->response.headers.back().second += trim(line);
      }
      return n;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos) return n;  // the blank line that ends the headers
    t->response.headers.emplace_back(lower_ascii(trim(line.substr(0, colon))),
                                     std::string(trim(line.substr(colon + 1))));
    return n;
  } catch (...) {
    t->callback_error = std::current_exception();
    return 0;
  }
}

size_t on_write(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  if (n == 0) return 0;
  try {
    long status = 0;
    curl_easy_getinfo(t->handle, CURLINFO_RESPONSE_CODE, &status);
    // Only a successful reply is the stream; an error reply is kept whole
    // so the caller can report what the server said.
    if (t->request->on_body && status >= 200 && status < 300) {
      if (!t->request->on_body(std::string_view(data, n))) {
        t->aborted_by_caller = true;
        return 0;
      }
      return n;
    }
    if (t->response.body.size() + n > kMaxBodyBytes) {
      t->too_large = true;
      return 0;
    }
    t->response.body.append(data, n);
    return n;
  } catch (...) {
    t->callback_error = std::current_exception();
    return 0;
  }
}

// Called once the connection is up (new or reused), right before the
// request goes out: the line between "nothing sent" and "maybe processed".
int on_prereq(void* user, char*, char*, int, int) {
  static_cast<Transfer*>(user)->request_started = true;
  return CURL_PREREQFUNC_OK;
}

// Go's ProxyFromEnvironment never proxies loopback; libcurl would. Keep the
// user's NO_PROXY and add loopback so local servers are always dialled directly.
std::string no_proxy_list() {
  const char* env = std::getenv("no_proxy");
  if (env == nullptr || *env == '\0') env = std::getenv("NO_PROXY");
  std::string list = env == nullptr ? "" : env;
  if (list == "*") return list;
  if (!list.empty()) list += ',';
  return list + "localhost,127.0.0.1,::1";
}

class CurlTransport final : public Transport {
 public:
  explicit CurlTransport(const TransportOptions& options) : options_(options) {
    ensure_curl_initialised();
    const TlsConfig& tls = options_.tls;
    if (!tls.ca_pem.empty()) {
      trust_hint_ =
          tls.ca_source.empty() ? "check the configured CA" : "check the CA in " + tls.ca_source;
    } else if (const char* file = std::getenv("SSL_CERT_FILE");
               tls.honor_ssl_cert_file && file != nullptr && *file != '\0') {
      ssl_cert_file_ = file;
      trust_hint_ = "check the CA bundle SSL_CERT_FILE=" + *ssl_cert_file_;
    } else if (tls.honor_ssl_cert_file) {
      trust_hint_ =
          "the system CA store does not trust it; set SSL_CERT_FILE to a bundle that does";
    } else {
      trust_hint_ = "the system CA store does not trust it";
    }
    if (tls.client_cert_pem.empty() != tls.client_key_pem.empty()) {
      throw UsageError("a client certificate needs both the certificate and its key");
    }
    no_proxy_ = no_proxy_list();
    handle_.reset(curl_easy_init());
    if (!handle_) throw Error("cannot create a libcurl handle (out of memory)");
  }

  Response send(const Request& request) override {
    if (busy_.exchange(true)) {
      throw std::logic_error("http transport used by two requests at once");
    }
    struct Release {
      std::atomic<bool>& flag;
      ~Release() { flag = false; }
    } release{busy_};

    CURL* h = handle_.get();
    Transfer transfer;
    transfer.handle = h;
    transfer.request = &request;
    Slist headers;
    configure(request, transfer, headers);

    CURLcode rc = curl_easy_perform(h);
    if (transfer.callback_error) std::rethrow_exception(transfer.callback_error);
    if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && transfer.aborted_by_caller)) {
      curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &transfer.response.status);
      return std::move(transfer.response);
    }
    if (transfer.too_large) {
      throw NetworkError("the response to " + request.method + " " + loggable_url(request.url) +
                             " is larger than " + std::to_string(kMaxBodyBytes >> 20) + " MiB",
                         NetworkError::Kind::kTransfer, true);
    }
    throw_curl_failure(describe(rc, request, transfer));
  }

 private:
  std::chrono::milliseconds total_timeout(const Request& request) const {
    return request.timeout.count() > 0 ? request.timeout : options_.total_timeout;
  }

  void configure(const Request& request, Transfer& transfer, Slist& headers) {
    CURL* h = handle_.get();
    // Reset drops every option of the previous request but keeps the
    // connection cache, which is what makes keep-alive work.
    curl_easy_reset(h);
    error_buffer_[0] = '\0';
    set(h, CURLOPT_ERRORBUFFER, error_buffer_.data());
    set(h, CURLOPT_URL, request.url.c_str());
    // libcurl silently sends a request again when a reused connection dies
    // before any reply byte. For a request that must not run twice, a fresh
    // connection takes that choice away from libcurl and leaves it to Client.
    if (!request.idempotent) set(h, CURLOPT_FRESH_CONNECT, 1L);
    // One request at a time needs one cached connection. With more (each
    // fresh connection above adds one), libcurl's silent resend walks
    // through every cached connection that died, up to five times a request,
    // before Client's backoff even starts: a server that drops requests
    // would see them in bursts.
    set(h, CURLOPT_MAXCONNECTS, 1L);
    set(h, CURLOPT_PROTOCOLS_STR, "http,https");
    set(h, CURLOPT_FOLLOWLOCATION, 0L);
    set(h, CURLOPT_NOSIGNAL, 1L);
    set(h, CURLOPT_NOPROXY, no_proxy_.c_str());
    set(h, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
    set(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
    set(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
    set(h, CURLOPT_TIMEOUT_MS, static_cast<long>(total_timeout(request).count()));
    // Watches stay idle for minutes; keepalive probes notice a peer that vanished.
    set(h, CURLOPT_TCP_KEEPALIVE, 1L);
    set(h, CURLOPT_TCP_KEEPIDLE, 30L);
    set(h, CURLOPT_TCP_KEEPINTVL, 15L);
    configure_tls(h);
    configure_method(h, request, headers);

    set(h, CURLOPT_HEADERFUNCTION, &on_header);
    set(h, CURLOPT_HEADERDATA, &transfer);
    set(h, CURLOPT_WRITEFUNCTION, &on_write);
    set(h, CURLOPT_WRITEDATA, &transfer);
    set(h, CURLOPT_PREREQFUNCTION, &on_prereq);
    set(h, CURLOPT_PREREQDATA, &transfer);
  }

  void configure_tls(CURL* h) {
    const TlsConfig& tls = options_.tls;
    set(h, CURLOPT_SSL_VERIFYPEER, 1L);
    set(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!tls.ca_pem.empty()) {
      // Only the given CA: libcurl ignores CAINFO when a blob is set, but
      // still adds the built-in CA directory unless CAPATH is cleared too.
      curl_blob ca{const_cast<char*>(tls.ca_pem.data()), tls.ca_pem.size(), CURL_BLOB_COPY};
      set(h, CURLOPT_CAINFO_BLOB, &ca);
      set(h, CURLOPT_CAINFO, static_cast<char*>(nullptr));
      set(h, CURLOPT_CAPATH, static_cast<char*>(nullptr));
    } else if (ssl_cert_file_) {
      // The named bundle replaces the system roots rather than adding to them.
      set(h, CURLOPT_CAINFO, ssl_cert_file_->c_str());
      set(h, CURLOPT_CAPATH, static_cast<char*>(nullptr));
    }
    if (!tls.client_cert_pem.empty()) {
      curl_blob cert{const_cast<char*>(tls.client_cert_pem.data()), tls.client_cert_pem.size(),
                     CURL_BLOB_COPY};
      curl_blob key{const_cast<char*>(tls.client_key_pem.data()), tls.client_key_pem.size(),
                    CURL_BLOB_COPY};
      set(h, CURLOPT_SSLCERTTYPE, "PEM");
      set(h, CURLOPT_SSLCERT_BLOB, &cert);
      set(h, CURLOPT_SSLKEYTYPE, "PEM");
      set(h, CURLOPT_SSLKEY_BLOB, &key);
    }
  }

  void configure_method(CURL* h, const Request& request, Slist& headers) {
    const std::string& method = request.method;
    if (!clean_token(method))
      throw Error("invalid HTTP method in a request to " + loggable_url(request.url));
    bool sends_body =
        !request.body.empty() || method == "POST" || method == "PUT" || method == "PATCH";
    if (method == "GET" && !sends_body) {
      set(h, CURLOPT_HTTPGET, 1L);
    } else if (method == "HEAD" && !sends_body) {
      set(h, CURLOPT_NOBODY, 1L);
    } else {
      set(h, CURLOPT_CUSTOMREQUEST, method.c_str());
      if (sends_body) {
        set(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
        set(h, CURLOPT_POSTFIELDS, request.body.data());
      }
    }

    for (const auto& [name, value] : request.headers) {
      if (!clean_token(name) || !clean_value(value)) {
        // Neither the name nor the value is echoed: either may be garbage or a secret.
        throw Error("a request to " + loggable_url(request.url) +
                    " has a header with an invalid name or a line break in its value");
      }
      // "Name;" is libcurl's spelling of a header with an empty value.
      append(headers, value.empty() ? name + ";" : name + ": " + value);
    }
    // "Expect: 100-continue" would stall every larger upload for a round trip.
    if (!has_header(request.headers, "expect")) append(headers, "Expect:");
    // POSTFIELDS implies a form content type; send none unless asked.
    if (sends_body && !has_header(request.headers, "content-type"))
      append(headers, "Content-Type:");
    set(h, CURLOPT_HTTPHEADER, headers.get());
  }

  CurlFailure describe(CURLcode rc, const Request& request, const Transfer& transfer) {
    CURL* h = handle_.get();
    CurlFailure f;
    f.code = rc;
    f.method = request.method;
    f.url = loggable_url(request.url);
    f.host_port = host_port(request.url);
    std::string detail(error_buffer_.data());
    std::replace_if(
        detail.begin(), detail.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
    f.detail = std::string(trim(detail));
    curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &f.os_errno);
    curl_easy_getinfo(h, CURLINFO_SSL_VERIFYRESULT, &f.verify_result);
    // libcurl records the local port once the TCP connection is up; its
    // connect timer is still zero when the TLS handshake then times out.
    long local_port = 0;
    curl_easy_getinfo(h, CURLINFO_LOCAL_PORT, &local_port);
    f.tcp_connected = local_port > 0;
    f.request_started = transfer.request_started;
    f.connect_timeout = options_.connect_timeout;
    f.total_timeout = total_timeout(request);
    f.trust_hint = trust_hint_;
    curl_off_t downloaded = 0, expected = -1;
    curl_easy_getinfo(h, CURLINFO_SIZE_DOWNLOAD_T, &downloaded);
    curl_easy_getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &expected);
    f.downloaded = downloaded;
    f.expected_length = expected;
    return f;
  }

  TransportOptions options_;
  std::optional<std::string> ssl_cert_file_;
  std::string trust_hint_;
  std::string no_proxy_;
  std::array<char, CURL_ERROR_SIZE> error_buffer_{};
  EasyHandle handle_;
  std::atomic<bool> busy_{false};
};

}  // namespace

std::unique_ptr<Transport> make_curl_transport(const TransportOptions& options) {
  return std::make_unique<CurlTransport>(options);
}

}  // namespace fluxkey::http
