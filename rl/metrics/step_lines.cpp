#include "rl/metrics/step_lines.h"

#include <filesystem>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "base/status_macros.h"

namespace forge::rl {

absl::StatusOr<std::vector<StepLine>> keep_lines_through_step(const std::string& path,
                                                              int64_t keep_through_step) {
  std::vector<StepLine> kept;
  std::string contents;
  if (keep_through_step >= 0 && std::filesystem::exists(path)) {
    ASSIGN_OR_RETURN(std::string text, read_file(path));
    size_t begin = 0;
    for (int number = 1; begin < text.size(); ++number) {
      const size_t end = text.find('\n', begin);
      if (end == std::string::npos) break;  // cut off by a kill: its step is trained again
      std::string line = text.substr(begin, end - begin);
      begin = end + 1;
      if (line.empty()) continue;
      const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (!j.is_object() || !j.contains("step") || !j["step"].is_number_integer()) {
        return absl::DataLossError(absl::StrCat(
            path, ":", number, ": not a step line (a JSON object with an integer \"step\")"));
      }
      if (j["step"].get<int64_t>() > keep_through_step) continue;
      contents += line + "\n";
      kept.push_back({std::move(line), number});
    }
  }
  RETURN_IF_ERROR(write_file_atomic(path, contents));
  return kept;
}

}  // namespace forge::rl
