// load_weights(): a checkpoint folder's safetensors -> a Model's parameters (checkpoint.h).
#include <algorithm>
#include <chrono>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/status_macros.h"
#include "policy/checkpoint.h"
#include "policy/fp8.h"

namespace forge::policy {
namespace {

constexpr char kScaleSuffix[] = "_scale_inv";  // "<weight>.weight" + this = its fp8 scales
constexpr size_t kListedNames = 12;            // names an error lists before "and N more"

// One model tensor and the stored values it takes.
struct Source {
  std::string name;  // the model's name = the checkpoint's
  at::Tensor target;
  const SafetensorsReader* reader = nullptr;
  const SafetensorsEntry* entry = nullptr;
  std::string scale_name;  // fp8 weights: their weight_scale_inv
};

struct Plan {
  std::vector<Source> sources;
  std::vector<std::string> missing, unexpected;
  int skipped_mtp_tensors = 0;
  std::set<int> mtp_layers;
};

// i of "model.layers.{i}.…", or -1.
int layer_index(const std::string& name) {
  constexpr absl::string_view kPrefix = "model.layers.";
  if (!absl::StartsWith(name, kPrefix)) return -1;
  const size_t dot = name.find('.', kPrefix.size());
  int index = -1;
  if (dot == std::string::npos ||
      !absl::SimpleAtoi(absl::string_view(name).substr(kPrefix.size(), dot - kPrefix.size()), &index)) {
    return -1;
  }
  return index;
}

std::string listed(const std::vector<std::string>& names) {
  std::vector<std::string> shown;
  for (size_t i = 0; i < names.size() && i < kListedNames; ++i) shown.push_back("'" + names[i] + "'");
  std::string out = absl::StrJoin(shown, ", ");
  if (names.size() > kListedNames) absl::StrAppend(&out, " and ", names.size() - kListedNames, " more");
  return out;
}

// Pairs every model tensor with its stored values; collects what is missing, unexpected or
// skipped by name.
Plan plan_load(const ModelImpl& model, const CheckpointFiles& files) {
  const ModelConfig& c = model.config();
  Plan plan;
  std::set<std::string> used;
  for (const auto& [name, target] : model.named_tensors()) {
    if (!files.has(name)) {
      plan.missing.push_back(name);
      continue;
    }
    Source source{name, target, &files.reader_of(name), &files.entry(name), ""};
    used.insert(name);
    if (source.entry->fp8_e4m3()) {
      source.scale_name = name + kScaleSuffix;
      if (files.has(source.scale_name)) {
        used.insert(source.scale_name);
      } else {
        plan.missing.push_back(source.scale_name);
      }
    }
    plan.sources.push_back(std::move(source));
  }
  for (const auto& [name, file] : files.tensors()) {
    if (used.count(name)) continue;
    const int layer = layer_index(name);
    if (c.family == Family::kDeepseekV3 && layer >= c.num_hidden_layers &&
        layer < c.num_hidden_layers + c.num_nextn_predict_layers) {
      ++plan.skipped_mtp_tensors;
      plan.mtp_layers.insert(layer);
    } else if (absl::EndsWith(name, "rotary_emb.inv_freq") ||
               (c.tie_word_embeddings && name == "lm_head.weight")) {
      // Stale buffers and the tied head: nothing of the model.
    } else {
      plan.unexpected.push_back(absl::StrCat(name, "' in '", file));
    }
  }
  return plan;
}

// Shapes and dtypes, before anything is copied.
absl::Status check_source(const Source& s, const CheckpointFiles& files, const std::string& dir) {
  const SafetensorsEntry& e = *s.entry;
  if (at::IntArrayRef(e.shape) != s.target.sizes()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint '", dir, "': tensor '", s.name, "' has shape ", c10::str(at::IntArrayRef(e.shape)),
        " in ", files.file_of(s.name), " but the config needs ", c10::str(s.target.sizes())));
  }
  if (e.fp8_e4m3()) {
    if (s.target.dim() != 2) {
      return absl::InvalidArgumentError(absl::StrCat("checkpoint '", dir, "': tensor '", s.name,
                                                     "' is F8_E4M3 but not a matrix"));
    }
    const SafetensorsEntry& scale = files.entry(s.scale_name);
    if (scale.dtype != at::kFloat && scale.dtype != at::kBFloat16) {
      return absl::InvalidArgumentError(absl::StrCat("checkpoint '", dir, "': tensor '",
                                                     s.scale_name, "' has dtype ",
                                                     scale.dtype_name, ", not F32"));
    }
  } else if (!at::isFloatingType(e.dtype)) {
    return absl::InvalidArgumentError(absl::StrCat("checkpoint '", dir, "': tensor '", s.name,
                                                   "' has non-floating dtype ", e.dtype_name));
  }
  return absl::OkStatus();
}

// Whether every value of t is finite, a slice at a time (no temporary of t's size).
bool all_finite(const at::Tensor& t) {
  constexpr int64_t kChunk = int64_t{1} << 22;
  const at::Tensor flat = t.reshape({-1});
  for (int64_t offset = 0; offset < flat.numel(); offset += kChunk) {
    const int64_t n = std::min(kChunk, flat.numel() - offset);
    if (!flat.narrow(0, offset, n).isfinite().all().item<bool>()) return false;
  }
  return true;
}

absl::Status non_finite(const std::string& dir, const std::string& name) {
  return absl::DataLossError(absl::StrCat("checkpoint '", dir, "': tensor '", name,
                                          "' has non-finite values"));
}

// Copies one source into its target straight from the mapping, kChunkBytes of the file at a
// time, releasing each chunk's pages after it is copied: at most one chunk of the file is resident
// beyond the model itself.
absl::Status copy_source(const Source& s, const CheckpointFiles& files, const Fp8Quantization& fp8,
                         const std::string& dir) {
  constexpr int64_t kChunkBytes = int64_t{16} << 20;
  ASSIGN_OR_RETURN(at::Tensor stored, s.reader->view(s.name));
  at::Tensor target = s.target;
  if (s.entry->fp8_e4m3()) {
    const SafetensorsReader& scale_reader = files.reader_of(s.scale_name);
    ASSIGN_OR_RETURN(at::Tensor scale, scale_reader.view(s.scale_name));
    const int64_t rows = stored.size(0), cols = std::max<int64_t>(stored.size(1), 1);
    const int64_t step = std::max<int64_t>(1, kChunkBytes / cols / fp8.block_rows) * fp8.block_rows;
    const int64_t scale_rows = (rows + fp8.block_rows - 1) / fp8.block_rows;
    if (scale.dim() != 2 || scale.size(0) != scale_rows) {
      return absl::InvalidArgumentError(absl::StrCat(
          "checkpoint '", dir, "': tensor '", s.scale_name, "' has shape ", c10::str(scale.sizes()),
          " but ", fp8.block_rows, "x", fp8.block_cols, " blocks of '", s.name, "' ",
          c10::str(stored.sizes()), " need ", scale_rows, " rows"));
    }
    for (int64_t r0 = 0; r0 < rows; r0 += step) {
      const int64_t n = std::min(step, rows - r0);
      at::Tensor out = target.narrow(0, r0, n);
      absl::Status st = dequantize_fp8_blocks(
          stored.narrow(0, r0, n),
          scale.narrow(0, r0 / fp8.block_rows, (n + fp8.block_rows - 1) / fp8.block_rows),
          fp8.block_rows, fp8.block_cols, out);
      if (!st.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("checkpoint '", dir, "': tensor '", s.name, "': ", st.message()));
      }
      s.reader->release(s.name, r0 * cols, (r0 + n) * cols);
      if (!all_finite(out)) return non_finite(dir, s.name);
    }
    scale_reader.release(s.scale_name);
    return absl::OkStatus();
  }
  // Values are checked before they are copied, so a bad tensor leaves its target untouched.
  if (!target.is_contiguous()) {
    if (!all_finite(stored)) return non_finite(dir, s.name);
    target.copy_(stored);
    s.reader->release(s.name);
    return absl::OkStatus();
  }
  const at::Tensor src = stored.view({-1});
  at::Tensor dst = target.view({-1});
  const int64_t size = static_cast<int64_t>(stored.element_size());
  const int64_t step = std::max<int64_t>(1, kChunkBytes / size);
  for (int64_t offset = 0; offset < src.numel(); offset += step) {
    const int64_t n = std::min(step, src.numel() - offset);
    const at::Tensor in = src.narrow(0, offset, n);
    if (!all_finite(in)) return non_finite(dir, s.name);
    dst.narrow(0, offset, n).copy_(in);
    s.reader->release(s.name, offset * size, (offset + n) * size);
  }
  return absl::OkStatus();
}

std::string human_bytes(int64_t bytes) {
  if (bytes >= (int64_t{1} << 30)) return absl::StrCat(absl::SixDigits(bytes / 1073741824.0), " GiB");
  return absl::StrCat(absl::SixDigits(bytes / 1048576.0), " MiB");
}

}  // namespace

std::string LoadReport::summary() const {
  std::vector<std::string> kinds;
  for (const auto& [dtype, n] : dtypes) kinds.push_back(absl::StrCat(dtype, " x ", n));
  std::string out = absl::StrCat("loaded ", tensors, " tensors (", human_bytes(bytes_read), ": ",
                                 absl::StrJoin(kinds, ", "), ") from ", shards,
                                 shards == 1 ? " file" : " shards", " in ",
                                 absl::SixDigits(seconds), " s");
  if (skipped_mtp_tensors > 0) {
    absl::StrAppend(&out, "; skipped the multi-token-prediction layer",
                    skipped_mtp_layers.size() > 1 ? "s " : " ",
                    absl::StrJoin(skipped_mtp_layers, ", "), " (", skipped_mtp_tensors,
                    " tensors)");
  }
  return out;
}

absl::Status load_weights(ModelImpl& model, const std::string& dir, LoadReport* report) {
  const auto start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(CheckpointFiles files, CheckpointFiles::open(dir));
  Plan plan = plan_load(model, files);
  if (!plan.missing.empty() || !plan.unexpected.empty()) {
    std::vector<std::string> parts;
    if (!plan.missing.empty()) {
      parts.push_back(absl::StrCat(plan.missing.size(), " missing (", listed(plan.missing), ")"));
    }
    if (!plan.unexpected.empty()) {
      parts.push_back(absl::StrCat(plan.unexpected.size(), " unexpected (",
                                   listed(plan.unexpected), ")"));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint '", dir, "' does not match its ", traits_of(model.config().family).model_type,
        " config: tensors ", absl::StrJoin(parts, "; ")));
  }
  for (const Source& s : plan.sources) RETURN_IF_ERROR(check_source(s, files, dir));

  // In file order, so each shard is read front to back.
  std::sort(plan.sources.begin(), plan.sources.end(), [&](const Source& a, const Source& b) {
    return std::make_pair(files.file_of(a.name), a.entry->begin) <
           std::make_pair(files.file_of(b.name), b.entry->begin);
  });
  const Fp8Quantization fp8 = model.config().quantization.value_or(Fp8Quantization{});
  LoadReport out;
  at::NoGradGuard no_grad;
  for (const Source& s : plan.sources) {
    RETURN_IF_ERROR(copy_source(s, files, fp8, dir));
    ++out.tensors;
    ++out.dtypes[s.entry->dtype_name];
    out.bytes_read += s.entry->end - s.entry->begin;
    if (!s.scale_name.empty()) {
      const SafetensorsEntry& scale = files.entry(s.scale_name);
      out.bytes_read += scale.end - scale.begin;
    }
  }
  out.shards = static_cast<int>(files.shards().size());
  out.skipped_mtp_tensors = plan.skipped_mtp_tensors;
  out.skipped_mtp_layers.assign(plan.mtp_layers.begin(), plan.mtp_layers.end());
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (report != nullptr) *report = std::move(out);
  return absl::OkStatus();
}

}  // namespace forge::policy
