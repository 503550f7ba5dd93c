#include "policy/hf/json_util.h"

#include "absl/strings/str_cat.h"

namespace forge::policy::hf {

std::string json_child(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : absl::StrCat(path, ".", std::string(key));
}

std::string json_index(const std::string& path, size_t index) {
  return absl::StrCat(path, "[", index, "]");
}

absl::Status json_error(const std::string& path, std::string_view message) {
  return absl::InvalidArgumentError(
      absl::StrCat(path.empty() ? "(root)" : path, ": ", std::string(message)));
}

absl::Status json_unsupported(const std::string& path, std::string_view what,
                              std::string_view type) {
  return json_error(
      path, absl::StrCat("unsupported ", std::string(what), " type '", std::string(type), "'"));
}

const Json* json_member(const Json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

absl::StatusOr<bool> json_bool(const Json& obj, const std::string& path, std::string_view key,
                               bool fallback) {
  const Json* v = json_member(obj, key);
  if (v == nullptr) return fallback;
  if (!v->is_boolean()) return json_error(json_child(path, key), "expected true or false");
  return v->get<bool>();
}

absl::StatusOr<std::string> json_string(const Json& obj, const std::string& path,
                                        std::string_view key, const std::string& fallback) {
  const Json* v = json_member(obj, key);
  if (v == nullptr) return fallback;
  if (!v->is_string()) return json_error(json_child(path, key), "expected a string");
  return v->get<std::string>();
}

absl::StatusOr<std::string> json_required_string(const Json& obj, const std::string& path,
                                                 std::string_view key) {
  const Json* v = json_member(obj, key);
  if (v == nullptr) return json_error(json_child(path, key), "missing");
  if (!v->is_string()) return json_error(json_child(path, key), "expected a string");
  return v->get<std::string>();
}

absl::StatusOr<std::string> json_type(const Json& obj, const std::string& path) {
  if (!obj.is_object()) return json_error(path, "expected an object");
  return json_required_string(obj, path, "type");
}

}  // namespace forge::policy::hf
