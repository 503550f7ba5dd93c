#include "policy/hf/normalizer.h"

#include <cstdlib>
#include <vector>

#include <utf8proc.h>

#include "base/status_macros.h"

namespace forge::policy::hf {
namespace {

class UnicodeForm final : public Normalizer {
 public:
  explicit UnicodeForm(utf8proc_option_t options) : options_(options) {}

  void normalize(std::string* text) const override {
    bool ascii = true;
    for (char c : *text) {
      if (static_cast<unsigned char>(c) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) return;  // every form leaves ASCII as it is
    utf8proc_uint8_t* out = nullptr;
    const utf8proc_ssize_t n =
        utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(text->data()),
                     static_cast<utf8proc_ssize_t>(text->size()), &out, options_);
    // utf8proc fails only on invalid UTF-8 or out of memory; callers pass valid UTF-8.
    if (n >= 0) text->assign(reinterpret_cast<const char*>(out), static_cast<size_t>(n));
    std::free(out);
  }

 private:
  utf8proc_option_t options_;
};

class SequenceNormalizer final : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> steps)
      : steps_(std::move(steps)) {}
  void normalize(std::string* text) const override {
    for (const auto& step : steps_) step->normalize(text);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Normalizer>> Normalizer::from_json(const Json& json,
                                                                  const std::string& path) {
  if (json.is_null()) return nullptr;
  ASSIGN_OR_RETURN(const std::string type, json_type(json, path));
  const auto form = [](int options) -> std::unique_ptr<Normalizer> {
    return std::make_unique<UnicodeForm>(static_cast<utf8proc_option_t>(UTF8PROC_STABLE | options));
  };
  if (type == "NFC") return form(UTF8PROC_COMPOSE);
  if (type == "NFD") return form(UTF8PROC_DECOMPOSE);
  if (type == "NFKC") return form(UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
  if (type == "NFKD") return form(UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT);
  if (type == "Sequence") {
    ASSIGN_OR_RETURN(auto steps,
                     json_list<Normalizer>(json, path, "normalizers", &Normalizer::from_json));
    return std::unique_ptr<Normalizer>(std::make_unique<SequenceNormalizer>(std::move(steps)));
  }
  return json_unsupported(path, "normalizer", type);
}

}  // namespace forge::policy::hf
