#pragma once

// The deep merge the cache indexer applies to master records: Obsrv's
// `existingJson merge newJson` (json4s Merge.merge, MasterDataCache.scala), on JSON text.
//
//   object + object  the old members in their order, each merged with the new member of the
//                    same name if there is one, then the new members the old one lacked;
//   array + array    the old elements in order, each merged with the first equal new element
//                    (which is then used up), then the new elements left over;
//   anything else    the new value.
// Equality is structural (objects compare as sets of members, as json4s' JObject does);
// scalars compare by their text, so 1 and 1.0 differ (they do in json4s too). The result is
// compact JSON (json4s compact(render)); scalars keep their bytes as written, so numbers are
// never rounded.

#include <string>
#include <string_view>

namespace obsrv::pipeline {

/// Whether `text` is one valid JSON object (numbers beyond double or 64 bits accepted, as
/// Jackson does). Thread-safe.
bool is_json_object(std::string_view text);

/// `old_json` merged with `new_json`, compact; `old_json` empty means no old record (the result
/// is then `new_json` made compact). Both must be valid JSON (see is_json_object); returns
/// false, leaving `out` unspecified, on text that is not.
bool merge_json(std::string_view old_json, std::string_view new_json, std::string& out);

}  // namespace obsrv::pipeline
