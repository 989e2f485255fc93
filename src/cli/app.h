// The command line: parses argv into each command's options, connects what
// the command needs, and runs it. Returns the process exit code.
#pragma once

namespace fluxkey::cli {

int run(int argc, char** argv);

}  // namespace fluxkey::cli
