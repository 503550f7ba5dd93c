#include "rl/config/yaml_config.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/file_util.h"
#include "base/status_macros.h"

namespace forge::rl {
namespace fs = std::filesystem;

namespace {

std::string join_key(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : absl::StrCat(prefix, ".", key);
}

// YAML scalar/sequence/map -> JSON, keeping numbers and booleans typed.
nlohmann::json yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : node) out.push_back(yaml_to_json(item));
      return out;
    }
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& kv : node) out[kv.first.Scalar()] = yaml_to_json(kv.second);
      return out;
    }
    case YAML::NodeType::Scalar:
      break;
  }
  const std::string& s = node.Scalar();
  if (node.Tag() == "!") return s;  // quoted: always a string
  bool b;
  if (s == "true" || s == "false") return s == "true";
  int64_t i;
  if (YAML::convert<int64_t>::decode(node, i)) return i;
  double d;
  if (YAML::convert<double>::decode(node, d)) return d;
  if (YAML::convert<bool>::decode(node, b)) return b;
  return s;
}

// Reads a YAML tree into the struct a visit function describes.
class Reader final : public ConfigVisitor {
 public:
  Reader(const YAML::Node& root, std::string origin, std::string base_dir,
         const std::vector<std::string>& override_keys)
      : origin_(std::move(origin)), base_dir_(std::move(base_dir)),
        override_keys_(override_keys.begin(), override_keys.end()) {
    frames_.push_back(Frame{root, ""});
  }

  absl::Status finish() {
    check_unknown_keys();
    return error_;
  }

  void value(const char* key, bool& v) override { scalar(key, v, "a boolean (true/false)"); }
  void value(const char* key, int& v) override { scalar(key, v, "an integer"); }
  void value(const char* key, int64_t& v) override { scalar(key, v, "an integer"); }
  void value(const char* key, double& v) override { scalar(key, v, "a number"); }
  void value(const char* key, std::string& v) override { scalar(key, v, "a string"); }

  void value(const char* key, std::vector<std::string>& v) override {
    YAML::Node node = child(key);
    if (!node.IsDefined() || node.IsNull()) return;
    if (!node.IsSequence()) return fail(key, node, "expected a list of strings");
    std::vector<std::string> out;
    for (const auto& item : node) {
      if (!item.IsScalar()) return fail(key, item, "expected a list of strings");
      out.push_back(item.Scalar());
    }
    v = std::move(out);
  }

  void value(const char* key, std::map<std::string, double>& v) override {
    YAML::Node node = child(key);
    if (!node.IsDefined() || node.IsNull()) return;
    if (!node.IsMap()) return fail(key, node, "expected a map of names to numbers");
    std::map<std::string, double> out;
    for (const auto& kv : node) {
      double d;
      if (!kv.second.IsScalar() || !YAML::convert<double>::decode(kv.second, d)) {
        return fail(join_key(key, kv.first.Scalar()).c_str(), kv.second, "expected a number");
      }
      out[kv.first.Scalar()] = d;
    }
    v = std::move(out);
  }

  void choice(const char* key, std::string& v, const std::vector<std::string>& choices) override {
    std::string got = v;
    scalar(key, got, "a string");
    if (std::find(choices.begin(), choices.end(), got) == choices.end()) {
      return fail(key, child(key),
                  absl::StrCat("'", got, "' is not one of: ", absl::StrJoin(choices, ", ")));
    }
    v = got;
  }

  void path(const char* key, std::string& v) override {
    std::string got = v;
    scalar(key, got, "a path");
    if (got.empty() || fs::path(got).is_absolute()) {
      v = got;
      return;
    }
    const bool from_file = child(key).IsDefined() && !is_override(key);
    v = from_file && !base_dir_.empty() ? (fs::path(base_dir_) / got).lexically_normal().string()
                                        : got;
  }

  void remaining(nlohmann::json& rest,
                 const std::function<std::string(const std::string&)>& check) override {
    Frame& frame = frames_.back();
    if (!frame.node.IsMap()) return;
    for (const auto& kv : frame.node) {
      const std::string name = kv.first.Scalar();
      if (frame.seen.count(name)) continue;
      frame.seen.insert(name);
      const std::string problem = check ? check(name) : "";
      if (!problem.empty()) return fail(name.c_str(), kv.second, problem);
      rest[name] = yaml_to_json(kv.second);
    }
  }

  void section(const char* key, const std::function<void()>& body) override {
    YAML::Node node = child(key);
    if (node.IsDefined() && !node.IsNull() && !node.IsMap()) {
      return fail(key, node, "expected a section (a map of keys)");
    }
    frames_.push_back(Frame{node, join_key(frames_.back().prefix, key)});
    body();
    check_unknown_keys();
    frames_.pop_back();
  }

 private:
  struct Frame {
    YAML::Node node;
    std::string prefix;
    std::set<std::string> seen;
  };

  YAML::Node child(const char* key) {
    Frame& frame = frames_.back();
    frame.seen.insert(key);
    if (!frame.node.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
    return frame.node[key];
  }

  bool is_override(const std::string& key) const {
    const std::string full = join_key(frames_.back().prefix, key);
    for (const auto& k : override_keys_) {
      if (k == full || full.rfind(k + ".", 0) == 0) return true;
    }
    return false;
  }

  template <typename T>
  void scalar(const char* key, T& v, const char* expected) {
    YAML::Node node = child(key);
    if (!node.IsDefined() || node.IsNull()) return;
    T parsed{};
    if (!node.IsScalar() || !YAML::convert<T>::decode(node, parsed)) {
      const std::string got = node.IsScalar() ? absl::StrCat("'", node.Scalar(), "'")
                                              : std::string(node.IsMap() ? "a map" : "a list");
      return fail(key, node, absl::StrCat("expected ", expected, ", got ", got));
    }
    v = parsed;
  }

  std::string where(const std::string& key, const YAML::Node& node) const {
    if (is_override(key)) return "command-line override";
    const YAML::Mark mark = node.Mark();
    if (mark.line >= 0) return absl::StrCat(origin_, ":", mark.line + 1);
    return origin_;
  }

  void fail(const char* key, const YAML::Node& node, const std::string& message) {
    if (!error_.ok()) return;  // keep the first error
    const std::string full = join_key(frames_.back().prefix, key);
    error_ = absl::InvalidArgumentError(
        absl::StrCat(where(key, node), ": ", full, ": ", message));
  }

  void check_unknown_keys() {
    Frame& frame = frames_.back();
    if (!frame.node.IsMap()) return;
    for (const auto& kv : frame.node) {
      const std::string name = kv.first.Scalar();
      if (!frame.seen.count(name)) {
        fail(name.c_str(), kv.first, "unknown key");
        frame.seen.insert(name);
      }
    }
  }

  std::string origin_;
  std::string base_dir_;
  std::vector<std::string> override_keys_;
  std::vector<Frame> frames_;
  absl::Status error_;
};

}  // namespace

YamlConfig::YamlConfig() : root_(std::make_unique<YAML::Node>(YAML::NodeType::Map)) {}
YamlConfig::YamlConfig(YamlConfig&&) noexcept = default;
YamlConfig& YamlConfig::operator=(YamlConfig&&) noexcept = default;
YamlConfig::~YamlConfig() = default;

absl::StatusOr<YamlConfig> YamlConfig::from_string(const std::string& text,
                                                   const std::string& origin) {
  YamlConfig config;
  config.origin_ = origin;
  try {
    YAML::Node root = YAML::Load(text);
    if (root.IsNull()) root = YAML::Node(YAML::NodeType::Map);
    if (!root.IsMap()) {
      return absl::InvalidArgumentError(
          absl::StrCat(origin, ": the top level must be a map of sections"));
    }
    *config.root_ = root;
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ":", e.mark.line + 1, ": YAML syntax error: ", e.msg));
  }
  return config;
}

absl::StatusOr<YamlConfig> YamlConfig::from_file(const std::string& path) {
  if (path.empty()) return from_string("", "<defaults>");
  ASSIGN_OR_RETURN(std::string text, read_file(path));
  ASSIGN_OR_RETURN(YamlConfig config, from_string(text, path));
  config.base_dir_ = fs::path(path).parent_path().string();
  return config;
}

absl::Status YamlConfig::apply_override(const std::string& assignment) {
  const size_t eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("override '", assignment, "' is not of the form section.key=value"));
  }
  const std::string key = assignment.substr(0, eq);
  const std::string text = assignment.substr(eq + 1);
  std::vector<std::string> parts = absl::StrSplit(key, '.');
  YAML::Node value;
  try {
    value = YAML::Load(text);
  } catch (const YAML::Exception&) {
    value = YAML::Node(text);
  }
  if (!value.IsDefined() || (value.IsNull() && !text.empty())) value = YAML::Node(text);

  YAML::Node node;
  node.reset(*root_);
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (parts[i].empty()) return absl::InvalidArgumentError(absl::StrCat("override '", assignment, "': empty key part"));
    YAML::Node next = node[parts[i]];
    if (next.IsDefined() && !next.IsNull() && !next.IsMap()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "override '", assignment, "': ", absl::StrJoin(parts.begin(), parts.begin() + i + 1, "."),
          " is a value, not a section"));
    }
    if (!next.IsDefined() || next.IsNull()) node[parts[i]] = YAML::Node(YAML::NodeType::Map);
    node.reset(node[parts[i]]);
  }
  node[parts.back()] = value;
  override_keys_.push_back(key);
  return absl::OkStatus();
}

absl::Status YamlConfig::apply_overrides(const std::vector<std::string>& assignments) {
  for (const auto& a : assignments) RETURN_IF_ERROR(apply_override(a));
  return absl::OkStatus();
}

absl::Status YamlConfig::read(const std::function<void(ConfigVisitor&)>& visit) const {
  Reader reader(*root_, origin_, base_dir_, override_keys_);
  visit(reader);
  return reader.finish();
}

}  // namespace forge::rl
