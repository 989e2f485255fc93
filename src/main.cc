#include <sys/prctl.h>
#include <sys/resource.h>

#include <exception>

#include "cli/app.h"
#include "core/log.h"

// Debian's libcurl loads GnuTLS (through librtmp and libldap) although
// fluxkey speaks only HTTP(S) over OpenSSL. GnuTLS initialises itself from a
// constructor unless the program defines this hook (GnuTLS's documented
// GNUTLS_SKIP_GLOBAL_INIT); skipping it saves about 0.85 MiB of peak RSS (bench/sync.sh).
// meson.build exports the symbol so that the library's call resolves here.
extern "C" int _gnutls_global_init_skip() {
  return 1;
}

int main(int argc, char** argv) {
  // fluxkey holds credentials in memory: no core dumps, no ptrace by others.
  struct rlimit no_core {};
  setrlimit(RLIMIT_CORE, &no_core);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  try {
    return fluxkey::cli::run(argc, argv);
  } catch (const std::exception& e) {
    fluxkey::logger().error(std::string("internal error: ") + e.what());
    return 1;
  }
}
