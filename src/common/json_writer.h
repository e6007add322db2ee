#pragma once

// Small streaming JSON writer for control-plane output (admin endpoints, JSON
// log lines, obsrvctl --json). Hot paths build their bytes directly.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace obsrv {

/// Appends `text` as a quoted JSON string; UTF-8 passes through, control
/// characters, quotes and backslashes are escaped.
void append_json_string(std::string& out, std::string_view text);

/// Usage: json_writer w; w.begin_object().key("a").value(1).end_object(); w.str().
/// Commas are inserted automatically; nesting is tracked, not validated.
class json_writer {
  public:
    json_writer& begin_object();
    json_writer& end_object();
    json_writer& begin_array();
    json_writer& end_array();
    json_writer& key(std::string_view name);
    json_writer& value(std::string_view text);
    json_writer& value(const char* text) { return value(std::string_view(text)); }
    json_writer& value(int64_t number);
    json_writer& value(uint64_t number);
    json_writer& value(int number) { return value(static_cast<int64_t>(number)); }
    json_writer& value(double number);
    json_writer& value(bool flag);
    json_writer& null();
    /// Inserts already-serialised JSON as one value.
    json_writer& raw(std::string_view json);

    const std::string& str() const { return _out; }
    std::string take() { return std::move(_out); }

  private:
    void before_value();

    std::string _out;
    std::vector<bool> _has_items;  // per open container: whether a comma is needed
    bool _after_key = false;
};

}  // namespace obsrv
