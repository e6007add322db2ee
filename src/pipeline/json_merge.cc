#include "pipeline/json_merge.h"

#include <algorithm>
#include <vector>

#include <simdjson.h>

#include "common/json_text.h"

namespace obsrv::pipeline {
namespace {

// A JSON value over its text: scalars keep their bytes, containers their children.
struct node {
    enum class kind : uint8_t { object, array, scalar };
    kind what = kind::scalar;
    std::string_view text;                                  // scalar: the raw bytes
    std::vector<std::pair<std::string_view, node>> fields;  // object: raw key (with quotes)
    std::vector<node> items;                                // array
};

constexpr int k_max_depth = 1024;  // simdjson's default; deeper text is refused

const char* parse_value(const char* p, const char* end, node& out, int depth);

const char* parse_object(const char* p, const char* end, node& out, int depth) {
    out.what = node::kind::object;
    p = json_text::skip_ws(p + 1, end);
    if (p != nullptr && p < end && *p == '}') {
        return p + 1;
    }
    while (p != nullptr && p < end && *p == '"') {
        const char* key_end = json_text::skip_string(p, end);
        if (key_end == nullptr) {
            return nullptr;
        }
        const std::string_view key(p, static_cast<size_t>(key_end - p));
        p = json_text::skip_ws(key_end, end);
        if (p == nullptr || p >= end || *p != ':') {
            return nullptr;
        }
        p = json_text::skip_ws(p + 1, end);
        node value;
        p = parse_value(p, end, value, depth + 1);
        if (p == nullptr) {
            return nullptr;
        }
        out.fields.emplace_back(key, std::move(value));
        p = json_text::skip_ws(p, end);
        if (p == nullptr || p >= end) {
            return nullptr;
        }
        if (*p == '}') {
            return p + 1;
        }
        if (*p != ',') {
            return nullptr;
        }
        p = json_text::skip_ws(p + 1, end);
    }
    return nullptr;
}

const char* parse_array(const char* p, const char* end, node& out, int depth) {
    out.what = node::kind::array;
    p = json_text::skip_ws(p + 1, end);
    if (p != nullptr && p < end && *p == ']') {
        return p + 1;
    }
    while (p != nullptr && p < end) {
        node value;
        p = parse_value(p, end, value, depth + 1);
        if (p == nullptr) {
            return nullptr;
        }
        out.items.push_back(std::move(value));
        p = json_text::skip_ws(p, end);
        if (p == nullptr || p >= end) {
            return nullptr;
        }
        if (*p == ']') {
            return p + 1;
        }
        if (*p != ',') {
            return nullptr;
        }
        p = json_text::skip_ws(p + 1, end);
    }
    return nullptr;
}

const char* parse_value(const char* p, const char* end, node& out, int depth) {
    if (p == nullptr || p >= end || depth > k_max_depth) {
        return nullptr;
    }
    if (*p == '{') {
        return parse_object(p, end, out, depth);
    }
    if (*p == '[') {
        return parse_array(p, end, out, depth);
    }
    const char* value_end = json_text::skip_value(p, end);
    if (value_end == nullptr) {
        return nullptr;
    }
    out.what = node::kind::scalar;
    out.text = std::string_view(p, static_cast<size_t>(value_end - p));
    return value_end;
}

bool parse_document(std::string_view text, node& out) {
    const char* end = text.data() + text.size();
    const char* p = json_text::skip_ws(text.data(), end);
    p = parse_value(p, end, out, 0);
    p = p == nullptr ? nullptr : json_text::skip_ws(p, end);
    return p == end;
}

bool equal(const node& a, const node& b) {
    if (a.what != b.what) {
        return false;
    }
    switch (a.what) {
        case node::kind::scalar:
            return a.text == b.text;
        case node::kind::array:
            return std::equal(a.items.begin(), a.items.end(), b.items.begin(), b.items.end(),
                              equal);
        case node::kind::object:
            // As sets of members (json4s: obj.toSet == other.obj.toSet).
            if (a.fields.size() != b.fields.size()) {
                return false;
            }
            for (const auto& [key, value] : a.fields) {
                const bool found = std::any_of(
                    b.fields.begin(), b.fields.end(),
                    [&](const auto& f) { return f.first == key && equal(f.second, value); });
                if (!found) {
                    return false;
                }
            }
            return true;
    }
    return false;
}

node merge(node&& a, node&& b);

// json4s Merge.mergeFields: old members first (merged with a same-named new one), then the new
// members that were not used.
void merge_fields(node& a, node&& b) {
    std::vector<bool> used(b.fields.size(), false);
    for (auto& [key, value] : a.fields) {
        for (size_t i = 0; i < b.fields.size(); ++i) {
            if (!used[i] && b.fields[i].first == key) {
                value = merge(std::move(value), std::move(b.fields[i].second));
                used[i] = true;
                break;
            }
        }
    }
    for (size_t i = 0; i < b.fields.size(); ++i) {
        if (!used[i]) {
            a.fields.push_back(std::move(b.fields[i]));
        }
    }
}

// json4s Merge.mergeVals: each old element merged with the first equal new one left.
void merge_items(node& a, node&& b) {
    std::vector<bool> used(b.items.size(), false);
    for (auto& value : a.items) {
        for (size_t i = 0; i < b.items.size(); ++i) {
            if (!used[i] && equal(b.items[i], value)) {
                value = merge(std::move(value), std::move(b.items[i]));
                used[i] = true;
                break;
            }
        }
    }
    for (size_t i = 0; i < b.items.size(); ++i) {
        if (!used[i]) {
            a.items.push_back(std::move(b.items[i]));
        }
    }
}

node merge(node&& a, node&& b) {
    if (a.what == node::kind::object && b.what == node::kind::object) {
        merge_fields(a, std::move(b));
        return std::move(a);
    }
    if (a.what == node::kind::array && b.what == node::kind::array) {
        merge_items(a, std::move(b));
        return std::move(a);
    }
    return std::move(b);
}

void write(const node& n, std::string& out) {
    switch (n.what) {
        case node::kind::scalar:
            out.append(n.text);
            return;
        case node::kind::array:
            out.push_back('[');
            for (size_t i = 0; i < n.items.size(); ++i) {
                if (i > 0) {
                    out.push_back(',');
                }
                write(n.items[i], out);
            }
            out.push_back(']');
            return;
        case node::kind::object:
            out.push_back('{');
            for (size_t i = 0; i < n.fields.size(); ++i) {
                if (i > 0) {
                    out.push_back(',');
                }
                out.append(n.fields[i].first);
                out.push_back(':');
                write(n.fields[i].second, out);
            }
            out.push_back('}');
            return;
    }
}

}  // namespace

bool is_json_object(std::string_view text) {
    thread_local simdjson::dom::parser parser;
    thread_local std::string padded;
    simdjson::dom::element root;
    if (parser.parse(text.data(), text.size(), true).get(root) != simdjson::SUCCESS) {
        padded.assign(text);
        padded.resize(text.size() + simdjson::SIMDJSON_PADDING, ' ');
        json_text::patch_big_numbers(padded.data(), padded.data() + text.size());
        if (parser.parse(padded.data(), text.size(), false).get(root) != simdjson::SUCCESS) {
            return false;
        }
    }
    return root.is_object();
}

bool merge_json(std::string_view old_json, std::string_view new_json, std::string& out) {
    node incoming;
    if (!parse_document(new_json, incoming)) {
        return false;
    }
    out.clear();
    out.reserve(old_json.size() + new_json.size());
    if (json_text::trim(old_json).empty()) {
        write(incoming, out);
        return true;
    }
    node existing;
    if (!parse_document(old_json, existing)) {
        return false;
    }
    write(merge(std::move(existing), std::move(incoming)), out);
    return true;
}

}  // namespace obsrv::pipeline
