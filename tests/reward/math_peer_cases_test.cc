// Agreement with the verdicts that public graders' own test suites assert
// (tests/data/peer-cases/math_equivalence.jsonl; see its README). Each row is graded as a
// completion or as an already-extracted prediction, as its `input` field says. The bar is 95%
// agreement on the `core` rows; the `questionable` rows are reported, not scored. No row is
// special-cased: the figures below are what the grader does on its own.
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "reward/math/math_grader.h"

namespace forge::reward::math {
namespace {

struct Tally {
  int agree = 0;
  int total = 0;
};

TEST(MathPeerCases, AgreementOnCoreRowsIsAtLeast95Percent) {
  std::ifstream in(std::string(FORGE_TEST_DATA_DIR) + "/peer-cases/math_equivalence.jsonl");
  ASSERT_TRUE(in.good()) << "missing tests/data/peer-cases/math_equivalence.jsonl";
  std::map<std::string, Tally> core_by_source, questionable_by_source;
  Tally core, questionable;
  std::string line;
  int row = 0;
  const bool verbose = std::getenv("FORGE_PEER_CASES_VERBOSE") != nullptr;
  MathOptions options;
  MathOptions lenient_percent;  // reported only: the percent_either_way option switched on
  lenient_percent.percent_either_way = true;
  Tally core_lenient_percent;
  while (std::getline(in, line)) {
    ++row;
    if (line.empty()) continue;
    nlohmann::json j = nlohmann::json::parse(line);
    const std::string source = j.at("source");
    const std::string gold = j.at("gold");
    const std::string pred = j.at("prediction");
    const bool expected = j.at("equivalent");
    const bool is_core = j.at("tier") == "core";
    absl::StatusOr<MathVerdict> v = j.at("input") == "completion"
                                        ? grade_completion(pred, gold, options)
                                        : grade_prediction(pred, gold, options);
    ASSERT_TRUE(v.ok()) << "row " << row << ": " << v.status();
    const bool agree = v->correct == expected;
    if (is_core) {
      absl::StatusOr<MathVerdict> l = j.at("input") == "completion"
                                          ? grade_completion(pred, gold, lenient_percent)
                                          : grade_prediction(pred, gold, lenient_percent);
      ASSERT_TRUE(l.ok()) << "row " << row << ": " << l.status();
      core_lenient_percent.total++;
      core_lenient_percent.agree += l->correct == expected;
    }
    Tally& t = is_core ? core_by_source[source] : questionable_by_source[source];
    Tally& all = is_core ? core : questionable;
    t.total++;
    all.total++;
    t.agree += agree;
    all.agree += agree;
    if (!agree && (verbose || !is_core)) {
      std::cout << (is_core ? "DISAGREE core " : "DISAGREE questionable ") << "row " << row
                << " expected=" << expected << " extracted=[" << v->extracted.substr(0, 80)
                << "] detail=" << v->detail << "\n    gold=" << gold.substr(0, 120)
                << "\n    pred=" << pred.substr(0, 160) << "\n";
    }
  }
  auto print = [](const char* title, const std::map<std::string, Tally>& m, const Tally& all) {
    std::cout << title << "\n";
    for (const auto& [src, t] : m) {
      std::cout << "  " << std::setw(6) << std::fixed << std::setprecision(1)
                << 100.0 * t.agree / t.total << "%  " << std::setw(3) << t.agree << "/"
                << std::setw(3) << t.total << "  " << src << "\n";
    }
    std::cout << "  " << std::setw(6) << std::fixed << std::setprecision(1)
              << (all.total ? 100.0 * all.agree / all.total : 0.0) << "%  " << std::setw(3)
              << all.agree << "/" << std::setw(3) << all.total << "  ALL\n";
  };
  print("math peer cases, core rows (agreement with the peer's asserted verdict):", core_by_source,
        core);
  print("math peer cases, questionable rows (reported only):", questionable_by_source,
        questionable);
  std::cout << "  (with percent_either_way=true: " << core_lenient_percent.agree << "/"
            << core_lenient_percent.total << " core rows)\n";
  ASSERT_GT(core.total, 400);
  EXPECT_GE(static_cast<double>(core.agree) / core.total, 0.95)
      << "agreement on core peer cases fell below 95% (set FORGE_PEER_CASES_VERBOSE=1 to list "
         "the disagreements)";
}

}  // namespace
}  // namespace forge::reward::math
