#pragma once

// ECMA-262 regular expressions (JSON Schema "pattern", "patternProperties")
// rewritten for RE2. RE2 guarantees linear-time matching, so an event cannot
// make a worker spin on a hostile pattern; the price is that backreferences
// and lookaround have no translation and are refused at compile time.
//
// Semantics follow ECMA-262 with the "u" flag, as JSON Schema recommends:
// the pattern and the subject are Unicode code points (RE2 runs in UTF-8).
// '.' excludes line terminators; \s is ECMA's Unicode white-space set; '$'
// matches only at the end of the subject.

#include <string>
#include <string_view>

#include "common/result.h"

namespace obsrv::schema::detail {

/// RE2 syntax for `pattern`, or an error saying which construct is not
/// supported (the message has no "data_schema:" prefix; the caller adds the
/// location).
obsrv::result<std::string> translate_ecma_regex(std::string_view pattern);

}  // namespace obsrv::schema::detail
