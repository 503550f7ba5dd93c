// Loading YAML run configs: a file, then dotted `key=value` overrides, then a typed section visit
// that rejects unknown keys and wrong types with the key and the file line (or override) named.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rl/config/config_visitor.h"

namespace YAML {
class Node;
}

namespace forge::rl {

// A parsed YAML document with overrides applied. Not thread-safe.
class YamlConfig {
 public:
  // Reads `path` (an empty path gives an empty document).
  static absl::StatusOr<YamlConfig> from_file(const std::string& path);
  static absl::StatusOr<YamlConfig> from_string(const std::string& text,
                                                const std::string& origin = "<string>");

  // Applies one `a.b.c=value` override; the value is parsed as YAML (`3`, `true`, `[a, b]`, text).
  absl::Status apply_override(const std::string& assignment);
  absl::Status apply_overrides(const std::vector<std::string>& assignments);

  // Runs `visit` over the document with a reading visitor: fills the struct it describes, and fails
  // naming the first bad or unknown key with its file line (or the override that set it).
  absl::Status read(const std::function<void(ConfigVisitor&)>& visit) const;

  const std::string& origin() const { return origin_; }

  YamlConfig(YamlConfig&&) noexcept;
  YamlConfig& operator=(YamlConfig&&) noexcept;
  ~YamlConfig();

 private:
  YamlConfig();
  std::string origin_;     // file path, or a description
  std::string base_dir_;   // folder relative paths in the file are resolved against
  std::unique_ptr<YAML::Node> root_;
  std::vector<std::string> override_keys_;  // dotted keys set by overrides
};

// Writes the struct `visit` describes as YAML (the resolved config saved beside a run).
std::string write_yaml(const std::function<void(ConfigVisitor&)>& visit);

// The first dotted key (in document order of `a`, then keys only `b` has) whose value differs
// between two YAML documents, e.g. "trainer.lr"; "" when they agree. A document that does not
// parse differs at its root ("<document>").
std::string first_differing_key(const std::string& a, const std::string& b);

}  // namespace forge::rl
