#include "policy/hf/post_processor.h"

#include <climits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace forge::policy::hf {
namespace {

// A template: ids to insert, and where the sequence itself goes.
class Template final : public PostProcessor {
 public:
  // Each part: the sequence (nullopt-like: empty + is_sequence) or special ids.
  struct Part {
    bool sequence = false;
    std::vector<int32_t> ids;
  };
  explicit Template(std::vector<Part> parts) : parts_(std::move(parts)) {}

  void add_special_tokens(std::vector<int32_t>* ids) const override {
    std::vector<int32_t> out;
    out.reserve(ids->size() + 4);
    for (const Part& p : parts_) {
      if (p.sequence) {
        out.insert(out.end(), ids->begin(), ids->end());
      } else {
        out.insert(out.end(), p.ids.begin(), p.ids.end());
      }
    }
    ids->swap(out);
  }

 private:
  std::vector<Part> parts_;
};

class Sequence final : public PostProcessor {
 public:
  explicit Sequence(std::vector<std::unique_ptr<PostProcessor>> steps) : steps_(std::move(steps)) {}
  void add_special_tokens(std::vector<int32_t>* ids) const override {
    for (const auto& step : steps_) step->add_special_tokens(ids);
  }

 private:
  std::vector<std::unique_ptr<PostProcessor>> steps_;
};

class Identity final : public PostProcessor {
 public:
  void add_special_tokens(std::vector<int32_t>* ids) const override {}
};

absl::StatusOr<int32_t> id_value(const Json& v, const std::string& path) {
  if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > INT32_MAX) {
    return json_error(path, "expected a non-negative integer id");
  }
  return static_cast<int32_t>(v.get<int64_t>());
}

// TemplateProcessing's "single": [{"SpecialToken": {"id": NAME}} | {"Sequence": {"id": "A"}}, ...]
// with "special_tokens": {NAME: {"ids": [...]}}.
absl::StatusOr<std::unique_ptr<PostProcessor>> template_from_json(const Json& json,
                                                                  const std::string& path) {
  const std::string single_path = json_child(path, "single");
  const Json* single = json_member(json, "single");
  if (single == nullptr || !single->is_array()) return json_error(single_path, "expected an array");
  const Json* specials = json_member(json, "special_tokens");
  const std::string specials_path = json_child(path, "special_tokens");
  std::vector<Template::Part> parts;
  for (size_t i = 0; i < single->size(); ++i) {
    const std::string p = json_index(single_path, i);
    const Json& piece = (*single)[i];
    if (json_member(piece, "Sequence") != nullptr) {
      parts.push_back({true, {}});
      continue;
    }
    const Json* special = json_member(piece, "SpecialToken");
    if (special == nullptr) return json_error(p, "expected {\"Sequence\"} or {\"SpecialToken\"}");
    ASSIGN_OR_RETURN(const std::string name,
                     json_required_string(*special, json_child(p, "SpecialToken"), "id"));
    const Json* entry = specials == nullptr ? nullptr : json_member(*specials, name);
    if (entry == nullptr) {
      return json_error(specials_path, absl::StrCat("'", name, "' (used by ", p, ") is missing"));
    }
    const std::string entry_path = json_child(specials_path, name);
    const Json* ids = json_member(*entry, "ids");
    if (ids == nullptr || !ids->is_array()) {
      return json_error(json_child(entry_path, "ids"), "expected an array");
    }
    Template::Part part;
    for (size_t k = 0; k < ids->size(); ++k) {
      ASSIGN_OR_RETURN(const int32_t id,
                       id_value((*ids)[k], json_index(json_child(entry_path, "ids"), k)));
      part.ids.push_back(id);
    }
    parts.push_back(std::move(part));
  }
  return std::unique_ptr<PostProcessor>(std::make_unique<Template>(std::move(parts)));
}

// Roberta/Bert: "cls": [TEXT, ID], "sep": [TEXT, ID]; a single sequence is cls A sep.
absl::StatusOr<std::unique_ptr<PostProcessor>> cls_sep_from_json(const Json& json,
                                                                 const std::string& path) {
  std::vector<Template::Part> parts;
  for (const char* key : {"cls", "sep"}) {
    const std::string p = json_child(path, key);
    const Json* pair = json_member(json, key);
    if (pair == nullptr || !pair->is_array() || pair->size() != 2) {
      return json_error(p, "expected [token, id]");
    }
    ASSIGN_OR_RETURN(const int32_t id, id_value((*pair)[1], json_index(p, 1)));
    parts.push_back({false, {id}});
    if (parts.size() == 1) parts.push_back({true, {}});
  }
  return std::unique_ptr<PostProcessor>(std::make_unique<Template>(std::move(parts)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostProcessor>> PostProcessor::from_json(const Json& json,
                                                                        const std::string& path) {
  if (json.is_null()) return nullptr;
  ASSIGN_OR_RETURN(const std::string type, json_type(json, path));
  if (type == "ByteLevel") return std::unique_ptr<PostProcessor>(std::make_unique<Identity>());
  if (type == "TemplateProcessing") return template_from_json(json, path);
  if (type == "RobertaProcessing" || type == "BertProcessing") return cls_sep_from_json(json, path);
  if (type == "Sequence") {
    ASSIGN_OR_RETURN(auto steps,
                     json_list<PostProcessor>(json, path, "processors", &PostProcessor::from_json));
    return std::unique_ptr<PostProcessor>(std::make_unique<Sequence>(std::move(steps)));
  }
  return json_unsupported(path, "post-processor", type);
}

}  // namespace forge::policy::hf
