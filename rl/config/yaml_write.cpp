// write_yaml and first_differing_key (rl/config/yaml_config.h): a config struct out as YAML, and
// two YAML documents compared key by key.
#include "rl/config/yaml_config.h"

#include <filesystem>
#include <map>
#include <utility>

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

namespace forge::rl {
namespace fs = std::filesystem;

namespace {

// Emits the struct a visit function describes as YAML.
class Writer final : public ConfigVisitor {
 public:
  Writer() { out_ << YAML::BeginMap; }
  std::string finish() {
    out_ << YAML::EndMap;
    return std::string(out_.c_str()) + "\n";
  }

  void value(const char* key, bool& v) override { out_ << YAML::Key << key << YAML::Value << v; }
  void value(const char* key, int& v) override { out_ << YAML::Key << key << YAML::Value << v; }
  void value(const char* key, int64_t& v) override {
    out_ << YAML::Key << key << YAML::Value << v;
  }
  void value(const char* key, double& v) override {
    out_ << YAML::Key << key << YAML::Value << v;
  }
  void value(const char* key, std::string& v) override {
    out_ << YAML::Key << key << YAML::Value << YAML::DoubleQuoted << v;
  }
  void value(const char* key, std::vector<std::string>& v) override {
    out_ << YAML::Key << key << YAML::Value << YAML::Flow << v;
  }
  void value(const char* key, std::map<std::string, double>& v) override {
    out_ << YAML::Key << key << YAML::Value << YAML::Flow << v;
  }
  void choice(const char* key, std::string& v, const std::vector<std::string>&) override {
    value(key, v);
  }
  void path(const char* key, std::string& v) override {
    std::string abs = v.empty() ? v : fs::absolute(v).lexically_normal().string();
    value(key, abs);
  }
  void remaining(nlohmann::json& rest,
                 const std::function<std::string(const std::string&)>&) override {
    if (!rest.is_object()) return;
    for (const auto& [k, v] : rest.items()) {
      out_ << YAML::Key << k << YAML::Value << YAML::Load(v.dump());
    }
  }
  void section(const char* key, const std::function<void()>& body) override {
    out_ << YAML::Key << key << YAML::Value << YAML::BeginMap;
    body();
    out_ << YAML::EndMap;
  }

 private:
  YAML::Emitter out_;
};

}  // namespace

std::string write_yaml(const std::function<void(ConfigVisitor&)>& visit) {
  Writer writer;
  visit(writer);
  return writer.finish();
}

namespace {

// Scalars and sequences by dotted key, in document order.
void flatten(const YAML::Node& node, const std::string& prefix,
             std::vector<std::pair<std::string, std::string>>& out) {
  if (node.IsMap()) {
    for (const auto& item : node) {
      const std::string key = item.first.as<std::string>();
      flatten(item.second, prefix.empty() ? key : prefix + "." + key, out);
    }
    return;
  }
  YAML::Emitter emitter;
  emitter << YAML::Flow << node;
  out.emplace_back(prefix, emitter.c_str());
}

}  // namespace

std::string first_differing_key(const std::string& a, const std::string& b) {
  std::vector<std::pair<std::string, std::string>> fa, fb;
  try {
    flatten(YAML::Load(a), "", fa);
    flatten(YAML::Load(b), "", fb);
  } catch (const YAML::Exception&) {
    return a == b ? "" : "<document>";
  }
  std::map<std::string, std::string> in_b(fb.begin(), fb.end());
  for (const auto& [key, value] : fa) {
    auto it = in_b.find(key);
    if (it == in_b.end() || it->second != value) return key;
    in_b.erase(it);
  }
  return in_b.empty() ? "" : in_b.begin()->first;
}

}  // namespace forge::rl
