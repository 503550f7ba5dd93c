// libFuzzer target for the math grader: normaliser, parser, evaluator, equivalence and extraction.
// Input layout: the bytes up to the first NUL are the completion / prediction, the rest is the
// gold answer (a fixed gold when there is no NUL). Every call must return (no crash, no sanitizer
// report, no hang): the grader runs without a deadline here, so only its own structural and work
// bounds keep it finite, and libFuzzer's -timeout catches any input that escapes them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "reward/math/expression_parser.h"
#include "reward/math/latex_normalizer.h"
#include "reward/math/math_grader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t nul = input.find('\0');
  std::string_view pred = input.substr(0, nul);
  std::string_view gold =
      nul == std::string_view::npos ? std::string_view("\\frac{1}{2}") : input.substr(nul + 1);
  forge::reward::math::MathOptions options;  // no deadline: the bounds alone must hold
  auto c = forge::reward::math::grade_completion(pred, gold, options);
  auto p = forge::reward::math::grade_prediction(pred, gold, options);
  // Symmetry of the plain parse path on the gold, for extra coverage.
  forge::reward::math::WorkBudget budget(std::chrono::steady_clock::time_point::max());
  auto e = forge::reward::math::parse_answer(forge::reward::math::normalize_answer(gold), &budget);
  // A grading error may only be a work-limit verdict, never anything else.
  if (!c.ok() || !p.ok()) __builtin_trap();
  (void)e;
  return 0;
}
