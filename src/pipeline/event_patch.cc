#include "pipeline/event_patch.h"

#include "common/json_text.h"
#include "common/json_writer.h"

namespace obsrv::pipeline {

void event_patch::clear() {
    _nodes.assign(1, node{});
    _values.clear();
}

int32_t event_patch::find_child(int32_t parent, std::string_view key) const {
    for (int32_t c = _nodes[static_cast<size_t>(parent)].first_child; c >= 0;
         c = _nodes[static_cast<size_t>(c)].next_sibling) {
        if (_nodes[static_cast<size_t>(c)].key == key) {
            return c;
        }
    }
    return -1;
}

int32_t event_patch::add_child(int32_t parent, std::string_view key) {
    const auto index = static_cast<int32_t>(_nodes.size());
    node n;
    n.key = key;
    _nodes.push_back(n);
    node& p = _nodes[static_cast<size_t>(parent)];
    if (p.last_child < 0) {
        p.first_child = index;
    } else {
        _nodes[static_cast<size_t>(p.last_child)].next_sibling = index;
    }
    p.last_child = index;
    return index;
}

// The node at `path`, its ancestors made objects (a value merged with an object becomes that
// object) and itself emptied, ready to take a leaf (anything merged with a leaf becomes it).
int32_t event_patch::leaf(std::span<const std::string> path) {
    int32_t current = 0;
    for (size_t i = 0; i < path.size(); ++i) {
        int32_t child = find_child(current, path[i]);
        if (child < 0) {
            child = add_child(current, path[i]);
        }
        node& c = _nodes[static_cast<size_t>(child)];
        if (i + 1 == path.size() || c.type != kind::object) {
            c.type = kind::object;
            c.first_child = -1;
            c.last_child = -1;
        }
        current = child;
    }
    return current;
}

void event_patch::set_string(std::span<const std::string> path, std::string_view text) {
    if (path.empty()) {
        return;
    }
    const int32_t n = leaf(path);
    node& target = _nodes[static_cast<size_t>(n)];
    target.type = kind::string;
    target.value_offset = static_cast<uint32_t>(_values.size());
    target.value_size = static_cast<uint32_t>(text.size());
    _values.append(text);
}

void event_patch::remove(std::span<const std::string> path) {
    if (path.empty()) {
        return;
    }
    _nodes[static_cast<size_t>(leaf(path))].type = kind::removal;
}

void event_patch::render(int32_t n, std::string& out) const {
    const node& self = _nodes[static_cast<size_t>(n)];
    if (self.type == kind::string) {
        append_json_string(out, value(self));
        return;
    }
    out.push_back('{');
    bool first = true;
    for (int32_t c = self.first_child; c >= 0; c = _nodes[static_cast<size_t>(c)].next_sibling) {
        const node& child = _nodes[static_cast<size_t>(c)];
        if (child.type == kind::removal) {
            continue;
        }
        if (!first) {
            out.push_back(',');
        }
        first = false;
        append_json_string(out, child.key);
        out.push_back(':');
        render(c, out);
    }
    out.push_back('}');
}

void event_patch::apply_member(int32_t n, const json_text::member_span& m, bool& first,
                               std::string& out) {
    int32_t match = -1;
    for (int32_t c = _nodes[static_cast<size_t>(n)].first_child; c >= 0;
         c = _nodes[static_cast<size_t>(c)].next_sibling) {
        const node& child = _nodes[static_cast<size_t>(c)];
        if (!child.merged && json_text::raw_key_equals(m.raw_key, child.key)) {
            match = c;
            break;
        }
    }
    if (match >= 0 && _nodes[static_cast<size_t>(match)].type == kind::removal) {
        _nodes[static_cast<size_t>(match)].merged = true;
        return;
    }
    if (!first) {
        out.push_back(',');
    }
    first = false;
    if (match < 0) {
        out.append(json_text::member_text(m));
        return;
    }
    node& child = _nodes[static_cast<size_t>(match)];
    child.merged = true;
    out.push_back('"');
    out.append(m.raw_key);
    out.append("\":");
    const std::string_view value_json = json_text::trim(m.value);
    if (child.type == kind::object && !value_json.empty() && value_json.front() == '{') {
        apply_object(match, value_json, out);
    } else {
        render(match, out);
    }
}

void event_patch::append_new_members(int32_t n, bool& first, std::string& out) const {
    for (int32_t c = _nodes[static_cast<size_t>(n)].first_child; c >= 0;
         c = _nodes[static_cast<size_t>(c)].next_sibling) {
        const node& child = _nodes[static_cast<size_t>(c)];
        if (child.merged || child.type == kind::removal) {
            continue;
        }
        if (!first) {
            out.push_back(',');
        }
        first = false;
        append_json_string(out, child.key);
        out.push_back(':');
        render(c, out);
    }
}

void event_patch::apply_object(int32_t n, std::string_view object_json, std::string& out) {
    out.push_back('{');
    bool first = true;
    json_text::member_cursor cursor(object_json.data(), object_json.data() + object_json.size());
    json_text::member_span m;
    while (cursor.next(m)) {
        apply_member(n, m, first, out);
    }
    append_new_members(n, first, out);
    out.push_back('}');
}

void event_patch::apply(std::span<const json_text::member_span> members, std::string& out) {
    for (node& n : _nodes) {
        n.merged = false;
    }
    out.push_back('{');
    bool first = true;
    for (const json_text::member_span& m : members) {
        apply_member(0, m, first, out);
    }
    append_new_members(0, first, out);
    out.push_back('}');
}

}  // namespace obsrv::pipeline
