#include "sim/common/sim_server.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <thread>

#include "core/file.h"

namespace fluxkey::sim {
namespace {

using SteadyClock = std::chrono::steady_clock;

void write_public_file(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    if (!out.flush()) throw std::runtime_error("cannot write " + tmp);
  }
  ::chmod(tmp.c_str(), 0644);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    throw std::runtime_error("cannot rename " + tmp + ": " + std::strerror(errno));
  }
}

// Drops the connection under httplib with an RST: the socket gets
// SO_LINGER 0 and its descriptor number is re-pointed (dup2) at a fresh,
// unconnected socket. dup2 closes the connected one, which sends the RST, while
// the number stays taken until httplib closes it, so no other connection can
// be hit by httplib's later writes and close. Those writes simply fail.
void reset_connection(const httplib::Request& req) {
  if (!req.ssl) return;
  int fd = SSL_get_fd(req.ssl);
  if (fd < 0) return;
  linger lg{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  int dummy = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (dummy < 0) {
    ::shutdown(fd, SHUT_RDWR);
    return;
  }
  ::dup2(dummy, fd);
  ::close(dummy);
}

// Replaces the reply body with a provider that announces the whole length,
// writes the first half and fails, which makes httplib close the connection.
void truncate_reply(httplib::Response& res) {
  if (res.content_provider_) return;  // streaming replies are left alone
  auto body = std::make_shared<std::string>(std::move(res.body));
  res.body.clear();
  std::string type = res.get_header_value("Content-Type");
  if (type.empty()) type = "application/json";
  res.headers.erase("Content-Type");
  res.set_content_provider(body->size(), type,
                           [body](size_t offset, size_t, httplib::DataSink& sink) {
                             if (offset == 0 && body->size() > 1) {
                               sink.write(body->data(), body->size() / 2);
                             }
                             return false;
                           });
}

// Like truncate_reply, but the connection ends with an RST after half the
// body instead of a clean close: the client sees a reset mid-body. The pause
// lets the half that was written reach the client before the RST, which
// would otherwise discard it on the way.
void reset_mid_body(const httplib::Request& req, httplib::Response& res) {
  if (res.content_provider_) return;  // streaming replies are left alone
  auto body = std::make_shared<std::string>(std::move(res.body));
  res.body.clear();
  std::string type = res.get_header_value("Content-Type");
  if (type.empty()) type = "application/json";
  res.headers.erase("Content-Type");
  const httplib::Request* request = &req;  // alive until the reply is written
  res.set_content_provider(body->size(), type,
                           [body, request](size_t offset, size_t, httplib::DataSink& sink) {
                             if (offset == 0 && body->size() > 1) {
                               sink.write(body->data(), body->size() / 2);
                             }
                             std::this_thread::sleep_for(std::chrono::milliseconds(20));
                             reset_connection(*request);
                             return false;
                           });
}

std::string default_fault_body(int status) {
  return nlohmann::json({{"message", "injected fault: HTTP " + std::to_string(status)}}).dump();
}

}  // namespace

void add_sim_options(CLI::App& app, SimOptions& options) {
  app.add_option("--state-dir", options.state_dir,
                 "directory for ca.crt, url and requests.jsonl (created when missing)")
      ->required();
  app.add_option("--port", options.port, "port on 127.0.0.1 (0: any free port)")
      ->check(CLI::Range(0, 65535));
  app.add_option("--threads", options.threads, "worker threads (each watch holds one)")
      ->check(CLI::Range(2, 1024));
  app.add_flag("--exit-with-stdin", options.exit_with_stdin,
               "stop when stdin reaches end of file (the parent went away)");
  app.add_option("--tls-names", options.tls_names,
                 "subject alternative names of the server certificate, e.g. "
                 "IP:127.0.0.1,DNS:localhost (the default)")
      ->check([](const std::string& value) { return server_names_error(value); });
}

void reply_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

nlohmann::json parse_json_body(const httplib::Request& req) {
  return nlohmann::json::parse(req.body, nullptr, false);
}

X509Ptr verified_peer_certificate(const httplib::Request& req) {
  if (!req.ssl) return nullptr;
  X509Ptr cert(SSL_get1_peer_certificate(req.ssl));
  if (!cert || SSL_get_verify_result(req.ssl) != X509_V_OK) return nullptr;
  return cert;
}

std::pair<std::string, std::string> split_target(const std::string& target) {
  size_t q = target.find('?');
  if (q == std::string::npos) return {target, ""};
  return {target.substr(0, q), target.substr(q + 1)};
}

SimServer::SimServer(std::string name, SimOptions options)
    : name_(std::move(name)), options_(std::move(options)) {
  // Block the stop signals before any thread exists (extensions may start
  // theirs before run()): every thread inherits the mask, and only run()'s
  // signal thread takes SIGTERM/SIGINT, for an orderly stop.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);  // dropped connections must not kill the stand-in
  std::filesystem::create_directories(options_.state_dir);
  pki_ = std::make_unique<Pki>(name_ + " CA", options_.tls_names);
  write_public_file(options_.state_dir + "/ca.crt", pki_->ca_pem());
  log_ = std::make_unique<RequestLog>(options_.state_dir + "/requests.jsonl");
  install_builtin_controls();
}

SimServer::~SimServer() = default;

void SimServer::note(const std::string& message) const {
  std::cerr << name_ << ": " << message << std::endl;
}

void SimServer::add_control(const std::string& method, const std::string& path_regex,
                            ControlHandler handler) {
  controls_.push_back({method, std::regex(path_regex, std::regex::ECMAScript), std::move(handler)});
}

void SimServer::install_builtin_controls() {
  add_control("GET", "/_sim/requests", [this](const httplib::Request& req, httplib::Response& res) {
    size_t since = 0;
    if (req.has_param("since")) {
      try {
        since = std::stoul(req.get_param_value("since"));
      } catch (const std::exception&) {
        reply_json(res, 400, {{"message", "since must be a non-negative integer"}});
        return;
      }
    }
    reply_json(res, 200, log_->since(since));
  });
  add_control("GET", "/_sim/faults", [this](const httplib::Request&, httplib::Response& res) {
    reply_json(res, 200, faults_.list());
  });
  add_control("POST", "/_sim/faults", [this](const httplib::Request& req, httplib::Response& res) {
    nlohmann::json spec = parse_json_body(req);
    try {
      Fault f = parse_fault(spec);
      nlohmann::json shown = f.to_json();
      faults_.add(std::move(f));
      reply_json(res, 201, shown);
    } catch (const std::invalid_argument& e) {
      reply_json(res, 400, {{"message", e.what()}});
    }
  });
  add_control("DELETE", "/_sim/faults", [this](const httplib::Request&, httplib::Response& res) {
    faults_.clear();
    reply_json(res, 200, nlohmann::json::object());
  });
  add_control("POST", "/_sim/latency", [this](const httplib::Request& req, httplib::Response& res) {
    nlohmann::json spec = parse_json_body(req);
    if (!spec.is_object() || !spec.contains("ms") || !spec["ms"].is_number_integer() ||
        spec["ms"].get<int>() < 0 || spec["ms"].get<int>() > 600'000) {
      reply_json(res, 400, {{"message", "body must be {\"ms\": N} with 0 <= N <= 600000"}});
      return;
    }
    latency_ms_ = spec["ms"].get<int>();
    reply_json(res, 200, {{"ms", latency_ms_.load()}});
  });
}

bool SimServer::dispatch_control(const httplib::Request& req, httplib::Response& res) {
  bool path_known = false;
  for (const auto& c : controls_) {
    if (!std::regex_match(req.path, c.path)) continue;
    path_known = true;
    if (c.method != req.method) continue;
    c.handler(req, res);
    return true;
  }
  reply_json(res, path_known ? 405 : 404,
             {{"message", path_known ? "method not allowed" : "no such control endpoint"}});
  return true;
}

void SimServer::serve(const httplib::Request& req, httplib::Response& res, SimContext& ctx) {
  try {
    if (handler_) {
      handler_(req, res, ctx);
    } else {
      reply_json(res, 404, {{"message", "not found"}});
    }
  } catch (const std::exception& e) {
    note(std::string("handler failed: ") + e.what());
    reply_json(res, 500, {{"message", std::string("stand-in internal error: ") + e.what()}});
  }
}

void SimServer::dispatch(const httplib::Request& req, httplib::Response& res) {
  if (req.path.rfind("/_sim/", 0) == 0) {
    dispatch_control(req, res);
    return;
  }
  auto start = SteadyClock::now();
  RequestRecord record;
  record.method = req.method;
  std::tie(record.path, record.query) = split_target(req.target);
  record.content_type = req.get_header_value("Content-Type");
  SimContext ctx;

  if (int ms = latency_ms_.load(); ms > 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  std::optional<Fault> fault = faults_.take(req.method, req.path);
  if (fault) {
    switch (fault->action) {
      case FaultAction::kStatus: {
        res.status = fault->status;
        for (const auto& [k, v] : fault->headers) res.set_header(k, v);
        if (fault->body) {
          std::string type = fault->headers.count("Content-Type")
                                 ? fault->headers.at("Content-Type")
                                 : "application/json";
          res.headers.erase("Content-Type");
          res.set_content(*fault->body, type);
        } else if (fault_body_) {
          auto [type, body] = fault_body_(fault->status);
          res.set_content(body, type);
        } else {
          res.set_content(default_fault_body(fault->status), "application/json");
        }
        record.fault = "status";
        break;
      }
      case FaultAction::kReset:
        record.fault = "reset";
        record.status = 0;
        if (fault->mid_body) {
          serve(req, res, ctx);
          if (res.body.size() < 2) {
            // No body to cut in half (a 204): drop it like "after".
            reset_connection(req);
            res.status = 500;
          } else {
            reset_mid_body(req, res);
          }
          break;
        }
        if (fault->after) serve(req, res, ctx);
        reset_connection(req);
        res.status = 500;
        break;
      case FaultAction::kTruncate:
        record.fault = "truncate";
        if (fault->body) {
          res.status = fault->status;
          for (const auto& [k, v] : fault->headers) res.set_header(k, v);
          res.set_content(*fault->body, "application/json");
        } else {
          serve(req, res, ctx);
        }
        truncate_reply(res);
        break;
      case FaultAction::kDelay:
        record.fault = "delay";
        std::this_thread::sleep_for(std::chrono::milliseconds(fault->delay_ms));
        serve(req, res, ctx);
        break;
    }
  } else {
    serve(req, res, ctx);
  }
  if (record.fault != "reset") record.status = res.status;
  record.user = ctx.user;
  record.duration_ms =
      std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count();
  log_->append(record);
}

int SimServer::run() {
  sigset_t stop_signals;  // blocked since the constructor
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);

  X509* cert = pki_->server_cert();
  EVP_PKEY* key = pki_->server_key();
  bool want_client_certs = request_client_certs_;
  const Pki* pki = pki_.get();
  server_ = std::make_unique<httplib::SSLServer>([=](SSL_CTX& ctx) {
    SSL_CTX_set_min_proto_version(&ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(&ctx, SSL_OP_NO_COMPRESSION);
    if (SSL_CTX_use_certificate(&ctx, cert) != 1 || SSL_CTX_use_PrivateKey(&ctx, key) != 1 ||
        SSL_CTX_check_private_key(&ctx) != 1) {
      return false;
    }
    static const unsigned char kSessionContext[] = "fluxkey-sim";
    SSL_CTX_set_session_id_context(&ctx, kSessionContext, sizeof kSessionContext - 1);
    if (want_client_certs) {
      // SSL_VERIFY_PEER without FAIL_IF_NO_PEER_CERT: a certificate is asked
      // for and verified when sent, but tokens alone are fine too.
      SSL_CTX_set_cert_store(&ctx, pki->make_trust_store().release());
      if (SSL_CTX_add_client_CA(&ctx, pki->ca_cert()) != 1) return false;
      SSL_CTX_set_verify(&ctx, SSL_VERIFY_PEER, nullptr);
    }
    return true;
  });
  if (!server_->is_valid()) {
    note("cannot set up TLS");
    return 1;
  }
  int threads = options_.threads;
  // httplib owns the queue it gets from this factory and deletes it.
  server_->new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<size_t>(threads));
  };
  // Real API servers answer without Nagle's delay; without this every reply
  // with a body waited ~40 ms for the client's delayed ACK, and every timing
  // measured against a stand-in was inflated by it.
  server_->set_tcp_nodelay(true);
  server_->set_keep_alive_timeout(5);
  server_->set_keep_alive_max_count(1000);
  server_->set_read_timeout(30);
  server_->set_write_timeout(30);
  auto handler = [this](const httplib::Request& req, httplib::Response& res) {
    dispatch(req, res);
  };
  server_->Get(".*", handler);
  server_->Post(".*", handler);
  server_->Put(".*", handler);
  server_->Patch(".*", handler);
  server_->Delete(".*", handler);
  server_->Options(".*", handler);

  if (options_.port == 0) {
    port_ = server_->bind_to_any_port("127.0.0.1");
    if (port_ <= 0) {
      note("cannot bind 127.0.0.1");
      return 1;
    }
  } else {
    if (!server_->bind_to_port("127.0.0.1", options_.port)) {
      note("cannot bind 127.0.0.1:" + std::to_string(options_.port));
      return 1;
    }
    port_ = options_.port;
  }
  if (on_ready_) on_ready_();
  write_public_file(options_.state_dir + "/url", url() + "\n");
  std::cout << url() << std::endl;  // the one line on stdout: the readiness signal

  std::thread signal_thread([this, stop_signals] {
    while (!listen_done_) {
      timespec wait{0, 100'000'000};
      int sig = sigtimedwait(&stop_signals, nullptr, &wait);
      if (sig != SIGTERM && sig != SIGINT) continue;
      stopping_ = true;
      // stop() is a no-op until listen_after_bind() runs, so repeat it; then
      // give workers a moment to finish (idle keep-alive connections and
      // watches end on their own), and leave anyway: the state is in memory
      // only and the request log is flushed line by line.
      auto deadline = SteadyClock::now() + std::chrono::seconds(3);
      while (!listen_done_ && SteadyClock::now() < deadline) {
        server_->stop();
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (!listen_done_) {
        note("stopping with connections still open");
        std::fflush(nullptr);
        std::_Exit(0);
      }
      return;
    }
  });
  std::thread stdin_thread;
  if (options_.exit_with_stdin) {
    stdin_thread = std::thread([this] {
      while (!listen_done_) {
        pollfd p{STDIN_FILENO, POLLIN, 0};
        if (::poll(&p, 1, 200) <= 0) continue;
        char buf[256];
        ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
        if (n > 0 || (n < 0 && errno == EINTR)) continue;
        note("stdin closed: stopping");
        ::kill(::getpid(), SIGTERM);  // the signal thread does the orderly stop
        return;
      }
    });
  }
  bool ok = server_->listen_after_bind();
  listen_done_ = true;
  signal_thread.join();
  if (stdin_thread.joinable()) stdin_thread.join();
  return ok ? 0 : 1;
}

void SimServer::stop() {
  stopping_ = true;
  if (server_) server_->stop();
}

}  // namespace fluxkey::sim
