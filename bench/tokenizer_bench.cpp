// tokenizer_bench: Hugging Face tokenizer throughput on 1 MB of mixed text (the lines of
// tests/policy/tokenizer_reference/corpus.jsonl -- English, code, numbers, LaTeX, CJK, Korean,
// Arabic, emoji, special tokens, long words -- cycled until 1 MB), for DeepSeek-V3's and Qwen3's
// real tokenizer.json: load time, tokens/s single-threaded, and over a batch of the lines split
// across all cores. bench/tokenizer_bench_rust.js measures the Rust library on the same text.
//
//   build/bench/tokenizer_bench [--mb 1] [--repeat 3] [--write-text PATH]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "policy/hf/hf_tokenizer.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// Corpus lines (non-empty) cycled until `bytes`.
std::vector<std::string> mixed_text(size_t bytes) {
  std::ifstream in(std::string(FORGE_SOURCE_DIR) +
                   "/tests/policy/tokenizer_reference/corpus.jsonl");
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    std::string text = nlohmann::json::parse(line).at("text");
    if (!text.empty()) lines.push_back(text);
  }
  std::vector<std::string> docs;
  size_t total = 0;
  for (size_t i = 0; total < bytes && !lines.empty(); ++i) {
    docs.push_back(lines[i % lines.size()]);
    total += docs.back().size();
  }
  return docs;
}

// Tokens produced encoding every doc, on `threads` threads (docs handed out in order).
int64_t encode_all(const forge::policy::hf::HfTokenizer& tok, const std::vector<std::string>& docs,
                   int threads) {
  std::atomic<size_t> next{0};
  std::atomic<int64_t> tokens{0};
  auto work = [&] {
    int64_t n = 0;
    for (size_t i = next++; i < docs.size(); i = next++) n += tok.encode(docs[i]).size();
    tokens += n;
  };
  if (threads == 1) {
    work();
  } else {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back(work);
    for (auto& t : pool) t.join();
  }
  return tokens;
}

}  // namespace

int main(int argc, char** argv) {
  double mb = 1.0;
  int repeat = 3;
  std::string write_text;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--mb") mb = std::atof(argv[i + 1]);
    if (flag == "--repeat") repeat = std::max(1, std::atoi(argv[i + 1]));
    if (flag == "--write-text") write_text = argv[i + 1];
  }
  const std::vector<std::string> docs = mixed_text(static_cast<size_t>(mb * 1e6));
  size_t bytes = 0;
  for (const auto& d : docs) bytes += d.size();
  if (!write_text.empty()) {
    std::ofstream out(write_text);
    for (const auto& d : docs) out << nlohmann::json(d).dump() << "\n";
  }
  const char* env = std::getenv("FORGE_TOKENIZER_DIR");
  const std::string dir = env != nullptr && *env != '\0' ? env : FORGE_TOKENIZER_DIR;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  std::printf(
      "tokenizer_bench: %zu docs, %.2f MB of mixed text; best of %d runs; batch on %d "
      "threads\n\n",
      docs.size(), bytes / 1e6, repeat, cores);
  std::printf(
      "| tokenizer   | load s | tokens  | 1 thread tok/s | 1 thread MB/s | batch tok/s | "
      "batch MB/s |\n");
  std::printf(
      "|-------------|--------|---------|----------------|---------------|-------------|"
      "------------|\n");
  for (const char* name : {"deepseek_v3", "qwen3"}) {
    const auto load_start = Clock::now();
    auto tok = forge::policy::hf::HfTokenizer::load(dir + "/" + name);
    const double load_s = seconds_since(load_start);
    if (!tok.ok()) {
      std::fprintf(stderr, "tokenizer_bench: %s (run scripts/fetch_tokenizers.sh)\n",
                   std::string(tok.status().message()).c_str());
      return 1;
    }
    double best1 = 1e9, bestn = 1e9;
    int64_t tokens = 0;
    for (int r = 0; r < repeat; ++r) {
      auto t = Clock::now();
      tokens = encode_all(**tok, docs, 1);
      best1 = std::min(best1, seconds_since(t));
      t = Clock::now();
      encode_all(**tok, docs, cores);
      bestn = std::min(bestn, seconds_since(t));
    }
    std::printf("| %-11s | %6.2f | %7lld | %14.0f | %13.2f | %11.0f | %10.2f |\n", name, load_s,
                static_cast<long long>(tokens), tokens / best1, bytes / best1 / 1e6, tokens / bestn,
                bytes / bestn / 1e6);
  }
  return 0;
}
