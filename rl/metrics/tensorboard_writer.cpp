#include "rl/metrics/tensorboard_writer.h"

#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "base/file_util.h"
#include "rl/metrics/crc32c.h"
#include "tensorboard/event.pb.h"

namespace forge::rl {
namespace {

void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t get_le(const std::string& s, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v |= uint64_t(static_cast<uint8_t>(s[at + i])) << (8 * i);
  return v;
}

}  // namespace

TensorBoardWriter::TensorBoardWriter(std::string path)
    : path_(std::move(path)), out_(path_, std::ios::binary | std::ios::app) {}

absl::StatusOr<TensorBoardWriter> TensorBoardWriter::open(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  char host[256] = "localhost";
  ::gethostname(host, sizeof(host) - 1);
  const auto now = std::chrono::system_clock::now();
  const double seconds = std::chrono::duration<double>(now.time_since_epoch()).count();
  const std::string path =
      absl::StrCat(dir, "/events.out.tfevents.", static_cast<int64_t>(seconds), ".", host, ".",
                   ::getpid());
  TensorBoardWriter writer(path);
  if (!writer.out_) return absl::PermissionDeniedError(absl::StrCat("cannot write '", path, "'"));
  tensorboard::Event version;
  version.set_wall_time(seconds);
  version.set_file_version("brain.Event:2");
  absl::Status st = writer.write_record(version.SerializeAsString());
  if (!st.ok()) return st;
  return writer;
}

absl::Status TensorBoardWriter::add_scalars(int64_t step, const std::map<std::string, double>& values,
                                            double wall_time) {
  tensorboard::Event event;
  event.set_wall_time(wall_time);
  event.set_step(step);
  tensorboard::Summary* summary = event.mutable_summary();
  for (const auto& [tag, value] : values) {
    tensorboard::SummaryValue* v = summary->add_value();
    v->set_tag(tag);
    v->set_simple_value(static_cast<float>(value));
  }
  return write_record(event.SerializeAsString());
}

absl::Status TensorBoardWriter::write_record(const std::string& data) {
  // TFRecord: uint64 length, uint32 masked crc of the length, data, uint32 masked crc of the data.
  std::string record;
  put_u64(record, data.size());
  put_u32(record, masked_crc32c(record.data(), 8));
  record += data;
  put_u32(record, masked_crc32c(data.data(), data.size()));
  out_.write(record.data(), static_cast<std::streamsize>(record.size()));
  out_.flush();
  if (!out_) return absl::DataLossError(absl::StrCat("write to '", path_, "' failed"));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> read_tfrecords(const std::string& path) {
  absl::StatusOr<std::string> file = read_file(path);
  if (!file.ok()) return file.status();
  const std::string& s = *file;
  std::vector<std::string> records;
  size_t at = 0;
  while (at < s.size()) {
    if (s.size() - at < 12) return absl::DataLossError(absl::StrCat(path, ": truncated header"));
    const uint64_t length = get_le(s, at, 8);
    if (get_le(s, at + 8, 4) != masked_crc32c(s.data() + at, 8)) {
      return absl::DataLossError(absl::StrCat(path, ": bad length CRC at byte ", at));
    }
    if (s.size() - at - 12 < length + 4) {
      return absl::DataLossError(absl::StrCat(path, ": truncated record at byte ", at));
    }
    std::string data = s.substr(at + 12, length);
    if (get_le(s, at + 12 + length, 4) != masked_crc32c(data.data(), data.size())) {
      return absl::DataLossError(absl::StrCat(path, ": bad data CRC at byte ", at));
    }
    records.push_back(std::move(data));
    at += 12 + length + 4;
  }
  return records;
}

}  // namespace forge::rl
