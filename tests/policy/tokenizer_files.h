// The real Hugging Face tokenizers the tests read (scripts/fetch_tokenizers.sh puts them in
// FORGE_TOKENIZER_DIR, /var/cache/forge/tokenizers by default; the environment variable of that
// name overrides the path CMake compiled in) and the Rust library's reference ids committed in
// tests/policy/tokenizer_reference/. A missing file fails the test with the command that fetches
// it.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "policy/hf/hf_tokenizer.h"

namespace forge::policy::testing {

inline std::string tokenizer_dir() {
  const char* env = std::getenv("FORGE_TOKENIZER_DIR");
  return env != nullptr && *env != '\0' ? env : FORGE_TOKENIZER_DIR;
}

inline std::string reference_dir() {
  return std::string(FORGE_SOURCE_DIR) + "/tests/policy/tokenizer_reference";
}

// "deepseek_v3" or "qwen3": the folder holding its tokenizer.json and tokenizer_config.json.
inline std::string tokenizer_folder(const std::string& name) {
  return tokenizer_dir() + "/" + name;
}

// The tokenizer, loaded once per process; nullptr (and a test failure saying how to fetch it)
// when its files are missing.
inline const hf::HfTokenizer* real_tokenizer(const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, std::unique_ptr<hf::HfTokenizer>> loaded;
  std::lock_guard<std::mutex> lock(mu);
  auto it = loaded.find(name);
  if (it != loaded.end()) return it->second.get();
  const std::string folder = tokenizer_folder(name);
  if (!std::filesystem::exists(folder + "/tokenizer.json")) {
    ADD_FAILURE() << folder << "/tokenizer.json is missing: run scripts/setup.sh (or "
                  << "scripts/fetch_tokenizers.sh), or point FORGE_TOKENIZER_DIR at its cache";
    return nullptr;
  }
  auto tokenizer = hf::HfTokenizer::load(folder);
  if (!tokenizer.ok()) {
    ADD_FAILURE() << tokenizer.status();
    return nullptr;
  }
  return (loaded[name] = std::move(tokenizer).value()).get();
}

// One parsed JSON value per line of a JSONL file.
inline std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(nlohmann::json::parse(line));
  }
  return lines;
}

inline std::vector<std::string> corpus_texts() {
  std::vector<std::string> texts;
  for (const auto& line : read_jsonl(reference_dir() + "/corpus.jsonl")) {
    texts.push_back(line.at("text").get<std::string>());
  }
  return texts;
}

}  // namespace forge::policy::testing
