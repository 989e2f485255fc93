// Precompiled into every target that has several files: nlohmann/json is in
// most of them and costs about 2 s of each compile to parse (clang also
// instantiates its templates once here, see meson.build).
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>
