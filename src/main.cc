#include <sys/prctl.h>
#include <sys/resource.h>

#include <exception>

#include "cli/app.h"
#include "core/log.h"

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
