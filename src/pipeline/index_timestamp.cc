#include "pipeline/index_timestamp.h"

#include <absl/time/civil_time.h>
#include <absl/time/time.h>
#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <system_error>

namespace obsrv::pipeline {

// ---------------------------------------------------------------------------------------------
// Zones
//
// abseil's zone support (libabsl-dev) rather than a TZif reader of our own: it reads the same
// /usr/share/zoneinfo files, answers offset-at-instant and local-to-instant (with gaps and
// overlaps) and handles the POSIX rule that extends a zone past its last transition.

namespace detail {

struct ts_zone {
    std::string name;  // what the id resolved to, for diagnostics
    bool fixed = true;
    int64_t fixed_offset_ms = 0;
    absl::TimeZone tz;

    // Joda's DateTimeZone.getOffset(instant).
    int64_t offset_at(int64_t instant_ms) const noexcept {
        if (fixed) {
            return fixed_offset_ms;
        }
        return int64_t{tz.At(absl::FromUnixMillis(instant_ms)).offset} * 1000;
    }

    // Joda's local-to-instant step of DateTimeParserBucket.computeMillis: the earlier instant
    // when the local time occurs twice, false when it falls in a gap (Joda throws
    // IllegalInstantException there, which Obsrv turns into an invalid timestamp).
    bool from_local(int64_t local_ms, int64_t& instant_ms) const noexcept {
        if (fixed) {
            return !__builtin_sub_overflow(local_ms, fixed_offset_ms, &instant_ms);
        }
        int64_t seconds = local_ms / 1000;
        int64_t rest = local_ms % 1000;
        if (rest < 0) {
            rest += 1000;
            --seconds;
        }
        const absl::TimeZone::TimeInfo info = tz.At(absl::CivilSecond(1970, 1, 1) + seconds);
        if (info.kind == absl::TimeZone::TimeInfo::SKIPPED) {
            return false;
        }
        instant_ms = absl::ToUnixSeconds(info.pre) * 1000 + rest;
        return true;
    }
};

}  // namespace detail

namespace {

using detail::ts_zone;

std::string zoneinfo_dir() {
    // abseil honours $TZDIR the same way.
    const char* dir = std::getenv("TZDIR");
    return dir != nullptr && *dir != '\0' ? std::string(dir) : std::string("/usr/share/zoneinfo");
}

// Process-wide: zones are resolved when datasets load and used by every worker afterwards, so
// they live as long as the process (as abseil's own zone cache does).
class zone_registry {
  public:
    static zone_registry& instance() {
        static zone_registry registry;
        return registry;
    }

    const ts_zone* utc() { return fixed(0); }

    const ts_zone* fixed(int64_t offset_ms) {
        std::lock_guard lock(_mutex);
        auto& slot = _fixed[offset_ms];
        if (!slot) {
            slot = std::make_unique<ts_zone>();
            slot->name = offset_ms == 0 ? "UTC" : fmt::format("fixed {:+}ms", offset_ms);
            slot->fixed_offset_ms = offset_ms;
        }
        return slot.get();
    }

    // A zone of the tz database by id; null when it cannot be loaded.
    const ts_zone* named(std::string_view id) {
        if (id == "UTC") {
            return utc();
        }
        std::lock_guard lock(_mutex);
        return named_locked(id);
    }

    // The ids of the tz database (tzdata.zi: zones and links), sorted; null when unreadable.
    const std::vector<std::string>* ids(std::string& error) {
        std::lock_guard lock(_mutex);
        return ids_locked(error);
    }

    // All zones of the database with their ids, for ZZZ (Joda's appendTimeZoneId), sorted by id.
    const std::vector<std::pair<std::string, const ts_zone*>>* all_zones(std::string& error) {
        std::lock_guard lock(_mutex);
        if (!_all_zones_loaded) {
            const auto* list = ids_locked(error);
            if (list == nullptr) {
                return nullptr;
            }
            for (const std::string& id : *list) {
                if (const ts_zone* zone = named_locked(id)) {
                    _all_zones.emplace_back(id, zone);
                }
            }
            _all_zones_loaded = true;
        }
        return &_all_zones;
    }

  private:
    const ts_zone* named_locked(std::string_view id) {
        if (auto it = _named.find(id); it != _named.end()) {
            return it->second.get();
        }
        // Only ids listed by tzdata.zi reach abseil, which would otherwise also read arbitrary
        // paths, "localtime" or the leap-second "right/" variants.
        std::string error;
        const auto* list = ids_locked(error);
        if (list == nullptr || !std::binary_search(list->begin(), list->end(), id)) {
            return nullptr;
        }
        auto zone = std::make_unique<ts_zone>();
        if (!absl::LoadTimeZone(std::string(id), &zone->tz)) {
            return nullptr;
        }
        zone->name = std::string(id);
        zone->fixed = false;
        return _named.emplace(std::string(id), std::move(zone)).first->second.get();
    }

    const std::vector<std::string>* ids_locked(std::string& error) {
        if (!_ids_loaded) {
            _ids_loaded = true;
            const std::string path = zoneinfo_dir() + "/tzdata.zi";
            std::ifstream in(path);
            if (!in) {
                _ids_error = fmt::format("cannot read {} (package tzdata)", path);
            } else {
                // "Z <name> ..." declares a zone, "L <target> <name>" a link.
                std::string line;
                while (std::getline(in, line)) {
                    if (line.size() < 3 || line[1] != ' ' || (line[0] != 'Z' && line[0] != 'L')) {
                        continue;
                    }
                    size_t begin = 2;
                    if (line[0] == 'L') {
                        begin = line.find(' ', 2);
                        if (begin == std::string::npos) {
                            continue;
                        }
                        ++begin;
                    }
                    const size_t end = line.find(' ', begin);
                    _ids.push_back(
                        line.substr(begin, end == std::string::npos ? end : end - begin));
                }
                std::sort(_ids.begin(), _ids.end());
                _ids.erase(std::unique(_ids.begin(), _ids.end()), _ids.end());
                if (_ids.empty()) {
                    _ids_error = fmt::format("{} lists no zones", path);
                }
            }
        }
        if (!_ids_error.empty()) {
            error = _ids_error;
            return nullptr;
        }
        return &_ids;
    }

    std::mutex _mutex;
    std::map<int64_t, std::unique_ptr<ts_zone>> _fixed;
    std::map<std::string, std::unique_ptr<ts_zone>, std::less<>> _named;
    std::vector<std::string> _ids;
    std::string _ids_error;
    bool _ids_loaded = false;
    std::vector<std::pair<std::string, const ts_zone*>> _all_zones;
    bool _all_zones_loaded = false;
};

// Joda's DateTimeZone.forTimeZone maps Java's old three-letter ids (and a few others) before
// looking the id up (ZONE_ID_CONVERSION), so "EST" is New York with DST, not a fixed -05:00.
constexpr std::array<std::pair<std::string_view, std::string_view>, 33> k_joda_converted_ids{{
    {"GMT", "UTC"},
    {"WET", "WET"},
    {"CET", "CET"},
    {"MET", "CET"},
    {"ECT", "CET"},
    {"EET", "EET"},
    {"MIT", "Pacific/Apia"},
    {"HST", "Pacific/Honolulu"},
    {"AST", "America/Anchorage"},
    {"PST", "America/Los_Angeles"},
    {"MST", "America/Denver"},
    {"PNT", "America/Phoenix"},
    {"CST", "America/Chicago"},
    {"EST", "America/New_York"},
    {"IET", "America/Indiana/Indianapolis"},
    {"PRT", "America/Puerto_Rico"},
    {"CNT", "America/St_Johns"},
    {"AGT", "America/Argentina/Buenos_Aires"},
    {"BET", "America/Sao_Paulo"},
    {"ART", "Africa/Cairo"},
    {"CAT", "Africa/Harare"},
    {"EAT", "Africa/Addis_Ababa"},
    {"NET", "Asia/Yerevan"},
    {"PLT", "Asia/Karachi"},
    {"IST", "Asia/Kolkata"},
    {"BST", "Asia/Dhaka"},
    {"VST", "Asia/Ho_Chi_Minh"},
    {"CTT", "Asia/Shanghai"},
    {"JST", "Asia/Tokyo"},
    {"ACT", "Australia/Darwin"},
    {"AET", "Australia/Sydney"},
    {"SST", "Pacific/Guadalcanal"},
    {"NST", "Pacific/Auckland"},
}};

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// java.util.TimeZone's custom ids: "GMT" sign hours[[:]minutes], hours 0-23 in one or two
// digits (or hhmm without the colon), minutes two digits 0-59.
std::optional<int64_t> java_custom_offset_ms(std::string_view id) {
    if (id.size() < 5 || id.substr(0, 3) != "GMT") {
        return std::nullopt;
    }
    const char sign = id[3];
    if (sign != '+' && sign != '-') {
        return std::nullopt;
    }
    int hours = 0;
    int num = 0;
    int delimiters = 0;
    int len = 0;
    for (size_t i = 4; i < id.size(); ++i) {
        const char c = id[i];
        if (c == ':') {
            if (delimiters > 0 || len > 2) {
                return std::nullopt;
            }
            hours = num;
            ++delimiters;
            num = 0;
            len = 0;
            continue;
        }
        if (!is_digit(c) || len >= 4) {
            return std::nullopt;
        }
        num = num * 10 + (c - '0');
        ++len;
    }
    if (delimiters == 0) {
        if (len <= 2) {
            hours = num;
            num = 0;
        } else {
            hours = num / 100;
            num %= 100;
        }
    } else if (len != 2) {
        return std::nullopt;
    }
    if (hours > 23 || num > 59) {
        return std::nullopt;
    }
    const int64_t offset = (int64_t{hours} * 60 + num) * 60'000;
    return sign == '-' ? -offset : offset;
}

struct resolved_zone {
    const ts_zone* zone = nullptr;
    std::string note;  // set when Java would silently fall back to GMT
};

// java.util.TimeZone.getTimeZone(id) followed by Joda's DateTimeZone.forTimeZone.
result<resolved_zone> resolve_java_zone(std::string_view id) {
    zone_registry& registry = zone_registry::instance();
    for (const auto& [from, to] : k_joda_converted_ids) {
        if (id == from) {
            if (const ts_zone* zone = registry.named(to)) {
                return resolved_zone{zone, {}};
            }
            return make_error("time zone '{}' (Joda: '{}') is not in the system tz database", id,
                              to);
        }
    }
    if (id == "UTC") {
        return resolved_zone{registry.utc(), {}};
    }
    std::string error;
    const auto* ids = registry.ids(error);
    if (ids != nullptr && std::binary_search(ids->begin(), ids->end(), id)) {
        if (const ts_zone* zone = registry.named(id)) {
            return resolved_zone{zone, {}};
        }
        return make_error("time zone '{}' is listed but cannot be loaded from {}", id,
                          zoneinfo_dir());
    }
    if (auto offset = java_custom_offset_ms(id)) {
        return resolved_zone{registry.fixed(*offset), {}};
    }
    if (ids == nullptr) {
        return make_error("time zone '{}': {}", id, error);
    }
    return resolved_zone{
        registry.utc(),
        fmt::format("unknown time zone id '{}': Java takes it as GMT (offset 0)", id)};
}

// ---------------------------------------------------------------------------------------------
// Java's text and long value of a JSON number, as Obsrv sees it after a Jackson round trip
// (event map → JSON text → JsonNode): int/long/BigInteger print in decimal, doubles with
// Double.toString.

struct java_number {
    bool infinity = false;  // re-serialized by Jackson as the string "Infinity"
    bool negative = false;
    int text_length = 0;
    int64_t long_value = 0;
};

int decimal_digits(uint64_t v) {
    int n = 1;
    while (v >= 10) {
        v /= 10;
        ++n;
    }
    return n;
}

int64_t java_double_to_long(double d) {
    if (std::isnan(d)) {
        return 0;
    }
    if (d >= 9223372036854775808.0) {
        return INT64_MAX;
    }
    if (d <= -9223372036854775808.0) {
        return INT64_MIN;
    }
    return static_cast<int64_t>(d);
}

// Length of Double.toString(d): plain notation with at least one fraction digit for
// 1e-3 <= |d| < 1e7, otherwise d.dddE<exp>; digits are the shortest that round-trip.
int java_double_text_length(double d) {
    if (d == 0) {
        return std::signbit(d) ? 4 : 3;  // "-0.0", "0.0"
    }
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string_view s(buf, static_cast<size_t>(r.ptr - buf));
    const bool negative = s.front() == '-';
    if (negative) {
        s.remove_prefix(1);
    }
    const size_t e = s.find('e');
    int digits = 0;
    for (size_t i = 0; i < e; ++i) {
        digits += is_digit(s[i]) ? 1 : 0;
    }
    std::string_view exp_text = s.substr(e + 1);
    if (!exp_text.empty() && exp_text.front() == '+') {
        exp_text.remove_prefix(1);
    }
    int exponent = 0;
    std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exponent);
    const double magnitude = std::fabs(d);
    int length = 0;
    if (magnitude >= 1e-3 && magnitude < 1e7) {
        if (exponent >= 0) {
            length = (exponent + 1) + 1 + std::max(1, digits - (exponent + 1));
        } else {
            length = 2 + (-exponent - 1) + digits;  // "0." zeros digits
        }
    } else {
        const int abs_exp = exponent < 0 ? -exponent : exponent;
        length = 2 + std::max(1, digits - 1) + 1 + (exponent < 0 ? 1 : 0) +
                 decimal_digits(static_cast<uint64_t>(abs_exp));
    }
    return length + (negative ? 1 : 0);
}

java_number from_double(double d) {
    java_number n;
    n.negative = std::signbit(d);
    if (std::isinf(d)) {
        n.infinity = true;
        return n;
    }
    n.text_length = java_double_text_length(d);
    n.long_value = java_double_to_long(d);
    return n;
}

java_number from_int64(int64_t v) {
    java_number n;
    n.negative = v < 0;
    const uint64_t magnitude = v < 0 ? 0 - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
    n.text_length = decimal_digits(magnitude) + (v < 0 ? 1 : 0);
    n.long_value = v;
    return n;
}

java_number from_uint64(uint64_t v) {
    java_number n;
    n.text_length = decimal_digits(v);
    n.long_value = static_cast<int64_t>(v);  // BigInteger.longValue(): the low 64 bits
    return n;
}

// From the literal: Jackson reads integers as int/long/BigInteger and everything with a
// fraction or exponent as a double (overflow → Infinity, underflow → 0.0).
std::optional<java_number> from_literal(std::string_view text) {
    if (text.empty()) {
        return std::nullopt;
    }
    const bool negative = text.front() == '-';
    const std::string_view body = negative ? text.substr(1) : text;
    if (body.empty() || !is_digit(body.front())) {
        return std::nullopt;
    }
    if (body.find_first_of(".eE") == std::string_view::npos) {
        uint64_t low = 0;  // the value modulo 2^64
        bool overflow = false;
        int digits = 0;
        for (const char c : body) {
            if (!is_digit(c)) {
                return std::nullopt;
            }
            if (digits == 0 && c == '0') {
                continue;  // JSON has no leading zeros; "0" itself is counted below
            }
            ++digits;
            overflow |= __builtin_mul_overflow(low, 10u, &low);
            overflow |= __builtin_add_overflow(low, static_cast<uint64_t>(c - '0'), &low);
        }
        const uint64_t limit = negative ? uint64_t{1} << 63 : uint64_t{INT64_MAX};
        java_number n;
        n.negative = negative && low != 0;
        if (!overflow && low <= limit) {
            n.text_length = std::max(digits, 1) + (n.negative ? 1 : 0);
        } else {
            n.text_length = digits + (negative ? 1 : 0);  // BigInteger.toString()
        }
        n.long_value = static_cast<int64_t>(negative ? 0 - low : low);
        return n;
    }
    double d = 0;
    const auto r = std::from_chars(body.data(), body.data() + body.size(), d);
    if (r.ptr != body.data() + body.size()) {
        return std::nullopt;
    }
    if (r.ec == std::errc::result_out_of_range) {
        // Overflow or underflow: decide by the decimal exponent of the first significant digit.
        const size_t e = body.find_first_of("eE");
        const std::string_view mantissa = body.substr(0, e);
        const size_t point = std::min(mantissa.find('.'), mantissa.size());
        const size_t first = mantissa.find_first_of("123456789");
        if (first == std::string_view::npos) {
            d = 0;
        } else {
            int64_t magnitude = first < point ? static_cast<int64_t>(point - first - 1)
                                              : -static_cast<int64_t>(first - point);
            if (e != std::string_view::npos) {
                std::string_view exp = body.substr(e + 1);
                const bool exp_negative = !exp.empty() && exp.front() == '-';
                if (!exp.empty() && (exp.front() == '-' || exp.front() == '+')) {
                    exp.remove_prefix(1);
                }
                int64_t value = 0;
                for (const char c : exp) {
                    value = std::min<int64_t>(value * 10 + (c - '0'), int64_t{1} << 40);
                }
                magnitude += exp_negative ? -value : value;
            }
            d = magnitude > 0 ? HUGE_VAL : 0.0;
        }
    } else if (r.ec != std::errc()) {
        return std::nullopt;
    }
    return from_double(negative ? -d : d);
}

// ---------------------------------------------------------------------------------------------
// Joda pattern elements and fields

enum op : uint8_t {
    op_number,          // NumberFormatter (signed when `flag`)
    op_two_digit_year,  // TwoDigitYear (lenient when `flag`)
    op_fraction,        // Fraction of second → millisOfSecond
    op_month_text,      // TextField monthOfYear
    op_day_text,        // TextField dayOfWeek
    op_halfday_text,    // TextField halfdayOfDay
    op_literal,         // CharacterLiteral / StringLiteral
    op_offset,          // TimeZoneOffset ("Z", "ZZ")
    op_zone_id,         // TimeZoneId ("ZZZ")
    op_zone_name,       // TimeZoneName with the default names ("z")
};

enum field : uint8_t {
    f_year,
    f_year_of_era,
    f_month,
    f_day_of_year,
    f_day_of_month,
    f_day_of_week,
    f_halfday,
    f_hour_of_day,
    f_clockhour_of_day,
    f_hour_of_halfday,
    f_clockhour_of_halfday,
    f_minute,
    f_second,
    f_millis,
    f_none,
};

// DateTimeParserBucket sorts saved fields by range duration field, then duration field, largest
// first (unsupported ranges, the year's, first). Units: 0 millis, 1 seconds, 2 minutes,
// 3 hours, 4 halfdays, 5 days, 6 weeks, 7 months, 8 years, 9 none.
struct field_units {
    uint8_t range;
    uint8_t duration;
};
constexpr std::array<field_units, f_none> k_units{{
    {9, 8},  // year
    {9, 8},  // yearOfEra (its range, eras, is unsupported)
    {8, 7},  // monthOfYear
    {8, 5},  // dayOfYear
    {7, 5},  // dayOfMonth
    {6, 5},  // dayOfWeek
    {5, 4},  // halfdayOfDay
    {5, 3},  // hourOfDay
    {5, 3},  // clockhourOfDay
    {4, 3},  // hourOfHalfday
    {4, 3},  // clockhourOfHalfday
    {3, 2},  // minuteOfHour
    {2, 1},  // secondOfMinute
    {1, 0},  // millisOfSecond
}};
constexpr uint8_t k_unit_days = 5;
constexpr uint8_t k_unit_months = 7;

constexpr size_t k_max_fields = 24;  // per pattern; the per-event state is a fixed array

constexpr int64_t k_ms_second = 1000;
constexpr int64_t k_ms_minute = 60 * k_ms_second;
constexpr int64_t k_ms_hour = 60 * k_ms_minute;
constexpr int64_t k_ms_halfday = 12 * k_ms_hour;
constexpr int64_t k_ms_day = 24 * k_ms_hour;
constexpr int64_t k_min_year = -292275054;  // GregorianChronology
constexpr int64_t k_max_year = 292278993;

int64_t floor_div(int64_t a, int64_t b) {
    const int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

int64_t floor_mod(int64_t a, int64_t b) {
    return a - floor_div(a, b) * b;
}

// Proleptic Gregorian calendar (ISOChronology), days since 1970-01-01.
int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2 ? 1 : 0;
    const int64_t era = floor_div(y, 400);
    const int64_t yoe = y - era * 400;
    const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

struct civil_date {
    int64_t year;
    int64_t month;
    int64_t day;
};

civil_date civil_from_days(int64_t z) {
    z += 719468;
    const int64_t era = floor_div(z, 146097);
    const int64_t doe = z - era * 146097;
    const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const int64_t mp = (5 * doy + 2) / 153;
    const int64_t d = doy - (153 * mp + 2) / 5 + 1;
    const int64_t m = mp < 10 ? mp + 3 : mp - 9;
    return {yoe + era * 400 + (m <= 2 ? 1 : 0), m, d};
}

bool is_leap(int64_t y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int64_t days_in_month(int64_t y, int64_t m) {
    constexpr std::array<int64_t, 12> k_days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : k_days[static_cast<size_t>(m - 1)];
}

// Joda's field.set(instant, value) on a local instant, with its bounds checks (a failed check
// throws IllegalFieldValueException, an invalid timestamp for Obsrv).
bool set_field(uint8_t f, int64_t& ms, int64_t v) {
    const int64_t day = floor_div(ms, k_ms_day);
    const int64_t ms_of_day = ms - day * k_ms_day;
    switch (f) {
        case f_year_of_era: {
            if (v < 1 || v > k_max_year) {
                return false;
            }
            if (civil_from_days(day).year <= 0) {
                v = 1 - v;  // GJYearOfEraDateTimeField: the year of era counts back before 1
            }
            return set_field(f_year, ms, v);
        }
        case f_year: {
            if (v < k_min_year || v > k_max_year) {
                return false;
            }
            civil_date c = civil_from_days(day);
            if (c.month == 2 && c.day == 29 && !is_leap(v)) {
                c.day = 28;
            }
            ms = days_from_civil(v, c.month, c.day) * k_ms_day + ms_of_day;
            return true;
        }
        case f_month: {
            if (v < 1 || v > 12) {
                return false;
            }
            civil_date c = civil_from_days(day);
            c.day = std::min(c.day, days_in_month(c.year, v));
            ms = days_from_civil(c.year, v, c.day) * k_ms_day + ms_of_day;
            return true;
        }
        case f_day_of_month: {
            const civil_date c = civil_from_days(day);
            if (v < 1 || v > (v > 28 ? days_in_month(c.year, c.month) : 28)) {
                return false;
            }
            ms += (v - c.day) * k_ms_day;
            return true;
        }
        case f_day_of_year: {
            const civil_date c = civil_from_days(day);
            if (v < 1 || v > (v > 365 ? (is_leap(c.year) ? 366 : 365) : 365)) {
                return false;
            }
            ms += (v - (day - days_from_civil(c.year, 1, 1) + 1)) * k_ms_day;
            return true;
        }
        case f_day_of_week: {
            if (v < 1 || v > 7) {
                return false;
            }
            ms += (v - (floor_mod(day + 3, 7) + 1)) * k_ms_day;  // 1970-01-01 was a Thursday
            return true;
        }
        case f_halfday:
            if (v < 0 || v > 1) {
                return false;
            }
            ms += (v - ms_of_day / k_ms_halfday) * k_ms_halfday;
            return true;
        case f_clockhour_of_day:
            if (v < 1 || v > 24) {
                return false;
            }
            return set_field(f_hour_of_day, ms, v == 24 ? 0 : v);
        case f_hour_of_day:
            if (v < 0 || v > 23) {
                return false;
            }
            ms += (v - ms_of_day / k_ms_hour) * k_ms_hour;
            return true;
        case f_clockhour_of_halfday:
            if (v < 1 || v > 12) {
                return false;
            }
            return set_field(f_hour_of_halfday, ms, v == 12 ? 0 : v);
        case f_hour_of_halfday:
            if (v < 0 || v > 11) {
                return false;
            }
            ms += (v - (ms_of_day / k_ms_hour) % 12) * k_ms_hour;
            return true;
        case f_minute:
            if (v < 0 || v > 59) {
                return false;
            }
            ms += (v - (ms_of_day / k_ms_minute) % 60) * k_ms_minute;
            return true;
        case f_second:
            if (v < 0 || v > 59) {
                return false;
            }
            ms += (v - (ms_of_day / k_ms_second) % 60) * k_ms_second;
            return true;
        case f_millis:
            if (v < 0 || v > 999) {
                return false;
            }
            ms += v - ms_of_day % 1000;
            return true;
        default:
            return false;
    }
}

// Joda's field.roundFloor(instant).
int64_t round_floor(uint8_t f, int64_t ms) {
    switch (f) {
        case f_year:
        case f_year_of_era:
            return days_from_civil(civil_from_days(floor_div(ms, k_ms_day)).year, 1, 1) * k_ms_day;
        case f_month: {
            const civil_date c = civil_from_days(floor_div(ms, k_ms_day));
            return days_from_civil(c.year, c.month, 1) * k_ms_day;
        }
        case f_day_of_year:
        case f_day_of_month:
        case f_day_of_week:
            return floor_div(ms, k_ms_day) * k_ms_day;
        case f_halfday:
            return floor_div(ms, k_ms_halfday) * k_ms_halfday;
        case f_hour_of_day:
        case f_clockhour_of_day:
        case f_hour_of_halfday:
        case f_clockhour_of_halfday:
            return floor_div(ms, k_ms_hour) * k_ms_hour;
        case f_minute:
            return floor_div(ms, k_ms_minute) * k_ms_minute;
        case f_second:
            return floor_div(ms, k_ms_second) * k_ms_second;
        default:
            return ms;
    }
}

// English names (the JVM default locale of Obsrv's images); index + base = the field value.
constexpr std::array<std::string_view, 12> k_months{
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};
constexpr std::array<std::string_view, 12> k_months_short{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> k_days{"Monday", "Tuesday",  "Wednesday", "Thursday",
                                                 "Friday", "Saturday", "Sunday"};
constexpr std::array<std::string_view, 7> k_days_short{"Mon", "Tue", "Wed", "Thu",
                                                       "Fri", "Sat", "Sun"};
constexpr std::array<std::string_view, 2> k_halfdays{"AM", "PM"};

char ascii_lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}
char ascii_upper(char c) {
    return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

// TextField accepts a name as written, all lower case or all upper case.
bool name_matches(std::string_view text, std::string_view name) {
    if (text.size() != name.size()) {
        return false;
    }
    bool same = true;
    bool lower = true;
    bool upper = true;
    for (size_t i = 0; i < text.size(); ++i) {
        same &= text[i] == name[i];
        lower &= text[i] == ascii_lower(name[i]);
        upper &= text[i] == ascii_upper(name[i]);
    }
    return same || lower || upper;
}

// TextField.parseInto: the longest candidate (up to the longest name) that is a valid name.
template <size_t N, size_t M>
size_t match_name(std::string_view text, size_t pos, const std::array<std::string_view, N>& names,
                  const std::array<std::string_view, M>& short_names, size_t max_length,
                  int64_t& index) {
    const size_t limit = std::min(max_length, text.size() - pos);
    for (size_t len = limit; len > 0; --len) {
        const std::string_view candidate = text.substr(pos, len);
        for (size_t i = 0; i < N; ++i) {
            if (name_matches(candidate, names[i]) ||
                (i < M && name_matches(candidate, short_names[i]))) {
                index = static_cast<int64_t>(i);
                return len;
            }
        }
    }
    return 0;
}

bool literal_matches(std::string_view text, size_t pos, std::string_view literal) {
    if (text.size() - pos < literal.size()) {
        return false;
    }
    for (size_t i = 0; i < literal.size(); ++i) {
        const char a = text[pos + i];
        const char b = literal[i];
        if (a != b && ascii_lower(a) != ascii_lower(b)) {
            return false;
        }
    }
    return true;
}

// Integer.parseInt of ASCII digits with an optional '-': false beyond int range.
bool parse_java_int(std::string_view s, int64_t& value) {
    const bool negative = !s.empty() && s.front() == '-';
    int64_t v = 0;
    for (size_t i = negative ? 1 : 0; i < s.size(); ++i) {
        v = v * 10 + (s[i] - '0');
        if (v > int64_t{INT32_MAX} + 1) {
            return false;
        }
    }
    v = negative ? -v : v;
    if (v > INT32_MAX || v < INT32_MIN) {
        return false;
    }
    value = v;
    return true;
}

// NumberFormatter.parseInto: up to max digits (a sign does not count), minimum width unchecked.
bool parse_number(std::string_view text, size_t& pos, size_t max_digits, bool is_signed,
                  int64_t& value) {
    size_t limit = std::min(max_digits, text.size() - pos);
    bool negative = false;
    bool positive = false;
    size_t length = 0;
    while (length < limit) {
        const char c = text[pos + length];
        if (length == 0 && (c == '-' || c == '+') && is_signed) {
            negative = c == '-';
            positive = c == '+';
            if (length + 1 >= limit || !is_digit(text[pos + length + 1])) {
                break;
            }
            ++length;
            limit = std::min(limit + 1, text.size() - pos);
            continue;
        }
        if (!is_digit(c)) {
            break;
        }
        ++length;
    }
    if (length == 0) {
        return false;
    }
    if (length >= 9) {
        const size_t skip = positive ? 1 : 0;
        if (!parse_java_int(text.substr(pos + skip, length - skip), value)) {
            return false;  // NumberFormatException
        }
    } else {
        int64_t v = 0;
        for (size_t i = (negative || positive) ? 1 : 0; i < length; ++i) {
            v = v * 10 + (text[pos + i] - '0');
        }
        value = negative ? -v : v;
    }
    pos += length;
    return true;
}

// TwoDigitYear.parseInto.
bool parse_two_digit_year(std::string_view text, size_t& pos, bool lenient, int pivot,
                          int64_t& value) {
    size_t limit = text.size() - pos;
    if (!lenient) {
        if (limit < 2) {
            return false;
        }
    } else {
        bool has_sign = false;
        bool negative = false;
        size_t length = 0;
        while (length < limit) {
            const char c = text[pos + length];
            if (length == 0 && (c == '-' || c == '+')) {
                has_sign = true;
                negative = c == '-';
                if (negative) {
                    ++length;
                } else {
                    ++pos;  // skips the '+' for Integer.parseInt
                    --limit;
                }
                continue;
            }
            if (!is_digit(c)) {
                break;
            }
            ++length;
        }
        if (length == 0) {
            return false;
        }
        if (has_sign || length != 2) {
            if (length >= 9) {
                if (!parse_java_int(text.substr(pos, length), value)) {
                    return false;
                }
            } else {
                // Joda reads the character after the sign even when it is no digit ("-x" gives
                // -('x' - '0')); reproduced for ASCII, other text fails.
                size_t i = pos + (negative ? 1 : 0);
                if (i >= text.size() || static_cast<unsigned char>(text[i]) >= 0x80) {
                    return false;
                }
                int64_t v = text[i++] - '0';
                const size_t end = pos + length;
                while (i < end) {
                    v = v * 10 + (text[i++] - '0');
                }
                value = negative ? -v : v;
            }
            pos += length;
            return true;
        }
    }
    if (!is_digit(text[pos]) || !is_digit(text[pos + 1])) {
        return false;
    }
    int64_t year = (text[pos] - '0') * 10 + (text[pos + 1] - '0');
    const int low = pivot - 50;
    const int t = low >= 0 ? low % 100 : 99 + ((low + 1) % 100);
    year += low + (year < t ? 100 : 0) - t;
    value = year;
    pos += 2;
    return true;
}

// Fraction.parseInto for the fraction of second: the first three digits are the milliseconds,
// further digits (up to the token's width) are read and dropped.
bool parse_fraction(std::string_view text, size_t& pos, size_t max_digits, int64_t& value) {
    const size_t limit = std::min(max_digits, text.size() - pos);
    size_t length = 0;
    int64_t v = 0;
    while (length < limit && is_digit(text[pos + length])) {
        if (length < 3) {
            v = v * 10 + (text[pos + length] - '0');
        }
        ++length;
    }
    if (length == 0) {
        return false;
    }
    for (size_t i = length; i < 3; ++i) {
        v *= 10;
    }
    value = v;
    pos += length;
    return true;
}

size_t digit_count(std::string_view text, size_t pos, size_t max) {
    size_t n = 0;
    while (n < max && pos + n < text.size() && is_digit(text[pos + n])) {
        ++n;
    }
    return n;
}

int two_digits(std::string_view text, size_t pos) {
    return (text[pos] - '0') * 10 + (text[pos + 1] - '0');
}

// TimeZoneOffset.parseInto with "Z" as the zero offset: Z | ±hh[[:]mm[[:]ss[[.,]SSS]]].
bool parse_offset(std::string_view text, size_t& pos, int64_t& offset) {
    if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
        offset = 0;
        ++pos;
        return true;
    }
    if (text.size() - pos <= 1) {
        return false;
    }
    const char sign = text[pos];
    if (sign != '-' && sign != '+') {
        return false;
    }
    size_t p = pos + 1;
    if (digit_count(text, p, 2) < 2) {
        return false;
    }
    const int hours = two_digits(text, p);
    if (hours > 23) {
        return false;
    }
    int64_t value = hours * k_ms_hour;
    p += 2;
    do {
        if (p >= text.size()) {
            break;
        }
        bool separators = false;
        if (text[p] == ':') {
            separators = true;
            ++p;
        } else if (!is_digit(text[p])) {
            break;
        }
        size_t count = digit_count(text, p, 2);
        if (count == 0 && !separators) {
            break;
        }
        if (count < 2) {
            return false;
        }
        const int minutes = two_digits(text, p);
        if (minutes > 59) {
            return false;
        }
        value += minutes * k_ms_minute;
        p += 2;
        if (p >= text.size()) {
            break;
        }
        if (separators) {
            if (text[p] != ':') {
                break;
            }
            ++p;
        }
        count = digit_count(text, p, 2);
        if (count == 0 && !separators) {
            break;
        }
        if (count < 2) {
            return false;
        }
        const int seconds = two_digits(text, p);
        if (seconds > 59) {
            return false;
        }
        value += seconds * k_ms_second;
        p += 2;
        if (p >= text.size()) {
            break;
        }
        if (separators) {
            if (text[p] != '.' && text[p] != ',') {
                break;
            }
            ++p;
        }
        count = digit_count(text, p, 3);
        if (count == 0 && !separators) {
            break;
        }
        if (count < 1) {
            return false;
        }
        value += (text[p++] - '0') * 100;
        if (count > 1) {
            value += (text[p++] - '0') * 10;
            if (count > 2) {
                value += text[p++] - '0';
            }
        }
    } while (false);
    offset = sign == '-' ? -value : value;
    pos = p;
    return true;
}

// Joda's default zone names for "z" (DateTimeUtils.getDefaultTimeZoneNames): US names map to
// the region, so "EST" in July reads New York local time.
struct zone_names {
    std::array<std::pair<std::string_view, const ts_zone*>, 11> names{};
};

const zone_names* default_zone_names(std::string& error) {
    static const zone_names* table = [&]() -> const zone_names* {
        zone_registry& registry = zone_registry::instance();
        auto* t = new zone_names;  // lives for the process
        const std::array<std::pair<std::string_view, std::string_view>, 11> ids{{
            {"UT", "UTC"},
            {"UTC", "UTC"},
            {"GMT", "UTC"},
            {"EST", "America/New_York"},
            {"EDT", "America/New_York"},
            {"CST", "America/Chicago"},
            {"CDT", "America/Chicago"},
            {"MST", "America/Denver"},
            {"MDT", "America/Denver"},
            {"PST", "America/Los_Angeles"},
            {"PDT", "America/Los_Angeles"},
        }};
        for (size_t i = 0; i < ids.size(); ++i) {
            const ts_zone* zone = registry.named(ids[i].second);
            if (zone == nullptr) {
                error = fmt::format("time zone {} is not in the system tz database", ids[i].second);
                delete t;
                return nullptr;
            }
            t->names[i] = {ids[i].first, zone};
        }
        return t;
    }();
    if (table == nullptr && error.empty()) {
        error = "the US time zones of pattern letter 'z' are not in the system tz database";
    }
    return table;
}

bool parse_zone_name(std::string_view text, size_t& pos, const ts_zone*& zone) {
    std::string error;
    const zone_names* table = default_zone_names(error);
    if (table == nullptr) {
        return false;
    }
    size_t best = 0;
    for (const auto& [name, z] : table->names) {
        if (name.size() > best && text.substr(pos, name.size()) == name) {
            best = name.size();
            zone = z;
        }
    }
    pos += best;
    return best > 0;
}

// TimeZoneId.parseInto: when a '/' follows anywhere in the text, only ids with the same first
// segment are candidates, otherwise only ids without '/'; the longest id the text starts with.
// Loaded once, then read without a lock by every event.
struct zone_id_table {
    const std::vector<std::pair<std::string, const ts_zone*>>* zones = nullptr;
    std::string error;
};

const zone_id_table& zone_ids() {
    static const zone_id_table table = [] {
        zone_id_table t;
        t.zones = zone_registry::instance().all_zones(t.error);
        return t;
    }();
    return table;
}

bool parse_zone_id(std::string_view text, size_t& pos, const ts_zone*& zone) {
    const auto* zones = zone_ids().zones;
    if (zones == nullptr) {
        return false;
    }
    const std::string_view rest = text.substr(pos);
    const size_t slash = rest.find('/');
    size_t best = 0;
    auto consider = [&](const std::pair<std::string, const ts_zone*>& entry) {
        const std::string& id = entry.first;
        if (id.size() > best && rest.substr(0, id.size()) == id) {
            best = id.size();
            zone = entry.second;
        }
    };
    if (slash == std::string_view::npos) {
        for (const auto& entry : *zones) {
            if (entry.first.find('/') == std::string::npos) {
                consider(entry);
            }
        }
    } else {
        const std::string_view group = rest.substr(0, slash + 1);
        auto it = std::lower_bound(zones->begin(), zones->end(), group,
                                   [](const auto& entry, std::string_view g) {
                                       return std::string_view(entry.first) < g;
                                   });
        for (; it != zones->end() && std::string_view(it->first).substr(0, group.size()) == group;
             ++it) {
            consider(*it);
        }
    }
    pos += best;
    return best > 0;
}

// DateTimeFormat.parseToken: a run of one letter, or literal text (quoted, or any non-letters;
// '' is a quote).
struct pattern_token {
    std::string text;
    bool literal = false;
};

bool is_letter(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

std::vector<pattern_token> tokenize(std::string_view pattern) {
    std::vector<pattern_token> tokens;
    size_t i = 0;
    while (i < pattern.size()) {
        const char c = pattern[i];
        pattern_token token;
        if (is_letter(c)) {
            size_t j = i;
            while (j < pattern.size() && pattern[j] == c) {
                ++j;
            }
            token.text.assign(pattern.substr(i, j - i));
            i = j;
        } else {
            token.literal = true;
            bool in_literal = false;
            for (; i < pattern.size(); ++i) {
                const char ch = pattern[i];
                if (ch == '\'') {
                    if (i + 1 < pattern.size() && pattern[i + 1] == '\'') {
                        ++i;
                        token.text.push_back(ch);
                    } else {
                        in_literal = !in_literal;
                    }
                } else if (!in_literal && is_letter(ch)) {
                    break;
                } else {
                    token.text.push_back(ch);
                }
            }
        }
        tokens.push_back(std::move(token));
    }
    return tokens;
}

// DateTimeFormat.isNumericToken: whether the next token reads digits (limits year widths).
bool is_numeric_token(const pattern_token& token) {
    if (token.literal || token.text.empty()) {
        return false;
    }
    switch (token.text[0]) {
        case 'c':
        case 'C':
        case 'x':
        case 'y':
        case 'Y':
        case 'd':
        case 'h':
        case 'H':
        case 'm':
        case 's':
        case 'S':
        case 'e':
        case 'D':
        case 'F':
        case 'W':
        case 'w':
        case 'k':
        case 'K':
            return true;
        case 'M':
            return token.text.size() <= 2;
        default:
            return false;
    }
}

int current_utc_year() {
    using namespace std::chrono;
    const auto days = floor<std::chrono::days>(system_clock::now());
    return static_cast<int>(year_month_day(days).year());
}

// Patterns whose fields are each present once and among year, month, day of month, hour
// (H, or h with or without a), minute, second and fraction: Joda's two passes over the sorted
// fields then amount to checking each value's range and building the date-time directly.
bool plain_fields(const std::vector<detail::ts_element>& elements) {
    uint32_t seen = 0;
    for (const detail::ts_element& e : elements) {
        if (e.field == f_none) {
            continue;
        }
        const uint32_t bit = uint32_t{1} << e.field;
        if ((seen & bit) != 0) {
            return false;
        }
        seen |= bit;
        switch (e.field) {
            case f_year:
            case f_month:
            case f_day_of_month:
            case f_hour_of_day:
            case f_clockhour_of_halfday:
            case f_halfday:
            case f_minute:
            case f_second:
            case f_millis:
                break;
            default:
                return false;
        }
    }
    const uint32_t h24 = uint32_t{1} << f_hour_of_day;
    const uint32_t h12 = (uint32_t{1} << f_clockhour_of_halfday) | (uint32_t{1} << f_halfday);
    return (seen & h24) == 0 || (seen & h12) == 0;
}

// The plain_fields() computation; false when a value is out of its range.
bool plain_local_millis(const std::array<int64_t, f_none>& v, uint32_t present, int64_t& local) {
    auto has = [&](uint8_t f) { return (present & (uint32_t{1} << f)) != 0; };
    // No year: 1970, or 2000 when a month or day leads (see parse_pattern).
    const int64_t year = has(f_year)                             ? v[f_year]
                         : (has(f_month) || has(f_day_of_month)) ? 2000
                                                                 : 1970;
    const int64_t month = has(f_month) ? v[f_month] : 1;
    const int64_t day = has(f_day_of_month) ? v[f_day_of_month] : 1;
    if (year < k_min_year || year > k_max_year || month < 1 || month > 12 || day < 1 ||
        day > days_in_month(year, month)) {
        return false;
    }
    int64_t hour = 0;
    if (has(f_hour_of_day)) {
        hour = v[f_hour_of_day];
        if (hour < 0 || hour > 23) {
            return false;
        }
    } else {
        if (has(f_halfday)) {
            if (v[f_halfday] < 0 || v[f_halfday] > 1) {
                return false;
            }
            hour = 12 * v[f_halfday];
        }
        if (has(f_clockhour_of_halfday)) {
            const int64_t h = v[f_clockhour_of_halfday];
            if (h < 1 || h > 12) {
                return false;
            }
            hour += h == 12 ? 0 : h;
        }
    }
    const int64_t minute = has(f_minute) ? v[f_minute] : 0;
    const int64_t second = has(f_second) ? v[f_second] : 0;
    const int64_t millis = has(f_millis) ? v[f_millis] : 0;
    if (minute < 0 || minute > 59 || second < 0 || second > 59 || millis < 0 || millis > 999) {
        return false;
    }
    local = days_from_civil(year, month, day) * k_ms_day + hour * k_ms_hour + minute * k_ms_minute +
            second * k_ms_second + millis;
    return true;
}
}  // namespace

// ---------------------------------------------------------------------------------------------

timestamp_value timestamp_value::from_element(simdjson::dom::element value,
                                              std::string_view number_literal) noexcept {
    switch (value.type()) {
        case simdjson::dom::element_type::INT64:
        case simdjson::dom::element_type::UINT64:
        case simdjson::dom::element_type::DOUBLE:
            if (!number_literal.empty()) {
                return timestamp_value::number_literal(number_literal);
            }
            if (value.is_int64()) {
                return integer(value.get_int64().value_unsafe());
            }
            if (value.is_uint64()) {
                return unsigned_integer(value.get_uint64().value_unsafe());
            }
            return floating(value.get_double().value_unsafe());
        case simdjson::dom::element_type::STRING:
            return string(value.get_string().value_unsafe());
        default:
            return other();
    }
}

result<index_timestamp_rule> index_timestamp_rule::compile(
    std::optional<std::string_view> timestamp_format, std::optional<std::string_view> dataset_tz,
    const index_timestamp_options& options) {
    index_timestamp_rule rule;
    std::vector<std::string> notes;

    if (dataset_tz) {
        auto zone = resolve_java_zone(*dataset_tz);
        if (!zone) {
            return make_error("dataset_tz: {}", zone.error().message);
        }
        rule._dataset_tz = zone->zone;
        if (!zone->note.empty()) {
            notes.push_back("dataset_tz: " + zone->note);
        }
    }
    {
        auto zone = resolve_java_zone(options.default_zone);
        if (!zone) {
            return make_error("default zone: {}", zone.error().message);
        }
        rule._default_zone = zone->zone;
        if (!zone->note.empty()) {
            notes.push_back("default zone: " + zone->note);
        }
    }
    rule._two_digit_pivot =
        (options.current_year != 0 ? options.current_year : current_utc_year()) - 30;

    if (!timestamp_format) {
        rule._format = format_kind::none;
    } else if (*timestamp_format == "epoch") {
        rule._format = format_kind::epoch;
    } else {
        const std::string_view pattern = *timestamp_format;
        const std::vector<pattern_token> tokens = tokenize(pattern);
        // Letters Joda rejects make forPattern throw inside Obsrv's try block: the dataset
        // loads and every string timestamp is invalid.
        std::string illegal;
        if (pattern.empty()) {
            illegal = "Invalid pattern specification";
        }
        for (const pattern_token& t : tokens) {
            if (illegal.empty() && !t.literal &&
                std::string_view("GCYyxMdahHkKmsSeEDwzZ").find(t.text[0]) ==
                    std::string_view::npos) {
                illegal = fmt::format("Illegal pattern component: {}", t.text);
            }
        }
        if (!illegal.empty()) {
            rule._format = format_kind::invalid_pattern;
            notes.push_back(fmt::format(
                "timestamp_format '{}' is rejected by Joda ({}): every string timestamp is invalid",
                pattern, illegal));
        } else {
            rule._format = format_kind::pattern;
            size_t fields = 0;
            for (size_t i = 0; i < tokens.size(); ++i) {
                const pattern_token& t = tokens[i];
                detail::ts_element e;
                if (t.literal) {
                    if (t.text.empty()) {
                        continue;
                    }
                    e.op = op_literal;
                    e.field = f_none;
                    e.literal_offset = static_cast<uint32_t>(rule._literals.size());
                    e.literal_size = static_cast<uint32_t>(t.text.size());
                    rule._literals += t.text;
                    rule._elements.push_back(e);
                    continue;
                }
                const size_t n = t.text.size();
                const bool next_numeric = i + 1 < tokens.size() && is_numeric_token(tokens[i + 1]);
                auto number = [&](uint8_t f, size_t max_digits, bool is_signed) {
                    e.op = op_number;
                    e.field = f;
                    e.max_digits =
                        static_cast<uint8_t>(std::min<size_t>(std::max(n, max_digits), 255));
                    e.flag = is_signed;
                };
                switch (t.text[0]) {
                    case 'y':
                    case 'Y':
                        if (n == 2) {
                            e.op = op_two_digit_year;
                            e.field = f_year;
                            e.flag = !next_numeric;
                        } else if (t.text[0] == 'y') {
                            number(f_year, next_numeric ? n : 9, true);
                        } else {
                            number(f_year_of_era, next_numeric ? n : 9, false);
                        }
                        break;
                    case 'M':
                        if (n >= 3) {
                            e.op = op_month_text;
                            e.field = f_month;
                        } else {
                            number(f_month, 2, false);
                        }
                        break;
                    case 'd':
                        number(f_day_of_month, 2, false);
                        break;
                    case 'D':
                        number(f_day_of_year, 3, false);
                        break;
                    case 'e':
                        number(f_day_of_week, 1, false);
                        break;
                    case 'E':
                        e.op = op_day_text;
                        e.field = f_day_of_week;
                        break;
                    case 'a':
                        e.op = op_halfday_text;
                        e.field = f_halfday;
                        break;
                    case 'H':
                        number(f_hour_of_day, 2, false);
                        break;
                    case 'k':
                        number(f_clockhour_of_day, 2, false);
                        break;
                    case 'h':
                        number(f_clockhour_of_halfday, 2, false);
                        break;
                    case 'K':
                        number(f_hour_of_halfday, 2, false);
                        break;
                    case 'm':
                        number(f_minute, 2, false);
                        break;
                    case 's':
                        number(f_second, 2, false);
                        break;
                    case 'S':
                        e.op = op_fraction;
                        e.field = f_millis;
                        e.max_digits = static_cast<uint8_t>(std::min<size_t>(n, 18));
                        break;
                    case 'Z':
                        e.field = f_none;
                        if (n <= 2) {
                            e.op = op_offset;
                        } else {
                            e.op = op_zone_id;
                            if (zone_ids().zones == nullptr) {
                                return make_error("timestamp_format '{}': {}", pattern,
                                                  zone_ids().error);
                            }
                        }
                        break;
                    case 'z': {
                        e.op = op_zone_name;
                        e.field = f_none;
                        std::string error;
                        if (default_zone_names(error) == nullptr) {
                            return make_error("timestamp_format '{}': {}", pattern, error);
                        }
                        break;
                    }
                    default:  // G, C, x, w: legal in Joda, not implemented here
                        return make_error(
                            "timestamp_format '{}': pattern letter '{}' (era, century or "
                            "week-based fields) is not supported",
                            pattern, t.text);
                }
                if (e.field != f_none && ++fields > k_max_fields) {
                    return make_error("timestamp_format '{}': more than {} fields", pattern,
                                      k_max_fields);
                }
                rule._elements.push_back(e);
            }
        }
    }
    if (rule._format == format_kind::pattern) {
        rule._plain_fields = plain_fields(rule._elements);
    }
    for (const std::string& note : notes) {
        rule._diagnostic += rule._diagnostic.empty() ? note : "; " + note;
    }
    return rule;
}

bool index_timestamp_rule::add_dataset_tz(int64_t& instant) const noexcept {
    if (_dataset_tz == nullptr) {
        return true;
    }
    // DateTime.plusMillis(tz.getOffset(dateTime)): checked, an overflow throws in Joda.
    return !__builtin_add_overflow(instant, _dataset_tz->offset_at(instant), &instant);
}

index_ts index_timestamp_rule::evaluate(const timestamp_value& value) const noexcept {
    switch (value.kind) {
        case timestamp_value::type::string:
            return evaluate_string(value.text);
        case timestamp_value::type::integer:
        case timestamp_value::type::unsigned_integer:
        case timestamp_value::type::floating:
        case timestamp_value::type::number_literal:
            return evaluate_number(value);
        default:
            return {};  // missing, null, boolean, object, array: invalid, indexTS null
    }
}

index_ts index_timestamp_rule::evaluate_number(const timestamp_value& value) const noexcept {
    std::optional<java_number> n;
    switch (value.kind) {
        case timestamp_value::type::integer:
            n = from_int64(value.int_value);
            break;
        case timestamp_value::type::unsigned_integer:
            n = value.uint_value <= uint64_t{INT64_MAX}
                    ? from_int64(static_cast<int64_t>(value.uint_value))
                    : from_uint64(value.uint_value);
            break;
        case timestamp_value::type::floating:
            n = from_double(value.double_value);
            break;
        default:
            n = from_literal(value.text);
            break;
    }
    if (!n) {
        return {};  // not a JSON number
    }
    if (n->infinity) {
        // Jackson writes a non-finite double as a string, which Obsrv then reads as text.
        return evaluate_string(n->negative ? std::string_view("-Infinity")
                                           : std::string_view("Infinity"));
    }
    const index_ts invalid_zero = index_ts::number(false, 0);
    // Long arithmetic wraps in Java: unsigned here for the same bits without overflow.
    const auto v = static_cast<uint64_t>(n->long_value);
    int64_t millis = 0;
    switch (n->text_length) {
        case 10:
            millis = static_cast<int64_t>(v * 1000u);
            break;
        case 13:
            millis = n->long_value;
            break;
        case 16:
            millis = n->long_value / 1000;
            break;
        case 19:
            millis = n->long_value / 1'000'000;
            break;
        default:
            return invalid_zero;
    }
    if (!add_dataset_tz(millis)) {
        return {};
    }
    return index_ts::number(true, millis);
}

index_ts index_timestamp_rule::evaluate_string(std::string_view text) const noexcept {
    int64_t millis = 0;
    switch (_format) {
        case format_kind::none:
            return index_ts::string(text);
        case format_kind::epoch: {
            // Long.parseLong: optional sign, then decimal digits, within long range.
            std::string_view digits = text;
            if (!digits.empty() && digits.front() == '+') {
                digits.remove_prefix(1);
                if (!digits.empty() && digits.front() == '-') {
                    return {};
                }
            }
            const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), millis);
            if (digits.empty() || r.ec != std::errc() || r.ptr != digits.data() + digits.size()) {
                return {};
            }
            break;
        }
        case format_kind::pattern:
            if (!parse_pattern(text, millis)) {
                return {};
            }
            break;
        case format_kind::invalid_pattern:
            return {};
    }
    if (!add_dataset_tz(millis)) {
        return {};
    }
    return index_ts::number(true, millis);
}

// DateTimeFormatter.parseDateTime: every element in turn, the whole text consumed, then
// DateTimeParserBucket.computeMillis.
bool index_timestamp_rule::parse_pattern(std::string_view text, int64_t& instant) const noexcept {
    std::array<saved_field, k_max_fields + 1> saved;
    size_t count = 0;
    std::optional<int64_t> offset;
    const ts_zone* zone = _default_zone;
    size_t pos = 0;

    for (const detail::ts_element& e : _elements) {
        int64_t value = 0;
        switch (e.op) {
            case op_number:
                if (!parse_number(text, pos, e.max_digits, e.flag, value)) {
                    return false;
                }
                break;
            case op_two_digit_year:
                if (!parse_two_digit_year(text, pos, e.flag, _two_digit_pivot, value)) {
                    return false;
                }
                break;
            case op_fraction:
                if (!parse_fraction(text, pos, e.max_digits, value)) {
                    return false;
                }
                break;
            case op_month_text: {
                const size_t n = match_name(text, pos, k_months, k_months_short, 9, value);
                if (n == 0) {
                    return false;
                }
                pos += n;
                value += 1;
                break;
            }
            case op_day_text: {
                const size_t n = match_name(text, pos, k_days, k_days_short, 9, value);
                if (n == 0) {
                    return false;
                }
                pos += n;
                value += 1;
                break;
            }
            case op_halfday_text: {
                const size_t n = match_name(text, pos, k_halfdays, k_halfdays, 2, value);
                if (n == 0) {
                    return false;
                }
                pos += n;
                break;
            }
            case op_literal: {
                const std::string_view literal(_literals.data() + e.literal_offset, e.literal_size);
                if (!literal_matches(text, pos, literal)) {
                    return false;
                }
                pos += literal.size();
                break;
            }
            case op_offset: {
                int64_t parsed = 0;
                if (!parse_offset(text, pos, parsed)) {
                    return false;
                }
                offset = parsed;
                break;
            }
            case op_zone_id:
                if (!parse_zone_id(text, pos, zone)) {
                    return false;
                }
                break;
            case op_zone_name:
                if (!parse_zone_name(text, pos, zone)) {
                    return false;
                }
                break;
            default:
                return false;
        }
        if (e.field != f_none) {
            saved[count++] = {e.field, value};
        }
    }
    if (pos != text.size()) {
        return false;
    }

    int64_t local = 0;
    if (_plain_fields) {
        std::array<int64_t, f_none> values{};
        uint32_t present = 0;
        for (size_t i = 0; i < count; ++i) {
            values[saved[i].field] = saved[i].value;
            present |= uint32_t{1} << saved[i].field;
        }
        if (!plain_local_millis(values, present, local)) {
            return false;
        }
    } else if (!compute_local(saved.data(), count, local)) {
        return false;
    }
    if (offset) {
        return !__builtin_sub_overflow(local, *offset, &instant);
    }
    return zone->from_local(local, instant);
}

// DateTimeParserBucket.computeMillis without the zone step.
bool index_timestamp_rule::compute_local(saved_field* saved, size_t count,
                                         int64_t& local) noexcept {
    // Stable insertion sort, largest range then largest duration first (Joda's order).
    auto sort_fields = [&] {
        auto before = [](const saved_field& a, const saved_field& b) {
            const field_units ua = k_units[a.field];
            const field_units ub = k_units[b.field];
            return ua.range != ub.range ? ua.range > ub.range : ua.duration > ub.duration;
        };
        for (size_t i = 1; i < count; ++i) {
            for (size_t j = i; j > 0 && before(saved[j], saved[j - 1]); --j) {
                std::swap(saved[j], saved[j - 1]);
            }
        }
    };
    sort_fields();
    if (count > 0) {
        // A pattern starting (in that order) with a month or day field parses in year 2000.
        const uint8_t first = k_units[saved[0].field].duration;
        if (first >= k_unit_days && first <= k_unit_months) {
            saved[count++] = {f_year, 2000};
            sort_fields();
        }
    }
    local = 0;
    for (size_t i = 0; i < count; ++i) {
        if (!set_field(saved[i].field, local, saved[i].value)) {
            return false;
        }
        local = round_floor(saved[i].field, local);
    }
    // Joda sets every field a second time so that later fields cannot undo earlier ones.
    for (size_t i = 0; i < count; ++i) {
        if (!set_field(saved[i].field, local, saved[i].value)) {
            return false;
        }
        if (i + 1 == count) {
            local = round_floor(saved[i].field, local);
        }
    }
    return true;
}

}  // namespace obsrv::pipeline
