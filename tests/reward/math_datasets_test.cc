// The math grader on real data: every GSM8K gold solution graded as a completion against its own
// "#### N" answer (right), and with N changed (wrong); every MATH-500 answer graded right inside
// \boxed{} against itself, and after obvious rewrites: \frac <-> decimal, \frac <-> \dfrac, a/b,
// spacing; and an integer answer plus one graded wrong.
#include <cctype>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "reward/math/math_grader.h"

namespace forge::reward::math {
namespace {

std::vector<nlohmann::json> read_jsonl(const std::string& name) {
  std::ifstream in(std::string(FORGE_TEST_DATA_DIR) + "/datasets/" + name);
  std::vector<nlohmann::json> rows;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  }
  return rows;
}

bool is_int(const std::string& s) {
  size_t i = s.size() > 1 && s[0] == '-' ? 1 : 0;
  if (i >= s.size()) return false;
  for (; i < s.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

// "#### 2,125" -> "2,125".
std::string gsm8k_answer(const std::string& solution) {
  size_t at = solution.rfind("####");
  std::string a = solution.substr(at + 4);
  size_t b = a.find_first_not_of(' ');
  size_t e = a.find_last_not_of(" \n");
  return a.substr(b, e - b + 1);
}

TEST(MathDatasets, Gsm8kGoldSolutionsGradeRightAndAChangedAnswerGradesWrong) {
  std::vector<nlohmann::json> rows = read_jsonl("gsm8k_test.jsonl");
  ASSERT_EQ(rows.size(), 1319u);
  MathOptions options;
  int right = 0, wrong_rejected = 0;
  for (const auto& row : rows) {
    const std::string solution = row.at("answer");
    const std::string gold = gsm8k_answer(solution);
    auto v = grade_completion(solution, gold, options);
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_TRUE(v->correct) << "gold " << gold << " extracted " << v->extracted << ": "
                            << v->detail;
    right += v->correct;
    // The same solution ending in a different number.
    std::string digits;
    for (char c : gold) {
      if (c != ',') digits += c;
    }
    ASSERT_TRUE(is_int(digits)) << gold;
    std::string changed = std::to_string(std::stoll(digits) + 1);
    std::string bad = solution.substr(0, solution.rfind("####")) + "#### " + changed;
    auto w = grade_completion(bad, gold, options);
    ASSERT_TRUE(w.ok()) << w.status();
    EXPECT_FALSE(w->correct) << "gold " << gold << " graded right against " << changed;
    wrong_rejected += !w->correct;
  }
  std::cout << "GSM8K: " << right << "/" << rows.size() << " gold solutions right, "
            << wrong_rejected << "/" << rows.size() << " changed answers wrong\n";
}

// Decimal form of a/b when b has only the prime factors 2 and 5 ("" otherwise).
std::string terminating_decimal(long long a, long long b) {
  if (b <= 0) return "";
  long long m = b;
  int twos = 0, fives = 0;
  while (m % 2 == 0) {
    m /= 2;
    ++twos;
  }
  while (m % 5 == 0) {
    m /= 5;
    ++fives;
  }
  if (m != 1) return "";
  int places = std::max(twos, fives);
  long long scale = 1;
  for (int i = 0; i < places; ++i) scale *= 10;
  long long scaled = a * (scale / b);
  bool neg = scaled < 0;
  if (neg) scaled = -scaled;
  std::string digits = std::to_string(scaled);
  while (static_cast<int>(digits.size()) <= places) digits = "0" + digits;
  std::string out = digits.substr(0, digits.size() - places);
  if (places > 0) out += "." + digits.substr(digits.size() - places);
  return (neg ? "-" : "") + out;
}

// Parses "\frac{a}{b}", "\dfrac{a}{b}", "-\frac{a}{b}", "\frac ab" with integer a, b.
bool plain_fraction(const std::string& s, long long* a, long long* b) {
  std::string t = s;
  bool neg = false;
  if (!t.empty() && t[0] == '-') {
    neg = true;
    t = t.substr(1);
  }
  for (const char* cmd : {"\\frac", "\\dfrac", "\\tfrac"}) {
    if (t.rfind(cmd, 0) == 0) {
      t = t.substr(std::string(cmd).size());
      break;
    }
  }
  std::string num, den;
  if (t.size() > 2 && t[0] == '{') {
    size_t c = t.find('}');
    if (c == std::string::npos || c + 1 >= t.size() || t[c + 1] != '{' || t.back() != '}') {
      return false;
    }
    num = t.substr(1, c - 1);
    den = t.substr(c + 2, t.size() - c - 3);
  } else if (t.size() == 3 && t[0] == ' ') {
    num = t.substr(1, 1);
    den = t.substr(2, 1);
  } else {
    return false;
  }
  if (!is_int(num) || !is_int(den) || num.size() > 9 || den.size() > 9) return false;
  *a = std::stoll(num) * (neg ? -1 : 1);
  *b = std::stoll(den);
  return *b != 0;
}

// Spaces kept only between two letters or digits ("3 \pm 2 \sqrt{2}" -> "3\pm2\sqrt{2}").
std::string squeeze_spaces(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == ' ') {
      bool keep = !out.empty() && i + 1 < s.size() && std::isalnum(out.back()) &&
                  std::isalnum(static_cast<unsigned char>(s[i + 1]));
      if (keep) out += ' ';
      continue;
    }
    out += s[i];
  }
  return out;
}

// A space after each comma and around '=' and '+'.
std::string spread_spaces(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == ',') {
      out += ", ";
    } else if (c == '=' || c == '+') {
      out += std::string(" ") + c + " ";
    } else {
      out += c;
    }
  }
  return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) {
    s.replace(at, from.size(), to);
  }
  return s;
}

TEST(MathDatasets, Math500BoxedAnswersAndObviousRewritesGradeRight) {
  std::vector<nlohmann::json> rows = read_jsonl("math500_test.jsonl");
  ASSERT_EQ(rows.size(), 500u);
  MathOptions options;
  int boxed_right = 0, rewrites = 0, rewrites_right = 0, negatives = 0, negatives_wrong = 0;
  auto expect_right = [&](const std::string& pred, const std::string& gold, const char* what) {
    ++rewrites;
    auto v = grade_prediction(pred, gold, options);
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_TRUE(v->correct) << what << ": [" << pred << "] vs gold [" << gold << "]: " << v->detail;
    rewrites_right += v->correct;
  };
  for (const auto& row : rows) {
    const std::string gold = row.at("answer");
    auto v = grade_completion("So the answer is $\\boxed{" + gold + "}$.", gold, options);
    ASSERT_TRUE(v.ok()) << v.status();
    EXPECT_TRUE(v->correct) << "[" << gold << "] extracted [" << v->extracted << "]: " << v->detail;
    boxed_right += v->correct;

    if (gold.find("\\frac") != std::string::npos) {
      expect_right(replace_all(gold, "\\frac", "\\dfrac"), gold, "\\dfrac");
      expect_right(replace_all(gold, "\\frac", "\\tfrac"), gold, "\\tfrac");
    }
    if (gold.find("\\dfrac") != std::string::npos) {
      expect_right(replace_all(gold, "\\dfrac", "\\frac"), gold, "\\frac");
    }
    std::string squeezed = squeeze_spaces(gold);
    if (squeezed != gold) expect_right(squeezed, gold, "spaces removed");
    std::string spread = spread_spaces(gold);
    if (spread != gold) expect_right(spread, gold, "spaces added");
    long long a = 0, b = 1;
    if (plain_fraction(gold, &a, &b)) {
      expect_right(std::to_string(a) + "/" + std::to_string(b), gold, "a/b");
      std::string dec = terminating_decimal(a, b);
      if (!dec.empty()) {
        expect_right(dec, gold, "decimal");
        expect_right(gold, dec, "decimal gold");
      }
    }
    if (is_int(gold) && gold.size() < 15) {
      expect_right(gold + ".0", gold, "trailing zero");
      ++negatives;
      auto w = grade_prediction(std::to_string(std::stoll(gold) + 1), gold, options);
      ASSERT_TRUE(w.ok());
      EXPECT_FALSE(w->correct) << gold << " + 1 graded right";
      negatives_wrong += !w->correct;
    }
  }
  std::cout << "MATH-500: " << boxed_right << "/500 boxed answers right; " << rewrites_right << "/"
            << rewrites << " rewrites right; " << negatives_wrong << "/" << negatives
            << " integer+1 answers wrong\n";
}

}  // namespace
}  // namespace forge::reward::math
