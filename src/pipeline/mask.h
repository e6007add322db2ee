#pragma once

// Obsrv's `mask` transformation of one text value (MaskTransformer with bancolombia's
// MaskUtils), reproduced exactly, Java's UTF-16 lengths included:
//   - empty → empty;
//   - e-mail (Java regex ^(.+)@(\S+)$): the part before the first '@' keeps its first 2 and last
//     1 characters with '*' for each one between; then '@' and the part up to the next '@';
//   - anything else: open = ceil(length × 0.35) characters stay visible, floor(open / 2) at the
//     start and the rest at the end, '*' for each one between; blank text (Java whitespace only)
//     is returned unchanged;
//   - then every '"' is removed.
// Lengths count UTF-16 code units as Java does; a cut through a surrogate pair leaves half a
// character, which Java's UTF-8 encoder writes as '?', and so does this.

#include <string>
#include <string_view>

namespace obsrv::pipeline {

/// `text` (UTF-8) masked; the result is appended to `out`.
void obsrv_mask(std::string_view text, std::string& out);

}  // namespace obsrv::pipeline
