// Finds the final answer in a model's completion (or in a gold reference), as an ordered list of
// candidate strings: the grader takes the first one that parses.
//
// Completion, in order:
//  0. Reasoning is skipped: only text after the last </think> (or another closing tag named
//     *think* / *reason*) counts; an opened <think> that never closes yields no answer.
//  1. The content of the last <answer>...</answer>, when present, replaces the text.
//  2. "final answer is X" (the Minerva / lm-eval phrasing "Final Answer: The final answer is X.").
//  3. The last \boxed{...} / \fbox{...} (nested braces; several boxes joined by ",", "and", "or",
//     \quad or a short \text{} become one list: "\boxed{1} and \boxed{2}" -> "1, 2").
//  4. A GSM8K "#### 72" line.
//  5. "answer is X" / "answer: X".
//  6. The rightmost of: the last math span ($...$, $$...$$, \(...\), \[...\], spans joined by
//     ",", "and", "or"), and the last number or arithmetic run in plain text ("1,000.99", "2,74"
//     as a decimal comma, "4 4/9", "28%"). Numbers glued to letters ("AZYUK2A") do not count, and
//     text inside a math span never supplies a plain number.
// A value may carry a percent sign written after it ("$28$ %"): it is kept.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace forge::reward::math {

struct AnswerCandidate {
  std::string text;
  std::string source;  // "answer-tag" | "final-answer" | "boxed" | "####" | "answer-is" |
                       // "math-span" | "plain-number" | "reference"
};

std::vector<AnswerCandidate> extract_candidates(std::string_view completion);

// Candidates from a gold reference: its \boxed{} / math span / "#### N" when it has one, the
// full extraction when it reads like a solution, else the whole string.
std::vector<AnswerCandidate> reference_candidates(std::string_view gold);

// A multiple-choice letter A-E that the text names on its own ("A. because", "(C)", "... B is
// right"), preferring one at the very start, else the last; '\0' when there is none.
char extract_choice_letter(std::string_view text);

}  // namespace forge::reward::math
