#include "base/file_util.h"

#include <unistd.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace {

namespace fs = std::filesystem;

class FileUtilTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("forge-file-util-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(FileUtilTest, WhatIsWrittenAtomicallyIsReadBackWholeWithNoTemporaryLeft) {
  std::string contents(300000, '\0');  // binary, and larger than one read
  for (size_t i = 0; i < contents.size(); ++i) contents[i] = static_cast<char>(i * 7);
  const std::string path = (dir_ / "data.bin").string();
  ASSERT_TRUE(forge::write_file_atomic(path, "old").ok());
  ASSERT_TRUE(forge::write_file_atomic(path, contents).ok());
  auto read = forge::read_file(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, contents);
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(FileUtilTest, ReadErrorsAreStatusesThatNameThePath) {
  const std::string missing = (dir_ / "missing.txt").string();
  auto gone = forge::read_file(missing);
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(gone.status().message().find(missing), std::string::npos) << gone.status();
  // A folder opens but cannot be read: an error, not an empty file.
  auto folder = forge::read_file(dir_.string());
  EXPECT_EQ(folder.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(folder.status().message().find(dir_.string()), std::string::npos) << folder.status();
}

TEST_F(FileUtilTest, ProcFilesAreReadWhole) {
  // /proc files report size 0: the read must not trust the size.
  auto cmdline = forge::read_file("/proc/self/cmdline");
  ASSERT_TRUE(cmdline.ok()) << cmdline.status();
  EXPECT_NE(cmdline->find("base_tests"), std::string::npos);
  auto status = forge::read_file("/proc/self/status");
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_NE(status->find("VmRSS:"), std::string::npos);
}

}  // namespace
