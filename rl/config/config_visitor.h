// One description of a config section serves every use of it: reading YAML (type checks, unknown
// keys), writing the resolved config, and listing keys. A section is a plain struct with defaults
// and a `visit(ConfigVisitor&, Section&)` function that names each field once.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "base/enum_names.h"

namespace forge::rl {

class ConfigVisitor {
 public:
  virtual ~ConfigVisitor() = default;

  virtual void value(const char* key, bool& v) = 0;
  virtual void value(const char* key, int& v) = 0;
  virtual void value(const char* key, int64_t& v) = 0;
  virtual void value(const char* key, double& v) = 0;
  virtual void value(const char* key, std::string& v) = 0;
  virtual void value(const char* key, std::vector<std::string>& v) = 0;
  virtual void value(const char* key, std::map<std::string, double>& v) = 0;
  // A string that must be one of `choices`.
  virtual void choice(const char* key, std::string& v, const std::vector<std::string>& choices) = 0;
  // A file or folder path. Relative paths in a file are resolved against the file's folder; relative
  // paths given on the command line, against the working directory. "" stays "".
  virtual void path(const char* key, std::string& v) = 0;
  // Every key of the current section not named by value()/choice()/path()/section() lands in `rest`
  // as JSON, instead of being an unknown-key error (for sections with open key sets, such as the
  // model's Hugging Face keys). `check` is called with each key and returns an error message for a
  // key it rejects, or "".
  virtual void remaining(nlohmann::json& rest,
                         const std::function<std::string(const std::string&)>& check) = 0;
  // A nested section `key`, described by `body`.
  virtual void section(const char* key, const std::function<void()>& body) = 0;
};

// An enum written by name (base/enum_names.h): read and checked as a choice among the table's
// names, held as the enum.
template <typename E>
void enum_choice(ConfigVisitor& v, const char* key, E& value, const EnumNames<E>& names) {
  std::string name = enum_name(value, names);
  v.choice(key, name, enum_choices(names));
  for (const auto& [n, e] : names) {
    if (n == name) value = e;
  }
}

}  // namespace forge::rl
