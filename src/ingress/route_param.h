#pragma once

// The dataset id in an ingest route's path, decoded as Obsrv's Express router decodes route
// parameters: decodeURIComponent, whose URIError Express answers with 400 "Failed to decode
// param". That covers a malformed escape (`%zz`, `%4`) and escapes whose bytes are not UTF-8
// (`%FF`, an overlong `%C0%80`, a surrogate `%ED%A0%80`, a cut sequence `%E2%82`): the id is
// echoed in error bodies, which must stay valid JSON text.

#include <string>
#include <string_view>

namespace obsrv::ingress {

/// Percent-decodes `raw` into `out`; false when an escape is malformed or the decoded bytes
/// are not UTF-8 (then `out` holds no meaningful value).
bool decode_route_param(std::string_view raw, std::string& out);

}  // namespace obsrv::ingress
