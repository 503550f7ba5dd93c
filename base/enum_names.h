// Enums spelled as strings in configs: one table per enum gives each value its config name, and
// every reader (the config visitor, parse functions, tests) goes through the table, so an option is
// resolved once, at load, and compared as an enum on the hot path.
// Thread-safety: pure functions over immutable tables.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace forge {

template <typename E>
using EnumNames = std::vector<std::pair<std::string, E>>;

template <typename E>
std::vector<std::string> enum_choices(const EnumNames<E>& names) {
  std::vector<std::string> out;
  for (const auto& [name, value] : names) out.push_back(name);
  return out;
}

// The name of `value` ("" when the table lacks it).
template <typename E>
std::string enum_name(E value, const EnumNames<E>& names) {
  for (const auto& [name, v] : names) {
    if (v == value) return name;
  }
  return "";
}

// The value named `name`; InvalidArgument "unknown <what> 'x' (a, b, c)" otherwise.
template <typename E>
absl::StatusOr<E> parse_enum(const std::string& name, const EnumNames<E>& names,
                             const std::string& what) {
  std::string known;
  for (const auto& [n, v] : names) {
    if (n == name) return v;
    absl::StrAppend(&known, known.empty() ? "" : ", ", n);
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown ", what, " '", name, "' (", known, ")"));
}

}  // namespace forge
