#pragma once

// The router stage's `indexTS` (contracts §3.6): the event time Druid indexes on, computed from
// the value at the dataset's `keys_config.timestamp_key` exactly as Obsrv's TimestampKeyParser
// (DynamicRouterFunction.scala) does, including its quirks:
//
// - Numbers: Obsrv looks at the length of Jackson's asText() of the number, not at its value:
//   10 characters → seconds ×1000, 13 → milliseconds, 16 → µs /1000, 19 → ns /1e6, any other
//   length → invalid with value 0. The text is Java's: integers in decimal with their '-'
//   (so -1234567890 has 11 characters and is invalid), other numbers as Double.toString
//   ("1711966306.164" becomes "1.711966306164E9", 16 characters: valid, 1711966306 / 1000 ms).
//   The value is numberValue().longValue(): doubles truncated, integers beyond 64 bits wrapped.
//   A number beyond double's range is re-serialized by Obsrv as the JSON string "Infinity".
// - Strings without `timestamp_format`: always valid, indexTS is the string itself.
// - Strings with `timestamp_format` "epoch": Long.parseLong of the text, as milliseconds.
// - Strings with any other `timestamp_format`: a Joda-Time pattern (DateTimeFormat.forPattern),
//   parsed with Joda's rules: the whole text must be consumed, minimum widths are not enforced
//   ("d" reads "01" and "1"), literals and names match case-insensitively (names: as written,
//   all lower or all upper case), fields are range-checked (2023-02-29 is invalid), a day name
//   is not ignored but moves the date within its Monday-Sunday week, no year means 1970 (2000
//   when the first field is a month or day), and the text's zone or offset wins over the
//   default zone. Without one, Joda uses the JVM default zone; Obsrv's jobs run with UTC, so
//   UTC is assumed (index_timestamp_options::default_zone changes it: Obsrv's own tests ran in
//   IST).
// - `dataset_tz` set: the zone's offset at the instant (ms, DST-aware) is ADDED to it, after
//   java.util.TimeZone.getTimeZone(id) and Joda's forTimeZone: an unknown id silently becomes
//   GMT, i.e. offset 0 (diagnostic() says so); "GMT+05:30"-style custom ids are fixed offsets;
//   Java's three-letter ids follow Joda's table ("IST" → Asia/Kolkata, "EST" →
//   America/New_York with DST).
//
// A rule is compiled once per dataset (pattern, zones); evaluate() is allocation-free and
// thread-safe. Zones come from the system tz database (/usr/share/zoneinfo, or $TZDIR) through
// abseil; zones are loaded once per process and never unloaded.
//
// Differences left on purpose (documented rather than reproduced):
// - Non-ASCII input: Java compares UTF-16 units with Unicode case folding and Long.parseLong
//   accepts any Unicode decimal digit; here non-ASCII bytes only match themselves and only
//   ASCII digits are digits.
// - Double.toString is reproduced as the shortest round-trip text (JDK 19+); older JDKs print a
//   needlessly long text for a few doubles (JDK-4511638).
// - Where Obsrv throws outside its try block (an overflow adding the zone offset to an extreme
//   numeric timestamp kills the job), the result here is invalid with a null indexTS.
// - English month, day and AM/PM names (the JVM default locale of Obsrv's images).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "common/result.h"

namespace obsrv::pipeline {

/// The JSON value found at the dataset's timestamp_key, as the router hands it over.
struct timestamp_value {
    enum class type : uint8_t {
        missing,           // no such key
        other,             // null, boolean, object, array
        integer,           // a JSON integer that fits int64 (`int_value`)
        unsigned_integer,  // a JSON integer above INT64_MAX that fits uint64 (`uint_value`)
        floating,          // a JSON number with a fraction or exponent (`double_value`)
        number_literal,    // any JSON number as written (`text`): decides everything by itself
        string             // unescaped string content (`text`)
    };
    type kind = type::missing;
    int64_t int_value = 0;
    uint64_t uint_value = 0;
    double double_value = 0;
    std::string_view text;

    static constexpr timestamp_value missing() noexcept { return {}; }
    static constexpr timestamp_value other() noexcept { return with(type::other); }
    static constexpr timestamp_value integer(int64_t v) noexcept {
        timestamp_value r = with(type::integer);
        r.int_value = v;
        return r;
    }
    static constexpr timestamp_value unsigned_integer(uint64_t v) noexcept {
        timestamp_value r = with(type::unsigned_integer);
        r.uint_value = v;
        return r;
    }
    static constexpr timestamp_value floating(double v) noexcept {
        timestamp_value r = with(type::floating);
        r.double_value = v;
        return r;
    }
    /// The number's literal from the event bytes ("1.5e3", "12345678901234567890123"). Prefer it
    /// when known: Jackson's node type (int, long, BigInteger, double) and its text follow from
    /// the literal, and it covers numbers the parsed document only holds patched.
    static constexpr timestamp_value number_literal(std::string_view literal) noexcept {
        timestamp_value r = with(type::number_literal);
        r.text = literal;
        return r;
    }
    static constexpr timestamp_value string(std::string_view unescaped) noexcept {
        timestamp_value r = with(type::string);
        r.text = unescaped;
        return r;
    }
    /// From a parsed simdjson element; `number_literal`, when not empty, is the number's text as
    /// written in the event and then takes precedence over the element's numeric value.
    static timestamp_value from_element(simdjson::dom::element value,
                                        std::string_view number_literal = {}) noexcept;

  private:
    static constexpr timestamp_value with(type t) noexcept {
        timestamp_value r;
        r.kind = t;
        return r;
    }
};

/// The router's indexTS for one event.
struct index_ts {
    enum class type : uint8_t {
        millis,  // JSON number `millis` (an invalid number gives 0 here, as Obsrv writes 0)
        text,    // JSON string `text` (a view of the input, or a static "Infinity")
        null     // JSON null
    };
    bool valid = false;  // false → ERR_ROUTER_1019 (master datasets are routed anyway)
    type kind = type::null;
    int64_t millis = 0;
    std::string_view text;

    bool operator==(const index_ts&) const = default;

    static constexpr index_ts null() noexcept { return {}; }
    static constexpr index_ts number(bool is_valid, int64_t ms) noexcept {
        index_ts r;
        r.valid = is_valid;
        r.kind = type::millis;
        r.millis = ms;
        return r;
    }
    static constexpr index_ts string(std::string_view s) noexcept {
        index_ts r;
        r.valid = true;
        r.kind = type::text;
        r.text = s;
        return r;
    }
};

struct index_timestamp_options {
    /// The zone of patterns without zone or offset: the JVM default zone of Obsrv's jobs.
    std::string_view default_zone = "UTC";
    /// Joda's two-digit-year pivot is (current year - 30) when the pattern is compiled; 0 takes
    /// the current year from the clock.
    int current_year = 0;
};

namespace detail {
struct ts_zone;  // a resolved zone, owned by a process-wide registry

// One element of a compiled Joda pattern.
struct ts_element {
    uint8_t op = 0;     // what to parse (see index_timestamp.cc)
    uint8_t field = 0;  // the field it saves
    uint8_t max_digits = 0;
    bool flag = false;  // signed number / lenient two-digit year
    uint32_t literal_offset = 0;
    uint32_t literal_size = 0;
};
}  // namespace detail

/// A dataset's compiled indexTS rule: its timestamp_format and dataset_tz.
class index_timestamp_rule {
  public:
    /// `timestamp_format`: nullopt when the dataset has none (strings are then used as they
    /// are), "epoch", or a Joda pattern. `dataset_tz`: nullopt when not set. Fails on pattern
    /// tokens Joda knows but this parser does not (era, century, week-year fields), on patterns
    /// with too many fields, and when a known zone cannot be loaded. A pattern Joda itself
    /// rejects ("yyyy-MM-ddTHH") compiles: as in Obsrv every string timestamp is then invalid,
    /// and diagnostic() says why.
    static result<index_timestamp_rule> compile(std::optional<std::string_view> timestamp_format,
                                                std::optional<std::string_view> dataset_tz,
                                                const index_timestamp_options& options = {});

    index_ts evaluate(const timestamp_value& value) const noexcept;

    /// Not empty when the dataset's settings behave surprisingly (an unknown zone taken as GMT,
    /// a pattern Joda rejects), for a warning at dataset load.
    const std::string& diagnostic() const noexcept { return _diagnostic; }

  private:
    enum class format_kind : uint8_t { none, epoch, pattern, invalid_pattern };

    index_ts evaluate_number(const timestamp_value& value) const noexcept;
    index_ts evaluate_string(std::string_view text) const noexcept;
    struct saved_field {
        uint8_t field;
        int64_t value;
    };
    bool parse_pattern(std::string_view text, int64_t& instant) const noexcept;
    static bool compute_local(saved_field* saved, size_t count, int64_t& local) noexcept;
    bool add_dataset_tz(int64_t& instant) const noexcept;

    format_kind _format = format_kind::none;
    std::vector<detail::ts_element> _elements;
    std::string _literals;
    const detail::ts_zone* _dataset_tz = nullptr;  // null: no dataset_tz
    const detail::ts_zone* _default_zone = nullptr;
    int _two_digit_pivot = 0;
    bool _plain_fields = false;  // each field once, calendar fields only: direct computation
    std::string _diagnostic;
};

}  // namespace obsrv::pipeline
