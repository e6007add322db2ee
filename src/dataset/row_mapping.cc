#include "dataset/row_mapping.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <map>

namespace obsrv::dataset {
namespace {

std::string_view trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
        text.remove_prefix(1);
    }
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
        text.remove_suffix(1);
    }
    return text;
}

std::string lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

// Java's Long.parseLong / Integer.parseInt: an optional sign, then decimal digits only.
std::optional<int64_t> parse_java_integer(std::string_view text, int64_t min, int64_t max) {
    if (!text.empty() && text.front() == '+') {
        text.remove_prefix(1);
        if (!text.empty() && text.front() == '-') {
            return std::nullopt;
        }
    }
    int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min ||
        value > max) {
        return std::nullopt;
    }
    return value;
}

class resolver {
  public:
    resolver(const std::vector<system_setting_row>& rows, const system_settings& previous,
             resolved_system_settings& out)
        : _previous(previous), _out(out) {
        // Obsrv caches the rows by lower-cased key; with two spellings of a key, the one read
        // last wins there and here (rows come ordered by key).
        for (const auto& row : rows) {
            _rows[lower(row.key)] = &row;
        }
    }

    // The row of `key` when its valuetype is `type`; nullptr when absent (default applies) or
    // reported (previous value applies: *kept is set).
    const system_setting_row* find(std::string_view key, std::string_view type, bool& kept) {
        kept = false;
        auto it = _rows.find(lower(key));
        if (it == _rows.end()) {
            return nullptr;
        }
        const system_setting_row& row = *it->second;
        if (lower(row.valuetype) != type) {  // equalsIgnoreCase, as SystemConfig
            report(row.key, fmt::format("field 'valuetype': expected '{}' (Obsrv reads {} as a "
                                        "{}), got '{}'",
                                        type, key, type, row.valuetype));
            kept = true;
            return nullptr;
        }
        return &row;
    }

    void report(std::string_view key, std::string_view what) {
        std::string origin = fmt::format("system_settings '{}'", key);
        _out.errors.push_back(
            {origin, fmt::format("{}: {}; keeping the previous value", origin, what)});
    }

    void string_setting(std::string_view key, std::string system_settings::*field) {
        bool kept = false;
        if (const auto* row = find(key, "string", kept)) {
            _out.values.*field = row->value;
        } else if (kept) {
            _out.values.*field = _previous.*field;
        }
    }

    void integer_setting(std::string_view key, std::string_view type, int64_t min, int64_t max,
                         int64_t system_settings::*field) {
        bool kept = false;
        const auto* row = find(key, type, kept);
        if (!row) {
            if (kept) {
                _out.values.*field = _previous.*field;
            }
            return;
        }
        auto value = parse_java_integer(row->value, min, max);
        if (!value) {
            report(row->key, fmt::format("field 'value': expected an integer between {} and {}, "
                                         "got '{}'",
                                         min, max, row->value));
            _out.values.*field = _previous.*field;
            return;
        }
        _out.values.*field = *value;
    }

  private:
    std::map<std::string, const system_setting_row*> _rows;
    const system_settings& _previous;
    resolved_system_settings& _out;
};

}  // namespace

result<std::string> dataset_document(std::string_view row_json,
                                     std::optional<std::string_view> transformations_json) {
    std::string_view row = trim(row_json);
    if (row.size() < 2 || row.front() != '{' || row.back() != '}') {
        return make_error("the row is not a JSON object");
    }
    if (!transformations_json) {
        return std::string(row);
    }
    std::string_view transformations = trim(*transformations_json);
    if (transformations.size() < 2 || transformations.front() != '[' ||
        transformations.back() != ']') {
        return make_error("its dataset_transformations rows are not a JSON array");
    }
    std::string_view members = trim(row.substr(1, row.size() - 2));
    std::string out;
    out.reserve(row.size() + transformations.size() + 32);
    out += '{';
    out += members;
    if (!members.empty()) {
        out += ',';
    }
    out += R"("transformations_config":)";
    out += transformations;
    out += '}';
    return out;
}

std::string dataset_row_origin(std::string_view id) {
    return fmt::format("datasets row '{}'", id);
}

resolved_system_settings resolve_system_settings(const std::vector<system_setting_row>& rows,
                                                 const system_settings& previous) {
    resolved_system_settings out;
    resolver r(rows, previous, out);
    r.string_setting("encryptionSecretKey", &system_settings::encryption_secret_key);
    // An event cannot be smaller than a byte; dedup keys need a positive TTL (Redis SETEX).
    r.integer_setting("maxEventSize", "long", 1, std::numeric_limits<int64_t>::max(),
                      &system_settings::max_event_size);
    r.integer_setting("defaultDedupPeriodInSeconds", "int", 1, std::numeric_limits<int32_t>::max(),
                      &system_settings::default_dedup_period_seconds);
    r.string_setting("defaultDatasetId", &system_settings::default_dataset_id);
    return out;
}

}  // namespace obsrv::dataset
