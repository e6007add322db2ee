#pragma once

// The results of a dataset's transformations, merged into the event as Obsrv does: each result
// is a nested object built from a dotted field key, the results are merged into one object, and
// that object is merged into the event, with json4s `merge` semantics:
//   - an object merged into an object merges member by member (the first member of a name);
//   - anything else is replaced by the merged-in value;
//   - members only in the merged-in object are appended, in their order.
// A leaf is a string or a removal. Removal stands for the null Obsrv writes for a failed
// transformation, which its serialiser then leaves out: the member disappears, while the
// objects on its path are still created.
//
// The event's members the patch does not reach are copied byte for byte (numbers keep their
// digits); objects the patch reaches are written without whitespace between their members.
//
// Reused per event by one worker: clear() keeps the allocations.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/json_text.h"

namespace obsrv::pipeline {

class event_patch {
  public:
    void clear();
    bool empty() const { return _nodes.size() <= 1; }

    /// Sets the string (UTF-8 text) at `path`; later assignments merge over earlier ones.
    /// The path's strings must outlive the patch's use.
    void set_string(std::span<const std::string> path, std::string_view value);
    /// Removes the member at `path` (Obsrv's null).
    void remove(std::span<const std::string> path);

    /// Appends the event whose top-level members are `members` (scanned from validated text)
    /// with the patch merged in.
    void apply(std::span<const json_text::member_span> members, std::string& out);

  private:
    enum class kind : uint8_t { object, string, removal };
    struct node {
        std::string_view key;
        kind type = kind::object;
        uint32_t value_offset = 0;  // kind::string: its text in _values
        uint32_t value_size = 0;
        int32_t first_child = -1;
        int32_t last_child = -1;
        int32_t next_sibling = -1;
        bool merged = false;  // apply(): already matched to a member of the event
    };

    int32_t leaf(std::span<const std::string> path);
    int32_t find_child(int32_t parent, std::string_view key) const;
    int32_t add_child(int32_t parent, std::string_view key);
    void apply_object(int32_t n, std::string_view object_json, std::string& out);
    /// One member of the event at node `n`'s level: copied, replaced, merged or dropped.
    void apply_member(int32_t n, const json_text::member_span& m, bool& first, std::string& out);
    void append_new_members(int32_t n, bool& first, std::string& out) const;
    void render(int32_t n, std::string& out) const;
    std::string_view value(const node& n) const {
        return std::string_view(_values).substr(n.value_offset, n.value_size);
    }

    std::vector<node> _nodes{node{}};  // [0] is the root object
    std::string _values;
};

}  // namespace obsrv::pipeline
