#include "rl/checkpoint/checkpointer.h"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include <ATen/CPUGeneratorImpl.h>

#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "base/status_macros.h"
#include "policy/checkpoint.h"
#include "policy/safetensors.h"

namespace forge::rl {
namespace {

namespace fs = std::filesystem;

constexpr char kManifest[] = "manifest.json";
constexpr char kOptimizer[] = "optimizer.safetensors";
constexpr char kState[] = "state.json";

absl::StatusOr<uint32_t> file_crc32(const fs::path& path, uint64_t* bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("missing '", path.string(), "'"));
  uLong crc = crc32(0L, Z_NULL, 0);
  std::vector<char> buffer(1 << 20);
  *bytes = 0;
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const std::streamsize n = in.gcount();
    if (n <= 0) break;
    crc = crc32(crc, reinterpret_cast<const Bytef*>(buffer.data()), static_cast<uInt>(n));
    *bytes += static_cast<uint64_t>(n);
  }
  return static_cast<uint32_t>(crc);
}

nlohmann::json rng_state() {
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  const at::Tensor state = gen.get_state();  // uint8
  const uint8_t* p = state.data_ptr<uint8_t>();
  return std::vector<int>(p, p + state.numel());
}

absl::Status restore_rng(const nlohmann::json& bytes) {
  if (!bytes.is_array()) return absl::DataLossError("state.json: torch_cpu_rng missing");
  std::vector<uint8_t> v;
  for (const auto& b : bytes) v.push_back(static_cast<uint8_t>(b.get<int>()));
  at::Tensor state = at::empty({static_cast<int64_t>(v.size())}, at::kByte);
  std::copy(v.begin(), v.end(), state.data_ptr<uint8_t>());
  at::Generator gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  try {
    gen.set_state(state);
  } catch (const c10::Error& e) {
    return absl::DataLossError(absl::StrCat("state.json: bad torch_cpu_rng: ", e.what_without_backtrace()));
  }
  return absl::OkStatus();
}

}  // namespace

Checkpointer::Checkpointer(std::string dir, int keep_last)
    : dir_(std::move(dir)), keep_last_(std::max(1, keep_last)) {}

absl::Status Checkpointer::save(const policy::ModelImpl& model, const AdamW& optimizer,
                                const TrainingState& state) {
  return save(model, optimizer.state_tensors(), state);
}

absl::Status Checkpointer::save(
    const policy::ModelImpl& model,
    const std::vector<std::pair<std::string, at::Tensor>>& optimizer_state,
    const TrainingState& state) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  const fs::path final_dir = fs::path(dir_) / absl::StrCat("step-", state.step);
  const fs::path tmp = fs::path(dir_) / absl::StrCat("step-", state.step, ".tmp.", ::getpid());
  fs::remove_all(tmp, ec);

  RETURN_IF_ERROR(policy::save_checkpoint(model, tmp.string()));
  RETURN_IF_ERROR(
      policy::write_safetensors((tmp / kOptimizer).string(), optimizer_state));
  nlohmann::json j = {{"step", state.step},
                      {"policy_version", state.policy_version},
                      {"data", state.data},
                      {"extra", state.extra},
                      {"torch_cpu_rng", rng_state()}};
  RETURN_IF_ERROR(write_file_atomic((tmp / kState).string(), j.dump()));

  nlohmann::json files = nlohmann::json::object();
  for (const auto& entry : fs::directory_iterator(tmp)) {
    uint64_t bytes = 0;
    ASSIGN_OR_RETURN(uint32_t crc, file_crc32(entry.path(), &bytes));
    files[entry.path().filename().string()] = {{"bytes", bytes}, {"crc32", crc}};
  }
  RETURN_IF_ERROR(write_file_atomic((tmp / kManifest).string(),
                                    nlohmann::json{{"step", state.step}, {"files", files}}.dump(1)));
  // Flush the folder's contents before it becomes visible under its final name.
  ::sync();
  const fs::path old = fs::path(dir_) / absl::StrCat("step-", state.step, ".old.", ::getpid());
  if (fs::exists(final_dir)) fs::rename(final_dir, old, ec);
  fs::rename(tmp, final_dir, ec);
  if (ec) {
    return absl::InternalError(absl::StrCat("cannot rename '", tmp.string(), "' to '",
                                            final_dir.string(), "': ", ec.message()));
  }
  fs::remove_all(old, ec);

  const auto steps = list_steps();
  for (size_t i = 0; i + keep_last_ < steps.size(); ++i) fs::remove_all(steps[i].second, ec);
  return absl::OkStatus();
}

std::vector<std::pair<int64_t, std::string>> Checkpointer::list_steps() const {
  std::vector<std::pair<int64_t, std::string>> steps;
  std::error_code ec;
  if (!fs::exists(dir_, ec)) return steps;
  for (const auto& entry : fs::directory_iterator(dir_, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("step-", 0) != 0 || !entry.is_directory()) continue;
    const std::string digits = name.substr(5);
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    steps.emplace_back(std::stoll(digits), entry.path().string());
  }
  std::sort(steps.begin(), steps.end());
  return steps;
}

std::optional<std::string> Checkpointer::newest_valid(std::vector<std::string>* skipped) const {
  auto steps = list_steps();
  for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
    absl::Status st = verify(it->second);
    if (st.ok()) return it->second;
    if (skipped) skipped->push_back(std::string(st.message()));
  }
  return std::nullopt;
}

absl::Status Checkpointer::verify(const std::string& dir) {
  const fs::path root(dir);
  absl::StatusOr<std::string> text = read_file((root / kManifest).string());
  if (!text.ok()) return absl::DataLossError(absl::StrCat(dir, ": no manifest.json (incomplete)"));
  nlohmann::json manifest;
  try {
    manifest = nlohmann::json::parse(*text);
    for (const auto& [name, info] : manifest.at("files").items()) {
      uint64_t bytes = 0;
      absl::StatusOr<uint32_t> crc = file_crc32(root / name, &bytes);
      if (!crc.ok()) return absl::DataLossError(absl::StrCat(dir, ": ", crc.status().message()));
      if (bytes != info.at("bytes").get<uint64_t>() || *crc != info.at("crc32").get<uint32_t>()) {
        return absl::DataLossError(
            absl::StrCat(dir, ": '", name, "' does not match the manifest (corrupted)"));
      }
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat(dir, ": bad manifest.json: ", e.what()));
  }
  return absl::OkStatus();
}

absl::StatusOr<TrainingState> Checkpointer::read_state(const std::string& dir) {
  ASSIGN_OR_RETURN(std::string text, read_file((fs::path(dir) / kState).string()));
  TrainingState out;
  try {
    const nlohmann::json j = nlohmann::json::parse(text);
    out.step = j.at("step").get<int64_t>();
    out.policy_version = j.at("policy_version").get<int64_t>();
    out.data = j.at("data");
    out.extra = j.at("extra");
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat(dir, "/state.json: ", e.what()));
  }
  return out;
}

absl::StatusOr<TrainingState> Checkpointer::load(const std::string& dir, policy::ModelImpl& model,
                                                 AdamW* optimizer) {
  RETURN_IF_ERROR(verify(dir));
  RETURN_IF_ERROR(policy::load_weights(model, dir));
  if (optimizer != nullptr) {
    ASSIGN_OR_RETURN(auto reader,
                     policy::SafetensorsReader::open((fs::path(dir) / kOptimizer).string()));
    std::map<std::string, at::Tensor> state;
    for (const auto& [name, entry] : reader.entries()) {
      ASSIGN_OR_RETURN(state[name], reader.read(name));
    }
    RETURN_IF_ERROR(optimizer->load_state(state));
  }
  ASSIGN_OR_RETURN(TrainingState out, read_state(dir));
  ASSIGN_OR_RETURN(std::string text, read_file((fs::path(dir) / kState).string()));
  try {
    RETURN_IF_ERROR(restore_rng(nlohmann::json::parse(text).at("torch_cpu_rng")));
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat(dir, "/state.json: ", e.what()));
  }
  return out;
}

absl::StatusOr<ResumePoint> find_resume_point(const std::string& run_dir, Logger* logger) {
  ResumePoint point;
  std::vector<std::string> skipped;
  point.checkpoint = Checkpointer(run_dir + "/checkpoints", 1).newest_valid(&skipped);
  for (const std::string& s : skipped) log_warning(logger, "skipping invalid checkpoint: " + s);
  if (!point.checkpoint) {
    log_warning(logger, "--resume: no checkpoint in " + run_dir + "/checkpoints; starting from "
                        "step 0");
    return point;
  }
  ASSIGN_OR_RETURN(TrainingState state, Checkpointer::read_state(*point.checkpoint));
  point.step = state.step;
  return point;
}

}  // namespace forge::rl
