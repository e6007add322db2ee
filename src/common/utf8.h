#pragma once

// Text that arrives as bytes and must leave as UTF-8 (JSON output) whatever it held.

#include <string>
#include <string_view>

namespace obsrv {

/// `bytes` with every ill-formed UTF-8 sequence replaced by U+FFFD exactly as Java's
/// `new String(bytes, UTF_8)` does it, since Obsrv keeps a record it cannot parse that way: one
/// U+FFFD per maximal subpart (Unicode 15 §3.9, "U+FFFD Substitution of Maximal Subparts"),
/// except that an encoded surrogate (0xED 0xA0..0xBF ...) is read like any other three-byte
/// sequence and replaced by one U+FFFD for as much of it as is there (Unicode: one per byte).
/// Well-formed input comes back unchanged.
std::string replace_invalid_utf8(std::string_view bytes);

}  // namespace obsrv
