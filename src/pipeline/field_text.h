#pragma once

// How Obsrv's mask and encrypt transformations read their input (the `customExtract[String]`
// of TransformerFunction): the value at a dotted path by json4s's `\` operator, then json4s's
// extract[String].
//   - `\ name` on an object gives its members of that name; on an array, the members of that
//     name of its elements (arrays inside arrays too); one match is the value, several make an
//     array, none is "missing".
//   - extract[String]: a string as it is; an integer in decimal; any other number as Java's
//     Double.toString (Obsrv reads it as a double). Anything else is not text (Obsrv:
//     ERR_TRANSFORM_1024): missing, several matches, object, array, boolean, and null (on which
//     Obsrv's job throws).
// Works on the event's JSON text (already validated), so numbers are read from their literal.

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_text.h"

namespace obsrv::pipeline {

/// Obsrv's split of a dotted key (Java String.split on '.'): empty parts kept except at the
/// end ("a..b" → a, "", b; "a." → a; "" → one empty part; "." → none).
std::vector<std::string> split_dotted(std::string_view dotted);

/// Reads field texts from one event at a time; keeps its buffers between events (one per
/// worker). The event's top-level members are scanned once per event, in begin(), and shared
/// with whoever rewrites the event (members()).
class field_reader {
  public:
    /// Scans the members of the object `event_json` (validated text, which must outlive the
    /// reads); false when it is not an object.
    bool begin(std::string_view event_json);

    /// The text at `path` of the current event, into `out` (replaced); false when the value is
    /// not text as described above.
    bool read(std::span<const std::string> path, std::string& out);

    std::span<const json_text::member_span> members() const { return _members; }

  private:
    std::vector<json_text::member_span> _members;
    std::vector<std::string_view> _current;
    std::vector<std::string_view> _next;
};

/// Java's Double.toString(d) for finite d: "0.001", "1.0", "1234567.0", "1.0E7", "1.5E-4",
/// "-0.0"; shortest digits that read back to d.
void append_java_double(double d, std::string& out);

}  // namespace obsrv::pipeline
