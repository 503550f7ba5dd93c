#include "policy/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace forge::policy {
namespace {

using nlohmann::json;

constexpr int64_t kMaxHeaderBytes = int64_t{100} << 20;

const std::vector<std::pair<std::string, at::ScalarType>>& dtype_names() {
  static const std::vector<std::pair<std::string, at::ScalarType>> names = {
      {"F64", at::kDouble}, {"F32", at::kFloat},  {"F16", at::kHalf}, {"BF16", at::kBFloat16},
      {"I64", at::kLong},   {"I32", at::kInt},    {"I16", at::kShort}, {"I8", at::kChar},
      {"U8", at::kByte},    {"BOOL", at::kBool}};
  return names;
}

// Dtypes the reader accepts beyond dtype_names(): stored as raw bytes.
constexpr char kFp8E4m3[] = "F8_E4M3";

absl::StatusOr<std::string> dtype_to_name(at::ScalarType t) {
  for (const auto& [name, type] : dtype_names()) {
    if (type == t) return name;
  }
  return absl::InvalidArgumentError(absl::StrCat("safetensors: unsupported dtype ", c10::toString(t)));
}

absl::Status errno_error(const std::string& what, const std::string& path) {
  return absl::InternalError(absl::StrCat(what, " '", path, "': ", std::strerror(errno)));
}

absl::Status write_all(int fd, const void* data, size_t size, const std::string& path) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno_error("cannot write", path);
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status write_safetensors(const std::string& path,
                               const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                               const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<at::Tensor> data;
  int64_t offset = 0;
  for (const auto& [name, tensor] : tensors) {
    at::Tensor t = tensor.detach().to(at::kCPU).contiguous();
    auto dtype = dtype_to_name(t.scalar_type());
    if (!dtype.ok()) return absl::InvalidArgumentError(absl::StrCat(dtype.status().message(), " (tensor '", name, "')"));
    const int64_t bytes = t.numel() * static_cast<int64_t>(t.element_size());
    header[name] = {{"dtype", *dtype}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    data.push_back(t);
  }
  std::string head = header.dump();
  head.append((8 - head.size() % 8) % 8, ' ');  // align the data section to 8 bytes
  const uint64_t n = head.size();
  uint8_t len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(n >> (8 * i));

  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno_error("cannot create", path);
  absl::Status st = write_all(fd, len, 8, path);
  if (st.ok()) st = write_all(fd, head.data(), head.size(), path);
  for (size_t i = 0; st.ok() && i < data.size(); ++i) {
    st = write_all(fd, data[i].data_ptr(), data[i].numel() * data[i].element_size(), path);
  }
  if (st.ok() && ::fsync(fd) != 0) st = errno_error("cannot fsync", path);
  if (::close(fd) != 0 && st.ok()) st = errno_error("cannot close", path);
  return st;
}

struct SafetensorsReader::Mapping {
  void* addr = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (addr != nullptr && addr != MAP_FAILED) ::munmap(addr, size);
  }
};

absl::StatusOr<SafetensorsReader> SafetensorsReader::open(const std::string& path) {
  SafetensorsReader r;
  r.path_ = path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(absl::StrCat("cannot open '", path, "': ", std::strerror(errno)));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return errno_error("cannot stat", path);
  }
  const int64_t size = st.st_size;
  auto bad = [&](const std::string& why) {
    return absl::DataLossError(absl::StrCat("safetensors file '", path, "': ", why));
  };
  if (size < 8) {
    ::close(fd);
    return bad("shorter than its 8-byte header length");
  }
  r.mapping_ = std::make_shared<Mapping>();
  r.mapping_->size = static_cast<size_t>(size);
  r.mapping_->addr = ::mmap(nullptr, r.mapping_->size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (r.mapping_->addr == MAP_FAILED) return errno_error("cannot map", path);
  const auto* bytes = static_cast<const uint8_t*>(r.mapping_->addr);
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(bytes[i]) << (8 * i);
  if (n > static_cast<uint64_t>(kMaxHeaderBytes) || static_cast<int64_t>(n) > size - 8) {
    return bad(absl::StrCat("header length ", n, " does not fit the file (", size, " bytes)"));
  }
  json header;
  try {
    header = json::parse(bytes + 8, bytes + 8 + n);
  } catch (const json::exception& e) {
    return bad(absl::StrCat("invalid JSON header: ", e.what()));
  }
  if (!header.is_object()) return bad("header is not a JSON object");
  r.data_ = bytes + 8 + n;
  const int64_t data_size = size - 8 - static_cast<int64_t>(n);
  for (const auto& item : header.items()) {
    if (item.key() == "__metadata__") {
      if (!item.value().is_object()) return bad("__metadata__ is not an object");
      for (const auto& m : item.value().items()) {
        if (m.value().is_string()) r.metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string& name = item.key();
    const json& v = item.value();
    SafetensorsEntry e;
    try {
      e.dtype_name = v.at("dtype").get<std::string>();
      e.shape = v.at("shape").get<std::vector<int64_t>>();
      const auto offsets = v.at("data_offsets").get<std::vector<int64_t>>();
      if (offsets.size() != 2) return bad(absl::StrCat("tensor '", name, "': data_offsets needs 2 values"));
      e.begin = offsets[0];
      e.end = offsets[1];
    } catch (const json::exception& ex) {
      return bad(absl::StrCat("tensor '", name, "': ", ex.what()));
    }
    bool known = false;
    for (const auto& [dname, type] : dtype_names()) {
      if (dname == e.dtype_name) {
        e.dtype = type;
        known = true;
      }
    }
    if (e.dtype_name == kFp8E4m3) {
      e.dtype = at::kByte;
      known = true;
    }
    if (!known) return bad(absl::StrCat("tensor '", name, "': unsupported dtype ", e.dtype_name));
    int64_t numel = 1;
    for (int64_t d : e.shape) {
      if (d < 0) return bad(absl::StrCat("tensor '", name, "': negative dimension"));
      numel *= d;
    }
    const int64_t expect = numel * static_cast<int64_t>(c10::elementSize(e.dtype));
    if (e.begin < 0 || e.end < e.begin || e.end > data_size || e.end - e.begin != expect) {
      return bad(absl::StrCat("tensor '", name, "': data_offsets [", e.begin, ", ", e.end,
                              ") do not match shape [", absl::StrJoin(e.shape, ", "), "] of ",
                              e.dtype_name, " within ", data_size, " data bytes"));
    }
    r.entries_[name] = std::move(e);
  }
  return r;
}

absl::StatusOr<at::Tensor> SafetensorsReader::read(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    return absl::NotFoundError(absl::StrCat("safetensors file '", path_, "' has no tensor '", name, "'"));
  }
  const SafetensorsEntry& e = it->second;
  at::Tensor t = at::empty(e.shape, at::TensorOptions().dtype(e.dtype));
  if (e.end > e.begin) std::memcpy(t.data_ptr(), data_ + e.begin, static_cast<size_t>(e.end - e.begin));
  return t;
}

absl::StatusOr<at::Tensor> SafetensorsReader::view(const std::string& name) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) {
    return absl::NotFoundError(absl::StrCat("safetensors file '", path_, "' has no tensor '", name, "'"));
  }
  const SafetensorsEntry& e = it->second;
  if (e.end == e.begin) return at::empty(e.shape, at::TensorOptions().dtype(e.dtype));
  std::shared_ptr<Mapping> keep = mapping_;
  // from_blob never writes; the mapping is PROT_READ, so a write would fault rather than corrupt.
  return at::from_blob(const_cast<uint8_t*>(data_ + e.begin), e.shape,
                       [keep](void*) mutable { keep.reset(); },
                       at::TensorOptions().dtype(e.dtype));
}

void SafetensorsReader::release(const std::string& name, int64_t from, int64_t to) const {
  auto it = entries_.find(name);
  if (it == entries_.end()) return;
  const SafetensorsEntry& e = it->second;
  if (to < 0 || to > e.end - e.begin) to = e.end - e.begin;
  if (from >= to) return;
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = reinterpret_cast<uintptr_t>(data_ + e.begin + from) & ~(page - 1);
  const uintptr_t end = reinterpret_cast<uintptr_t>(data_ + e.begin + to);
  // Pages shared with a neighbouring tensor are dropped too; they are re-read when touched.
  ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

int64_t SafetensorsReader::file_size() const { return static_cast<int64_t>(mapping_->size); }

}  // namespace forge::policy
