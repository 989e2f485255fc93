// The stand-ins' precompiled header: cpp-httplib (about 6 s of each compile
// that includes it) besides nlohmann/json.
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>
