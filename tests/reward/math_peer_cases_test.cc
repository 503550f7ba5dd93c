// Agreement with the verdicts that public graders' own test suites assert
// (tests/data/peer-cases/math_equivalence.jsonl; see its README). Each row is graded as a
// completion or as an already-extracted prediction, as its `input` field says. A row whose peer
// call sets Math-Verify's `precision=N` (its float_rounding) is graded with float_rounding = N: the
// peer asserts its verdict under that option (`(1/3, 1/5)` equals `(0.33, 0.2)` at 2 places, not at
// 6). The bar is 96% agreement on the `core` rows; the agreement with every row graded at our
// defaults is reported too, and the `questionable` rows are reported, not scored. No row is
// special-cased: the figures below are what the grader does on its own.
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <regex>
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

// The float_rounding the row's peer call asks for ("... precision=2) [...]"), else the default.
int peer_float_rounding(const std::string& note) {
  static const std::regex kPrecision(R"(peer call:[^;]*?precision=(\d+))");
  std::smatch m;
  if (std::regex_search(note, m, kPrecision)) return std::stoi(m[1].str());
  return MathOptions().float_rounding;
}

TEST(MathPeerCases, AgreementOnCoreRowsIsAtLeast96Percent) {
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
  Tally core_lenient_percent, core_defaults;
  while (std::getline(in, line)) {
    ++row;
    if (line.empty()) continue;
    nlohmann::json j = nlohmann::json::parse(line);
    const std::string source = j.at("source");
    const std::string gold = j.at("gold");
    const std::string pred = j.at("prediction");
    const bool expected = j.at("equivalent");
    const bool is_core = j.at("tier") == "core";
    const bool completion = j.at("input") == "completion";
    MathOptions peer = options;
    peer.float_rounding = peer_float_rounding(j.at("note"));
    absl::StatusOr<MathVerdict> v =
        completion ? grade_completion(pred, gold, peer) : grade_prediction(pred, gold, peer);
    ASSERT_TRUE(v.ok()) << "row " << row << ": " << v.status();
    const bool agree = v->correct == expected;
    if (is_core) {
      absl::StatusOr<MathVerdict> d = completion ? grade_completion(pred, gold, options)
                                                 : grade_prediction(pred, gold, options);
      ASSERT_TRUE(d.ok()) << "row " << row << ": " << d.status();
      core_defaults.total++;
      core_defaults.agree += d->correct == expected;
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
            << core_lenient_percent.total << " core rows; every row at our defaults, the peers' "
            << "precision options ignored: " << core_defaults.agree << "/" << core_defaults.total
            << ")\n";
  ASSERT_GT(core.total, 400);
  EXPECT_GE(static_cast<double>(core.agree) / core.total, 0.96)
      << "agreement on core peer cases fell below 96% (set FORGE_PEER_CASES_VERBOSE=1 to list "
         "the disagreements)";
}

}  // namespace
}  // namespace forge::reward::math
