#pragma once

// RFC 3986 reference resolution for $id/$ref, enough for JSON Schema: split
// into scheme/authority/path/query/fragment, merge and remove dot segments.
// Only used at compile time.

#include <string>
#include <string_view>

namespace obsrv::schema::detail {

/// Resolves `ref` against `base` (RFC 3986 §5.2). An empty base leaves a
/// relative reference as it is, with dot segments removed.
std::string resolve_uri(std::string_view base, std::string_view ref);

/// Splits "uri#fragment" into the part before '#' and the fragment (without
/// '#'); has_fragment says whether a '#' was present.
struct split_uri {
    std::string_view base;
    std::string_view fragment;
    bool has_fragment = false;
};
split_uri split_fragment(std::string_view uri);

/// Decodes %XX escapes (a JSON pointer or anchor in a URI fragment).
std::string percent_decode(std::string_view text);

}  // namespace obsrv::schema::detail
