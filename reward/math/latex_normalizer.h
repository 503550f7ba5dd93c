// Normalises an extracted answer before parsing and before the exact-string comparison:
// strips math delimiters ($, \(, \[) and \boxed wrappers, \left/\right and sizing commands, LaTeX
// spacing (\, \! \; \quad ~), \displaystyle; \dfrac/\tfrac/\cfrac -> \frac; degrees (^\circ, °);
// \% -> %; \$ and $ dropped; font wrappers (\mathrm, \mathbf, \textbf, ...) unwrapped; \text{...}
// after a number dropped as a unit, \text{ and } turned into a list separator, any other \text{}
// unwrapped; relation spellings unified (\leq, <=, \geqslant, \neq, !=, \lt ...); thousands
// separators {,} and ",\!" removed; "\\frac" (an escaped backslash) repaired; trailing punctuation
// and trailing unit words ("cm", "dollars", ...) removed; whitespace collapsed.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace forge::reward::math {

std::string normalize_answer(std::string_view raw);

// The form used for the exact-string comparison: the normalised answer with spaces removed except
// where they separate two letters or digits ("4 4/9" keeps its space, "x + 1" becomes "x+1").
std::string canonical_string(std::string_view normalized);

// True for a LaTeX command name (without the backslash) that this grader knows; used to repair
// "\\frac" to "\frac" and by the parser.
bool is_known_command(std::string_view name);

}  // namespace forge::reward::math
