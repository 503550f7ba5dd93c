// Reading tokenizer.json with errors that name the JSON path of the offending value
// ("pre_tokenizer.pretokenizers[1].pattern: ..."). Every hf/ component parses itself with these.
// Thread-safety: pure functions.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace forge::policy::hf {

using Json = nlohmann::json;

// "path.key" (or "key" at the root).
std::string json_child(const std::string& path, std::string_view key);
// "path[index]".
std::string json_index(const std::string& path, size_t index);

// InvalidArgument "<path>: <message>".
absl::Status json_error(const std::string& path, std::string_view message);
// InvalidArgument "<path>: unsupported <what> type '<type>'" for a component Forge does not build.
absl::Status json_unsupported(const std::string& path, std::string_view what,
                              std::string_view type);

// The member `key` of object `obj` (at `path`): nullptr when absent or null.
const Json* json_member(const Json& obj, std::string_view key);

// Typed members. Absent or null: `fallback`; present with another type: an error naming it.
absl::StatusOr<bool> json_bool(const Json& obj, const std::string& path, std::string_view key,
                               bool fallback);
absl::StatusOr<std::string> json_string(const Json& obj, const std::string& path,
                                        std::string_view key, const std::string& fallback);
// A required string member.
absl::StatusOr<std::string> json_required_string(const Json& obj, const std::string& path,
                                                 std::string_view key);
// The "type" member of a component object; `path` must name an object.
absl::StatusOr<std::string> json_type(const Json& obj, const std::string& path);

// The array member `key` of `obj` (at `path`), each element parsed by
// `parse(element, element_path)` -> absl::StatusOr<std::unique_ptr<T>>: a Sequence's components.
// Elements that parse to nullptr (JSON null) are left out.
template <typename T, typename Parse>
absl::StatusOr<std::vector<std::unique_ptr<T>>> json_list(const Json& obj, const std::string& path,
                                                          std::string_view key, Parse parse) {
  const std::string list_path = json_child(path, key);
  const Json* list = json_member(obj, key);
  if (list == nullptr || !list->is_array()) return json_error(list_path, "expected an array");
  std::vector<std::unique_ptr<T>> out;
  for (size_t i = 0; i < list->size(); ++i) {
    absl::StatusOr<std::unique_ptr<T>> item = parse((*list)[i], json_index(list_path, i));
    if (!item.ok()) return item.status();
    if (*item != nullptr) out.push_back(std::move(item).value());
  }
  return out;
}

}  // namespace forge::policy::hf
