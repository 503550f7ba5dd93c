# The math grader's sources (reward/math/), relative to reward/. One list for forge_reward
# (reward/CMakeLists.txt) and for the instrumented copy the fuzzers build (fuzz/CMakeLists.txt).
set(FORGE_REWARD_MATH_SOURCES
  math/text.cpp
  math/big_int.cpp
  math/rational.cpp
  math/math_expr.cpp
  math/latex_normalizer.cpp
  math/math_tokenizer.cpp
  math/expression_parser.cpp
  math/plus_minus.cpp
  math/evaluator.cpp
  math/equivalence.cpp
  math/latex_spans.cpp
  math/answer_extractor.cpp
  math/math_grader.cpp
)
