// CurlTransport against an in-process HTTPS server on 127.0.0.1 whose CA is
// made here: real TLS, real sockets, verification on.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "core/file.h"
#include "http/http.h"
#include "support/test_pki.h"

namespace fluxkey::http::http_curl_transport_test {
namespace {

using std::chrono::milliseconds;
using test::TestCert;

struct Free {
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
};

std::unique_ptr<X509, Free> read_cert(const std::string& pem) {
  std::unique_ptr<BIO, Free> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return std::unique_ptr<X509, Free>(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

std::unique_ptr<EVP_PKEY, Free> read_key(const std::string& pem) {
  std::unique_ptr<BIO, Free> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return std::unique_ptr<EVP_PKEY, Free>(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

// The server's TLS identity, and the CA whose client certificates it
// demands (none: it asks for no client certificate).
bool setup_tls(SSL_CTX& ctx, const TestCert& identity, const std::string& client_ca_pem) {
  auto cert = read_cert(identity.cert_pem);
  auto key = read_key(identity.key_pem);
  if (!cert || !key || SSL_CTX_use_certificate(&ctx, cert.get()) != 1 ||
      SSL_CTX_use_PrivateKey(&ctx, key.get()) != 1) {
    return false;
  }
  if (!client_ca_pem.empty()) {
    auto ca = read_cert(client_ca_pem);
    std::unique_ptr<X509_STORE, Free> store(X509_STORE_new());
    if (!ca || !store || X509_STORE_add_cert(store.get(), ca.get()) != 1) return false;
    SSL_CTX_set_cert_store(&ctx, store.release());  // the context owns it now
    SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return true;
}

// An httplib::SSLServer on 127.0.0.1, any port, that records which client
// ports (so which connections) its requests came over.
class TlsServer {
 public:
  explicit TlsServer(const TestCert& identity, const std::string& client_ca_pem = "")
      : server_([&](SSL_CTX& ctx) { return setup_tls(ctx, identity, client_ca_pem); }) {
    REQUIRE(server_.is_valid());
    server_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response&) {
      std::lock_guard lock(mutex_);
      client_ports_.insert(req.remote_port);
      return httplib::Server::HandlerResponse::Unhandled;
    });
  }
  ~TlsServer() {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  httplib::Server& routes() { return server_; }

  void start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(milliseconds(2));
    }
    REQUIRE(server_.is_running());
  }

  std::string url(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::string host_port() const { return "127.0.0.1:" + std::to_string(port_); }

  size_t connections() {
    std::lock_guard lock(mutex_);
    return client_ports_.size();
  }

 private:
  httplib::SSLServer server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mutex_;
  std::set<int> client_ports_;
};

// A TCP socket on 127.0.0.1 that is bound (so its port is ours) and either
// listens without ever accepting (handshakes stall) or does not listen at
// all (connections are refused).
class RawSocket {
 public:
  explicit RawSocket(bool listen_backlog) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    REQUIRE(fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    if (listen_backlog) REQUIRE(::listen(fd_, 8) == 0);
  }
  ~RawSocket() { ::close(fd_); }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;
  std::string url(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(port_) + path;
  }
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

// A latch a handler waits on, bounded, and that opens at scope exit so no
// server thread outlives its test.
class Gate {
 public:
  bool wait(milliseconds limit) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, limit, [this] { return open_; });
  }
  void open() {
    {
      std::lock_guard lock(mutex_);
      open_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  bool open_ = false;
};

struct OpenAtExit {
  Gate& gate;
  ~OpenAtExit() { gate.open(); }
};

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

class TempFile {
 public:
  explicit TempFile(const std::string& content) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "fluxkey-http-test-XXXXXX").string();
    int fd = ::mkstemp(pattern.data());
    REQUIRE(fd >= 0);
    ::close(fd);
    path_ = pattern;
    write_private_file(path_, content);
  }
  ~TempFile() { std::filesystem::remove(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

const test::TestPki& pki() {
  static const test::TestPki instance = test::make_test_pki("fluxkey http test CA");
  return instance;
}

TransportOptions trusting(const std::string& ca_pem) {
  TransportOptions options;
  options.tls.ca_pem = ca_pem;
  options.connect_timeout = milliseconds(2000);
  options.total_timeout = milliseconds(5000);
  return options;
}

Request get(const std::string& url) {
  Request request;
  request.url = url;
  return request;
}

NetworkError expect_network_error(Transport& transport, const Request& request) {
  try {
    Response r = transport.send(request);
    FAIL("expected a NetworkError, got HTTP " << r.status);
  } catch (const NetworkError& e) {
    return e;
  }
  throw std::logic_error("unreachable");
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("curl transport: GET and POST carry headers and bodies") {
  TlsServer server(pki().server);
  server.routes().Get("/hello", [](const httplib::Request& req, httplib::Response& res) {
    res.set_header("X-Reply", "yes");
    res.set_content(
        "hello " + req.get_header_value("X-Name") + " from " + req.get_header_value("User-Agent"),
        "text/plain");
  });
  auto echo = [](const httplib::Request& req, httplib::Response& res) {
    res.status = req.method == "POST" ? 201 : 200;
    res.set_content(req.method + " " + req.get_header_value("Content-Type") + " " +
                        req.get_header_value("Authorization") + " " + req.body,
                    "text/plain");
  };
  server.routes().Post("/echo", echo);
  server.routes().Put("/echo", echo);
  server.routes().Patch("/echo", echo);
  server.routes().Delete("/echo", echo);
  server.start();
  auto transport = make_curl_transport(trusting(pki().ca.cert_pem));

  Request hello = get(server.url("/hello?x=1"));
  hello.headers = {{"X-Name", "kube"}};
  Response r = transport->send(hello);
  CHECK(r.status == 200);
  CHECK(r.body == std::string("hello kube from fluxkey/") + build_version());
  CHECK(r.header("x-reply") == "yes");
  CHECK(r.header("X-Reply") == "yes");

  for (const char* method : {"POST", "PUT", "PATCH", "DELETE"}) {
    Request send;
    send.method = method;
    send.url = server.url("/echo");
    send.headers = {{"Content-Type", "application/json"}, {"Authorization", "Bearer t0k"}};
    send.body = R"({"a":1})";
    Response echoed = transport->send(send);
    CHECK(echoed.status == (std::string(method) == "POST" ? 201 : 200));
    CHECK(echoed.body == std::string(method) + R"( application/json Bearer t0k {"a":1})");
  }

  // An empty POST is still a POST, and no form content type is invented.
  Request empty;
  empty.method = "POST";
  empty.url = server.url("/echo");
  CHECK(transport->send(empty).body == "POST   ");

  Response missing = transport->send(get(server.url("/nothing-here")));
  CHECK(missing.status == 404);
}

TEST_CASE("curl transport: header names arrive lower-cased") {
  TlsServer server(pki().server);
  server.routes().Get("/h", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Retry-After", "7");
    res.set_header("X-GitHub-Request-Id", "ABC");
    res.set_content("", "text/plain");
  });
  server.start();
  auto transport = make_curl_transport(trusting(pki().ca.cert_pem));
  Response r = transport->send(get(server.url("/h")));
  bool seen_request_id = false;
  for (const auto& [name, value] : r.headers) {
    std::string lowered = name;
    for (char& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    CHECK(name == lowered);
    if (name == "x-github-request-id") seen_request_id = value == "ABC";
  }
  CHECK(seen_request_id);
  CHECK(r.header("retry-after") == "7");
}

TEST_CASE("curl transport: keeps one connection alive across requests") {
  TlsServer server(pki().server);
  server.routes().Get("/n", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("n", "text/plain");
  });
  server.routes().Post("/n", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content(req.body, "text/plain");
  });
  server.start();
  auto transport = make_curl_transport(trusting(pki().ca.cert_pem));
  for (int i = 0; i < 3; ++i) CHECK(transport->send(get(server.url("/n"))).status == 200);
  Request post;
  post.method = "POST";
  post.url = server.url("/n");
  post.body = "x";
  CHECK(transport->send(post).body == "x");
  CHECK(server.connections() == 1);

  // A second transport is a second connection: the count can tell.
  auto other = make_curl_transport(trusting(pki().ca.cert_pem));
  CHECK(other->send(get(server.url("/n"))).status == 200);
  CHECK(server.connections() == 2);
}

TEST_CASE("curl transport: trusts the given CA and only it") {
  TlsServer server(pki().server);
  server.routes().Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  server.start();
  TestCert other_ca = test::make_test_ca("some other CA");

  SUBCASE("the CA that signed the server") {
    CHECK(make_curl_transport(trusting(pki().ca.cert_pem))->send(get(server.url("/"))).body ==
          "ok");
  }
  SUBCASE("another CA is refused, naming where the CA came from") {
    TransportOptions options = trusting(other_ca.cert_pem);
    options.tls.ca_source = "your kubeconfig";
    auto transport = make_curl_transport(options);
    NetworkError e = expect_network_error(*transport, get(server.url("/")));
    CHECK(e.kind() == NetworkError::Kind::kTls);
    CHECK_FALSE(e.request_sent());
    CHECK(e.permanent());
    CHECK(std::string(e.what()) == "TLS verification of " + server.host_port() +
                                       " failed: certificate signed by an unknown authority "
                                       "(check the CA in your kubeconfig)");
  }
  SUBCASE("the CA blob wins over SSL_CERT_FILE, even when that is honoured") {
    TempFile bundle(pki().ca.cert_pem);
    ScopedEnv env("SSL_CERT_FILE", bundle.path());
    TransportOptions options = trusting(other_ca.cert_pem);
    options.tls.honor_ssl_cert_file = true;
    auto transport = make_curl_transport(options);
    CHECK(expect_network_error(*transport, get(server.url("/"))).kind() ==
          NetworkError::Kind::kTls);
  }
  SUBCASE("a certificate for another address is refused") {
    TlsServer elsewhere(test::issue_test_server_cert(pki().ca, "127.0.0.2"));
    elsewhere.start();
    auto transport = make_curl_transport(trusting(pki().ca.cert_pem));
    NetworkError e = expect_network_error(*transport, get(elsewhere.url("/")));
    CHECK(e.kind() == NetworkError::Kind::kTls);
    CHECK(e.permanent());
    CHECK(contains(e.what(), "certificate is not valid for 127.0.0.1"));
  }
}

TEST_CASE("curl transport: SSL_CERT_FILE is used only when asked for") {
  TlsServer server(pki().server);
  server.routes().Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain");
  });
  server.start();
  TempFile bundle(pki().ca.cert_pem);
  ScopedEnv env("SSL_CERT_FILE", bundle.path());
  TransportOptions options = trusting("");

  options.tls.honor_ssl_cert_file = true;
  CHECK(make_curl_transport(options)->send(get(server.url("/"))).body == "ok");

  // Toward Kubernetes the variable plays no part: the system roots do not
  // know the test CA.
  options.tls.honor_ssl_cert_file = false;
  auto system_only = make_curl_transport(options);
  NetworkError e = expect_network_error(*system_only, get(server.url("/")));
  CHECK(e.kind() == NetworkError::Kind::kTls);
  CHECK(contains(e.what(), "the system CA store does not trust it"));
}

TEST_CASE("curl transport: presents the client certificate") {
  TestCert client_ca = test::make_test_ca("client CA");
  TestCert client = test::issue_test_client_cert(client_ca, "fluxkey-admin");
  TlsServer server(pki().server, client_ca.cert_pem);
  server.routes().Get("/whoami", [](const httplib::Request& req, httplib::Response& res) {
    std::unique_ptr<X509, Free> peer(SSL_get1_peer_certificate(req.ssl));
    char cn[256] = "";
    if (peer) {
      X509_NAME_get_text_by_NID(X509_get_subject_name(peer.get()), NID_commonName, cn, sizeof cn);
    }
    res.set_content(cn, "text/plain");
  });
  server.start();

  TransportOptions options = trusting(pki().ca.cert_pem);
  options.tls.client_cert_pem = client.cert_pem;
  options.tls.client_key_pem = client.key_pem;
  Response r = make_curl_transport(options)->send(get(server.url("/whoami")));
  CHECK(r.status == 200);
  CHECK(r.body == "fluxkey-admin");

  SUBCASE("without one the server refuses the connection") {
    auto anonymous = make_curl_transport(trusting(pki().ca.cert_pem));
    NetworkError e = expect_network_error(*anonymous, get(server.url("/whoami")));
    CHECK(contains(e.what(), server.host_port()));
  }
  SUBCASE("a key that does not match the certificate is reported, never shown") {
    TransportOptions mismatched = options;
    mismatched.tls.client_key_pem = test::issue_test_client_cert(client_ca, "x").key_pem;
    auto transport = make_curl_transport(mismatched);
    NetworkError e = expect_network_error(*transport, get(server.url("/whoami")));
    CHECK(e.kind() == NetworkError::Kind::kTls);
    CHECK_FALSE(e.request_sent());
    CHECK(e.permanent());
    CHECK_FALSE(contains(e.what(), "PRIVATE KEY"));
  }
}

TEST_CASE("curl transport: a refused connection was never sent") {
  RawSocket closed(/*listen_backlog=*/false);
  auto transport = make_curl_transport(trusting(pki().ca.cert_pem));
  NetworkError e = expect_network_error(*transport, get(closed.url("/api?token=s3cr3t")));
  CHECK(e.kind() == NetworkError::Kind::kConnect);
  CHECK_FALSE(e.request_sent());
  CHECK_FALSE(e.permanent());
  CHECK(std::string(e.what()) ==
        "cannot connect to 127.0.0.1:" + std::to_string(closed.port()) + ": connection refused");
}

TEST_CASE("curl transport: a stalled TLS handshake times out before sending") {
  RawSocket silent(/*listen_backlog=*/true);
  TransportOptions options = trusting(pki().ca.cert_pem);
  options.connect_timeout = milliseconds(300);
  auto transport = make_curl_transport(options);
  auto start = std::chrono::steady_clock::now();
  NetworkError e = expect_network_error(*transport, get(silent.url("/")));
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
  CHECK(e.kind() == NetworkError::Kind::kTimeout);
  CHECK_FALSE(e.request_sent());
  CHECK(std::string(e.what()) ==
        "TLS handshake with 127.0.0.1:" + std::to_string(silent.port()) + " timed out after 300ms");
}

TEST_CASE("curl transport: a slow reply times out after the request was sent") {
  Gate gate;
  TlsServer server(pki().server);
  server.routes().Get("/slow", [&](const httplib::Request&, httplib::Response& res) {
    gate.wait(milliseconds(3000));
    res.set_content("late", "text/plain");
  });
  server.start();
  OpenAtExit release{gate};

  SUBCASE("the transport's total timeout") {
    TransportOptions options = trusting(pki().ca.cert_pem);
    options.total_timeout = milliseconds(300);
    auto transport = make_curl_transport(options);
    NetworkError e = expect_network_error(*transport, get(server.url("/slow?secret=1")));
    CHECK(e.kind() == NetworkError::Kind::kTimeout);
    CHECK(e.request_sent());
    CHECK(std::string(e.what()) == "request to " + server.url("/slow") + " timed out after 300ms");
  }
  SUBCASE("a request's own timeout overrides it") {
    auto transport = make_curl_transport(trusting(pki().ca.cert_pem));
    Request request = get(server.url("/slow"));
    request.timeout = milliseconds(250);
    auto start = std::chrono::steady_clock::now();
    NetworkError e = expect_network_error(*transport, request);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
    CHECK(e.kind() == NetworkError::Kind::kTimeout);
    CHECK(contains(e.what(), "timed out after 250ms"));
  }
}

TEST_CASE("curl transport: a body cut short is an error, not a short success") {
  TlsServer server(pki().server);
  server.routes().Get("/short", [](const httplib::Request&, httplib::Response& res) {
    res.set_content_provider(100, "application/octet-stream",
                             [](size_t, size_t, httplib::DataSink& sink) {
                               sink.write("0123456789", 10);
                               return false;  // hang up 90 bytes early
                             });
  });
  server.start();
  auto transport = make_curl_transport(trusting(pki().ca.cert_pem));
  Request request = get(server.url("/short?token=s3cr3t"));
  request.headers = {{"Authorization", "Bearer s3cr3t"}};
  NetworkError e = expect_network_error(*transport, request);
  CHECK(e.kind() == NetworkError::Kind::kTransfer);
  CHECK(e.request_sent());
  CHECK_FALSE(contains(e.what(), "s3cr3t"));
}

TEST_CASE("curl transport: streams the body to on_body as it arrives") {
  std::atomic<int> chunks_seen{0};
  std::atomic<bool> saw_receipt{false};
  TlsServer server(pki().server);
  server.routes().Get("/watch", [&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("application/json",
                                     [&](size_t offset, httplib::DataSink& sink) {
                                       if (offset == 0)
                                         return sink.write("{\"type\":\"ADDED\"}\n", 17);
                                       // The second event goes out only once the client has handled
                                       // the first: a transport that buffered the whole body would
                                       // stall here.
                                       for (int i = 0; i < 300 && chunks_seen.load() == 0; ++i) {
                                         std::this_thread::sleep_for(milliseconds(10));
                                       }
                                       saw_receipt = chunks_seen.load() > 0;
                                       sink.write("{\"type\":\"MODIFIED\"}\n", 20);
                                       sink.done();
                                       return true;
                                     });
  });
  server.routes().Get("/endless", [](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("application/json",
                                     [](size_t offset, httplib::DataSink& sink) {
                                       if (offset > 64 * 1024) {
                                         sink.done();
                                         return true;
                                       }
                                       std::this_thread::sleep_for(milliseconds(5));
                                       return sink.write("{\"type\":\"BOOKMARK\"}\n", 20);
                                     });
  });
  server.routes().Get("/forbidden", [](const httplib::Request&, httplib::Response& res) {
    res.status = 403;
    res.set_content(R"({"kind":"Status","reason":"Forbidden"})", "application/json");
  });
  server.start();
  auto transport = make_curl_transport(trusting(pki().ca.cert_pem));

  std::string streamed;
  Request watch = get(server.url("/watch"));
  watch.on_body = [&](std::string_view chunk) {
    streamed += chunk;
    ++chunks_seen;
    return true;
  };
  Response r = transport->send(watch);
  CHECK(r.status == 200);
  CHECK(r.body.empty());
  CHECK(streamed == "{\"type\":\"ADDED\"}\n{\"type\":\"MODIFIED\"}\n");
  CHECK(saw_receipt);

  SUBCASE("returning false ends the transfer without an error") {
    int calls = 0;
    Request endless = get(server.url("/endless"));
    endless.on_body = [&](std::string_view) { return ++calls < 3; };
    auto start = std::chrono::steady_clock::now();
    Response aborted = transport->send(endless);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
    CHECK(aborted.status == 200);
    CHECK(calls == 3);
    // The handle is still good for the next request.
    CHECK(transport->send(get(server.url("/forbidden"))).status == 403);
  }
  SUBCASE("an error reply is kept whole for the caller, not streamed") {
    bool called = false;
    Request denied = get(server.url("/forbidden"));
    denied.on_body = [&](std::string_view) { return called = true; };
    Response refused = transport->send(denied);
    CHECK(refused.status == 403);
    CHECK_FALSE(called);
    CHECK(contains(refused.body, "Forbidden"));
  }
  SUBCASE("an exception from on_body reaches the caller") {
    Request throwing = get(server.url("/endless"));
    throwing.on_body = [](std::string_view) -> bool { throw std::runtime_error("bad event"); };
    CHECK_THROWS_WITH_AS(transport->send(throwing), "bad event", std::runtime_error);
  }
}

TEST_CASE("curl transport: refuses URLs that are not http or https") {
  auto transport = make_curl_transport(trusting(pki().ca.cert_pem));
  CHECK_THROWS_AS(transport->send(get("ftp://127.0.0.1/x")), UsageError);
  CHECK_THROWS_AS(transport->send(get("file:///etc/passwd")), UsageError);
}

TEST_CASE("curl transport: refuses header values that would split the request") {
  auto transport = make_curl_transport(trusting(pki().ca.cert_pem));
  Request request = get("https://127.0.0.1:1/");
  request.headers = {{"Authorization", "Bearer x\r\nX-Evil: 1"}};
  try {
    transport->send(request);
    FAIL("expected an Error");
  } catch (const NetworkError&) {
    FAIL("the request must be refused before any connection");
  } catch (const Error& e) {
    CHECK_FALSE(contains(e.what(), "Bearer"));
  }
}

}  // namespace fluxkey::http::http_curl_transport_test
