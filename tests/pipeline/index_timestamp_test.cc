// The router's indexTS rule against Obsrv's TimestampKeyParser: every case of Obsrv's
// TestTimestampKeyParser.scala, then epoch widths, Java number texts, Joda patterns and zones.
// Expected instants were computed outside this code (python3 zoneinfo, GNU date).

#include "pipeline/index_timestamp.h"

#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

namespace obsrv::pipeline {

// Readable failures.
void PrintTo(const index_ts& ts, std::ostream* os) {
    *os << "{valid=" << ts.valid << ", ";
    switch (ts.kind) {
        case index_ts::type::millis:
            *os << "millis=" << ts.millis;
            break;
        case index_ts::type::text:
            *os << "text=\"" << ts.text << '"';
            break;
        case index_ts::type::null:
            *os << "null";
            break;
    }
    *os << '}';
}

}  // namespace obsrv::pipeline

namespace {

using obsrv::pipeline::index_timestamp_options;
using obsrv::pipeline::index_timestamp_rule;
using obsrv::pipeline::index_ts;
using obsrv::pipeline::timestamp_value;

constexpr std::nullopt_t none = std::nullopt;
constexpr int64_t k_ist_ms = 19'800'000;  // +05:30

index_timestamp_rule rule(std::optional<std::string_view> format,
                          std::optional<std::string_view> tz,
                          std::string_view default_zone = "UTC") {
    auto compiled = index_timestamp_rule::compile(
        format, tz, index_timestamp_options{.default_zone = default_zone, .current_year = 2026});
    if (!compiled) {
        ADD_FAILURE() << "compile failed: " << compiled.error().message;
        return {};
    }
    return std::move(compiled).value();
}

index_ts valid_ms(int64_t ms) {
    return index_ts::number(true, ms);
}
const index_ts k_invalid_zero = index_ts::number(false, 0);
const index_ts k_invalid_null = index_ts::null();

index_ts str(const index_timestamp_rule& r, std::string_view text) {
    return r.evaluate(timestamp_value::string(text));
}
index_ts lit(const index_timestamp_rule& r, std::string_view literal) {
    return r.evaluate(timestamp_value::number_literal(literal));
}

// --- TestTimestampKeyParser.scala, "timestamp key in number format" ---------------------------

TEST(index_timestamp_obsrv, number_scenarios) {
    const auto plain = rule(none, none);
    // result1: a text date without format or zone is used as it is
    EXPECT_EQ(str(plain, "2023-03-01"), index_ts::string("2023-03-01"));
    // result2: missing key
    EXPECT_EQ(plain.evaluate(timestamp_value::missing()), k_invalid_null);
    // result3: a number that is no epoch (8 digits)
    EXPECT_EQ(plain.evaluate(timestamp_value::integer(20232201)), k_invalid_zero);
    // result4-7: seconds, milliseconds, microseconds, nanoseconds
    EXPECT_EQ(plain.evaluate(timestamp_value::integer(1701373165)), valid_ms(1701373165000));
    EXPECT_EQ(plain.evaluate(timestamp_value::integer(1701373165123)), valid_ms(1701373165123));
    EXPECT_EQ(plain.evaluate(timestamp_value::integer(1701373165123111)), valid_ms(1701373165123));
    EXPECT_EQ(plain.evaluate(timestamp_value::integer(1701373165123111000)),
              valid_ms(1701373165123));
    // result8: 12 digits
    EXPECT_EQ(plain.evaluate(timestamp_value::integer(170137316512)), k_invalid_zero);
    // result9: epoch ms with dataset_tz GMT+05:30
    EXPECT_EQ(rule(none, "GMT+05:30").evaluate(timestamp_value::integer(1701373165123)),
              valid_ms(1701392965123));
}

// --- TestTimestampKeyParser.scala, "timestamp key in text format" -----------------------------
// Obsrv's expectations for patterns hold for a JVM running in IST (1677609000000 is
// 2023-03-01T00:00+05:30), so they are checked with that default zone, and again with UTC, the
// zone of Obsrv's deployed jobs.

TEST(index_timestamp_obsrv, text_scenarios_as_in_obsrv_tests) {
    constexpr std::string_view ist = "Asia/Kolkata";
    // result1: epoch text with GMT+05:30
    EXPECT_EQ(str(rule("epoch", "GMT+05:30", ist), "1701373165123"), valid_ms(1701392965123));
    // result2: a 12-digit epoch text is taken as milliseconds all the same
    EXPECT_EQ(str(rule("epoch", "GMT+05:30", ist), "170137316512"), valid_ms(170157116512));
    // result3: yyyy-MM-dd without dataset_tz
    EXPECT_EQ(str(rule("yyyy-MM-dd", none, ist), "2023-03-01"), valid_ms(1677609000000));
    // result4: yyyy-MM-dd with GMT+05:30
    EXPECT_EQ(str(rule("yyyy-MM-dd", "GMT+05:30", ist), "2023-03-01"), valid_ms(1677628800000));
    // result5: nanosecond fraction with GMT+05:30
    EXPECT_EQ(str(rule("yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSS", "GMT+05:30", ist),
                  "2023-03-01T12:45:32.123456789"),
              valid_ms(1677674732123));
    // result6: more fraction digits than the pattern reads
    EXPECT_EQ(
        str(rule("yyyy-MM-dd'T'HH:mm:ss.SSS", "GMT+05:30", ist), "2023-03-01T12:45:32.123456"),
        k_invalid_null);
}

TEST(index_timestamp_obsrv, text_scenarios_with_utc_default_zone) {
    EXPECT_EQ(str(rule("yyyy-MM-dd", none), "2023-03-01"), valid_ms(1677628800000));
    EXPECT_EQ(str(rule("yyyy-MM-dd", "GMT+05:30"), "2023-03-01"),
              valid_ms(1677628800000 + k_ist_ms));
    EXPECT_EQ(
        str(rule("yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSS", "GMT+05:30"), "2023-03-01T12:45:32.123456789"),
        valid_ms(1677674732123 + k_ist_ms));
    EXPECT_EQ(str(rule("yyyy-MM-dd'T'HH:mm:ss.SSS", "GMT+05:30"), "2023-03-01T12:45:32.123456"),
              k_invalid_null);
}

// --- numbers ----------------------------------------------------------------------------------

TEST(index_timestamp_number, each_epoch_width) {
    const auto r = rule(none, none);
    EXPECT_EQ(lit(r, "1711966530"), valid_ms(1711966530000));
    EXPECT_EQ(lit(r, "1711966530123"), valid_ms(1711966530123));
    EXPECT_EQ(lit(r, "1711966530123456"), valid_ms(1711966530123));
    EXPECT_EQ(lit(r, "1711966530123456789"), valid_ms(1711966530123));
    // A width decides, not a magnitude: ten digits of 1000000000 are seconds (2001-09-09).
    EXPECT_EQ(lit(r, "1000000000"), valid_ms(1000000000000));
}

TEST(index_timestamp_number, other_widths_are_invalid_with_value_zero) {
    const auto r = rule(none, none);
    for (std::string_view n : {"0", "171196653", "17119665301", "171196653012", "17119665301234",
                               "171196653012345", "17119665301234567", "17119665301234567890"}) {
        EXPECT_EQ(lit(r, n), k_invalid_zero) << n;
    }
}

TEST(index_timestamp_number, negative_numbers_count_their_sign) {
    const auto r = rule(none, none);
    EXPECT_EQ(r.evaluate(timestamp_value::integer(-170137316)), valid_ms(-170137316000));
    EXPECT_EQ(lit(r, "-170137316"), valid_ms(-170137316000));
    EXPECT_EQ(r.evaluate(timestamp_value::integer(-1701373165)), k_invalid_zero);
    EXPECT_EQ(lit(r, "-1701373165"), k_invalid_zero);
    EXPECT_EQ(lit(r, "-0"), k_invalid_zero) << "Jackson reads -0 as the int 0";
}

TEST(index_timestamp_number, decimals_use_java_double_to_string) {
    const auto r = rule(none, none);
    // Double.toString(1711966306.164) is "1.711966306164E9": 16 characters, so Obsrv takes it
    // as microseconds of the truncated value 1711966306.
    EXPECT_EQ(lit(r, "1711966306.164"), valid_ms(1711966));
    EXPECT_EQ(r.evaluate(timestamp_value::floating(1711966306.164)), valid_ms(1711966));
    EXPECT_EQ(lit(r, "1.711966306164E9"), valid_ms(1711966));
    // "1.7119663061E9" has 14 characters.
    EXPECT_EQ(lit(r, "1711966306.1"), k_invalid_zero);
    // Plain notation below 1e7: "123456.789012" has 13 characters → 123456 ms.
    EXPECT_EQ(lit(r, "123456.789012"), valid_ms(123456));
    EXPECT_EQ(r.evaluate(timestamp_value::floating(123456.789012)), valid_ms(123456));
    // "1234567.0" (9), "1.5" (3), a float literal with integer value "1.711966306E9" (13).
    EXPECT_EQ(lit(r, "1234567"), k_invalid_zero);
    EXPECT_EQ(lit(r, "1234567.0"), k_invalid_zero);
    EXPECT_EQ(lit(r, "1.5"), k_invalid_zero);
    EXPECT_EQ(lit(r, "1711966306.0"), valid_ms(1711966306));
    EXPECT_EQ(lit(r, "17119663060e-1"), valid_ms(1711966306));
    // Ten characters, saturated to Long.MAX_VALUE, times 1000 wraps to -1000 in Java.
    EXPECT_EQ(lit(r, "1.2345E300"), valid_ms(-1000));
    // Beyond double: Jackson re-serializes Infinity as a string.
    EXPECT_EQ(lit(r, "1e400"), index_ts::string("Infinity"));
    EXPECT_EQ(lit(rule("epoch", none), "-1e400"), k_invalid_null);
    EXPECT_EQ(lit(r, "1e-400"), k_invalid_zero) << "0.0";
}

TEST(index_timestamp_number, integers_beyond_long_are_java_big_integers) {
    const auto r = rule(none, none);
    // 19 digits above Long.MAX_VALUE: BigInteger, longValue() keeps the low 64 bits.
    EXPECT_EQ(lit(r, "9999999999999999999"), valid_ms(-8446744073709));
    EXPECT_EQ(r.evaluate(timestamp_value::unsigned_integer(9999999999999999999u)),
              valid_ms(-8446744073709));
    EXPECT_EQ(lit(r, "99999999999999999999999"), k_invalid_zero);
    EXPECT_EQ(lit(r, "-9223372036854775809"), k_invalid_zero);
}

TEST(index_timestamp_number, other_json_types_are_invalid_with_null) {
    const auto r = rule(none, none);
    EXPECT_EQ(r.evaluate(timestamp_value::other()), k_invalid_null);
    EXPECT_EQ(r.evaluate(timestamp_value::missing()), k_invalid_null);
}

TEST(index_timestamp_number, from_simdjson_elements) {
    simdjson::dom::parser parser;
    const simdjson::padded_string json(std::string_view(
        R"({"a":1701373165,"b":"2023-03-01","c":null,"d":1.711966306164E9,"e":true,"f":{}})"));
    const simdjson::dom::element doc = parser.parse(json).value();
    const auto r = rule(none, none);
    auto at = [&](const char* key) { return timestamp_value::from_element(doc[key].value()); };
    EXPECT_EQ(r.evaluate(at("a")), valid_ms(1701373165000));
    EXPECT_EQ(r.evaluate(at("b")), index_ts::string("2023-03-01"));
    EXPECT_EQ(r.evaluate(at("c")), k_invalid_null);
    EXPECT_EQ(r.evaluate(at("d")), valid_ms(1711966));
    EXPECT_EQ(r.evaluate(at("e")), k_invalid_null);
    EXPECT_EQ(r.evaluate(at("f")), k_invalid_null);
    // The literal wins over a value the document holds patched.
    EXPECT_EQ(r.evaluate(timestamp_value::from_element(doc["a"].value(), "9999999999999999999")),
              valid_ms(-8446744073709));
}

// --- epoch text -------------------------------------------------------------------------------

TEST(index_timestamp_epoch, long_parse_long_rules) {
    const auto r = rule("epoch", none);
    EXPECT_EQ(str(r, "1711966530123"), valid_ms(1711966530123));
    EXPECT_EQ(str(r, "+1711966530123"), valid_ms(1711966530123));
    EXPECT_EQ(str(r, "-5"), valid_ms(-5));
    EXPECT_EQ(str(r, "0001"), valid_ms(1));
    for (std::string_view bad :
         {"", "+", "-", " 1", "1 ", "1.5", "0x10", "+-1", "1e3", "9223372036854775808"}) {
        EXPECT_EQ(str(r, bad), k_invalid_null) << '"' << bad << '"';
    }
    // Numbers are read by width whatever the format says.
    EXPECT_EQ(r.evaluate(timestamp_value::integer(1711966530)), valid_ms(1711966530000));
    // Adding the offset past Long.MAX_VALUE throws in Joda: invalid.
    EXPECT_EQ(str(rule("epoch", "GMT+01:00"), "9223372036854775807"), k_invalid_null);
}

// --- Joda patterns ----------------------------------------------------------------------------

TEST(index_timestamp_pattern, iso_with_offset) {
    const auto r = rule("yyyy-MM-dd'T'HH:mm:ss.SSSZ", none);
    EXPECT_EQ(str(r, "2024-04-01T10:15:30.123+0530"), valid_ms(1711946730123));
    EXPECT_EQ(str(r, "2024-04-01T10:15:30.123+05:30"), valid_ms(1711946730123));
    EXPECT_EQ(str(r, "2024-04-01T10:15:30.123Z"), valid_ms(1711966530123));
    EXPECT_EQ(str(r, "2024-04-01T10:15:30.123+00"), valid_ms(1711966530123));
    EXPECT_EQ(str(r, "2024-04-01t10:15:30.123z"), valid_ms(1711966530123))
        << "literals and the zero offset ignore case";
    EXPECT_EQ(str(r, "2024-04-01T10:15:30.1Z"), valid_ms(1711966530100));
    EXPECT_EQ(str(r, "2024-04-01T10:15:30.123"), k_invalid_null);
    EXPECT_EQ(str(r, "2024-04-01T10:15:30.123+2400"), k_invalid_null);
    EXPECT_EQ(str(r, "2024-04-01T10:15:30.123+05:3"), k_invalid_null);
    // The text's offset wins over the default zone; dataset_tz is added afterwards.
    EXPECT_EQ(str(rule("yyyy-MM-dd'T'HH:mm:ss.SSSZ", "Asia/Kolkata", "America/New_York"),
                  "2024-04-01T10:15:30.123+0530"),
              valid_ms(1711946730123 + k_ist_ms));
}

TEST(index_timestamp_pattern, date_time_without_zone_is_utc) {
    const auto r = rule("yyyy-MM-dd HH:mm:ss", none);
    EXPECT_EQ(str(r, "2024-04-01 10:15:30"), valid_ms(1711966530000));
    EXPECT_EQ(str(r, "2024-4-1 10:15:30"), valid_ms(1711966530000)) << "widths are not checked";
    EXPECT_EQ(str(r, "2024-04-01 10:15:30 "), k_invalid_null) << "the whole text must be read";
    EXPECT_EQ(str(r, "2024-04-01 10:15"), k_invalid_null);
    EXPECT_EQ(str(r, "2024-04-01 24:00:00"), k_invalid_null);
    EXPECT_EQ(str(r, "2024-04-31 10:15:30"), k_invalid_null);
    EXPECT_EQ(str(r, "2024-13-01 10:15:30"), k_invalid_null);
    EXPECT_EQ(str(r, ""), k_invalid_null);
    EXPECT_EQ(str(rule("yyyy-MM-dd HH:mm:ss", "Asia/Kolkata"), "2024-04-01 10:15:30"),
              valid_ms(1711966530000 + k_ist_ms));
}

TEST(index_timestamp_pattern, day_month_year) {
    const auto r = rule("dd/MM/yyyy", none);
    EXPECT_EQ(str(r, "01/04/2024"), valid_ms(1711929600000));
    EXPECT_EQ(str(r, "1/4/2024"), valid_ms(1711929600000));
    EXPECT_EQ(str(r, "29/02/2024"), valid_ms(1709164800000));
    EXPECT_EQ(str(r, "29/02/2023"), k_invalid_null);
    EXPECT_EQ(str(r, "001/04/2024"), k_invalid_null) << "two digits at most";
    // Obsrv's yyyy-MM-dd rejects Feb 29 of a common year too.
    EXPECT_EQ(str(rule("yyyy-MM-dd", none), "2023-02-29"), k_invalid_null);
}

TEST(index_timestamp_pattern, month_names_and_am_pm) {
    const auto r = rule("MMM d, yyyy h:mm a", none);
    EXPECT_EQ(str(r, "Apr 1, 2024 3:05 PM"), valid_ms(1711983900000));
    EXPECT_EQ(str(r, "Apr 1, 2024 12:05 AM"), valid_ms(1711929900000));
    EXPECT_EQ(str(r, "Apr 1, 2024 12:05 PM"), valid_ms(1711973100000));
    EXPECT_EQ(str(r, "April 1, 2024 3:05 pm"), valid_ms(1711983900000)) << "long names too";
    EXPECT_EQ(str(r, "APR 1, 2024 3:05 PM"), valid_ms(1711983900000));
    EXPECT_EQ(str(r, "aPr 1, 2024 3:05 PM"), k_invalid_null) << "mixed case is no name";
    EXPECT_EQ(str(r, "Apr 1, 2024 13:05 PM"), k_invalid_null);
    EXPECT_EQ(str(r, "Apr 1, 2024 3:05 Pm"), k_invalid_null);
    EXPECT_EQ(str(r, "Foo 1, 2024 3:05 PM"), k_invalid_null);
}

TEST(index_timestamp_pattern, day_names_move_the_date_within_its_week) {
    const auto r = rule("EEE, dd MMM yyyy HH:mm:ss Z", none);
    EXPECT_EQ(str(r, "Wed, 01 Mar 2023 10:00:00 +0000"), valid_ms(1677664800000));
    // Joda sets dayOfWeek after the date: Monday of that week, 2023-02-27.
    EXPECT_EQ(str(r, "Mon, 01 Mar 2023 10:00:00 +0000"), valid_ms(1677492000000));
    EXPECT_EQ(str(rule("EEEE, dd MMM yyyy HH:mm:ss Z", none), "Wednesday, 01 Mar 2023 10:00:00 Z"),
              valid_ms(1677664800000));
}

TEST(index_timestamp_pattern, day_of_year_two_digit_years_and_defaults) {
    EXPECT_EQ(str(rule("yyyy-DDD", none), "2024-060"), valid_ms(1709164800000));
    EXPECT_EQ(str(rule("yyyy-DDD", none), "2023-366"), k_invalid_null);
    // Pivot: compiled in 2026 → 1946..2045.
    const auto yy = rule("dd/MM/yy", none);
    EXPECT_EQ(str(yy, "01/04/24"), valid_ms(1711929600000));
    EXPECT_EQ(str(yy, "01/04/50"), valid_ms(-623376000000));
    EXPECT_EQ(str(yy, "01/04/45"), valid_ms(2374617600000));
    EXPECT_EQ(str(yy, "01/04/2024"), valid_ms(1711929600000)) << "lenient: other widths as is";
    EXPECT_EQ(str(rule("yyMMdd", none), "240401"), valid_ms(1711929600000));
    EXPECT_EQ(str(rule("yyyyMMdd", none), "20240401"), valid_ms(1711929600000));
    // No year: 1970, or 2000 when the first field is a month or a day.
    EXPECT_EQ(str(rule("HH:mm", none), "10:30"), valid_ms(37800000));
    EXPECT_EQ(str(rule("dd/MM", none), "29/02"), valid_ms(951782400000));
}

TEST(index_timestamp_pattern, repeated_fields_take_joda_general_path) {
    // A field given twice leaves the direct computation for Joda's sorted two-pass one; both
    // must agree on ordinary input.
    EXPECT_EQ(str(rule("yyyy-MM-dd HH:mm:ss.SSS 'x' yyyy", none), "2024-04-01 10:15:30.123 x 2024"),
              valid_ms(1711966530123));
    EXPECT_EQ(str(rule("dd/MM/yyyy dd", none), "01/04/2024 01"), valid_ms(1711929600000));
    EXPECT_EQ(str(rule("dd/MM/yyyy dd", none), "29/02/2023 29"), k_invalid_null);
    EXPECT_EQ(str(rule("MMM d, yyyy h:mm a a", none), "Apr 1, 2024 3:05 PM PM"),
              valid_ms(1711983900000));
    // With both H and a, the hour of day wins (it is set last).
    EXPECT_EQ(str(rule("yyyy-MM-dd HH a", none), "2024-04-01 10 PM"), valid_ms(1711965600000));
}

TEST(index_timestamp_pattern, literals_and_quotes) {
    EXPECT_EQ(str(rule("yyyy-MM-dd'T'HH", none), "2024-04-01t10"), valid_ms(1711965600000));
    EXPECT_EQ(str(rule("yyyy''MM''dd", none), "2024'04'01"), valid_ms(1711929600000));
    EXPECT_EQ(str(rule("'at' yyyy-MM-dd", none), "AT 2024-04-01"), valid_ms(1711929600000));
    EXPECT_EQ(str(rule("yyyy-MM-dd", none), "2024/04/01"), k_invalid_null);
}

TEST(index_timestamp_pattern, zone_ids_and_names_in_the_text) {
    const auto r = rule("yyyy-MM-dd HH:mm ZZZ", none);
    EXPECT_EQ(str(r, "2024-07-01 12:00 America/New_York"), valid_ms(1719849600000));
    EXPECT_EQ(str(r, "2024-01-01 12:00 Europe/Paris"), valid_ms(1704106800000));
    EXPECT_EQ(str(r, "2024-04-01 10:15 UTC"), valid_ms(1711966500000));
    EXPECT_EQ(str(r, "2024-04-01 10:15 Mars/Olympus"), k_invalid_null);
    // A local time in the spring-forward gap does not exist: Joda throws.
    EXPECT_EQ(str(r, "2024-03-10 02:30 America/New_York"), k_invalid_null);
    // Twice in the autumn: the earlier instant (EDT).
    EXPECT_EQ(str(r, "2024-11-03 01:30 America/New_York"), valid_ms(1730611800000));
    // "z" reads Joda's default names; EST is New York with its DST rules.
    const auto z = rule("yyyy-MM-dd HH:mm z", none);
    EXPECT_EQ(str(z, "2024-07-01 12:00 EST"), valid_ms(1719849600000));
    EXPECT_EQ(str(z, "2024-04-01 10:15 UTC"), valid_ms(1711966500000));
    EXPECT_EQ(str(z, "2024-04-01 10:15 IST"), k_invalid_null);
}

TEST(index_timestamp_pattern, compile_errors_and_joda_rejections) {
    for (std::string_view unsupported : {"G yyyy", "xxxx-ww", "CC yy", "yyyy-ww"}) {
        auto r = index_timestamp_rule::compile(unsupported, std::nullopt);
        ASSERT_FALSE(r) << unsupported;
        EXPECT_NE(r.error().message.find("not supported"), std::string::npos) << r.error().message;
    }
    // Letters Joda itself rejects: the dataset loads, string timestamps are invalid, numbers
    // still work, and diagnostic() explains.
    for (std::string_view illegal : {"yyyy-MM-ddTHH:mm", "yyyy-MM-dd q", ""}) {
        auto r = index_timestamp_rule::compile(illegal, std::nullopt);
        ASSERT_TRUE(r) << illegal;
        EXPECT_EQ(r->evaluate(timestamp_value::string("2024-04-01T10:15")), k_invalid_null);
        EXPECT_EQ(r->evaluate(timestamp_value::integer(1711966530)), valid_ms(1711966530000));
        EXPECT_NE(r->diagnostic().find("rejected by Joda"), std::string::npos) << illegal;
    }
    EXPECT_TRUE(rule("yyyy-MM-dd", none).diagnostic().empty());
}

// --- dataset_tz -------------------------------------------------------------------------------

TEST(index_timestamp_tz, region_zones_follow_dst) {
    const auto ny = rule(none, "America/New_York");
    EXPECT_EQ(ny.evaluate(timestamp_value::integer(1719835200000)),
              valid_ms(1719835200000 - 14'400'000));
    EXPECT_EQ(ny.evaluate(timestamp_value::integer(1705320000000)),
              valid_ms(1705320000000 - 18'000'000));
    EXPECT_EQ(rule(none, "Asia/Kolkata").evaluate(timestamp_value::integer(1711966530000)),
              valid_ms(1711966530000 + k_ist_ms));
    EXPECT_EQ(rule(none, "Asia/Calcutta").evaluate(timestamp_value::integer(1711966530000)),
              valid_ms(1711966530000 + k_ist_ms));
    EXPECT_EQ(rule(none, "UTC").evaluate(timestamp_value::integer(1711966530000)),
              valid_ms(1711966530000));
}

TEST(index_timestamp_tz, java_id_rules) {
    const auto at = [](std::string_view tz) {
        return rule(none, tz).evaluate(timestamp_value::integer(1719835200000)).millis -
               1719835200000;
    };
    EXPECT_EQ(at("GMT+05:30"), k_ist_ms);
    EXPECT_EQ(at("GMT+0530"), k_ist_ms);
    EXPECT_EQ(at("GMT+5:30"), k_ist_ms);
    EXPECT_EQ(at("GMT+5"), 18'000'000);
    EXPECT_EQ(at("GMT-08:00"), -28'800'000);
    EXPECT_EQ(at("IST"), k_ist_ms) << "Joda maps Java's IST to Asia/Kolkata";
    EXPECT_EQ(at("EST"), -14'400'000) << "Joda maps EST to New York, DST included";
    EXPECT_EQ(at("Etc/GMT-3"), 10'800'000);
    // Unknown to Java: GMT, offset 0, and a diagnostic for the dataset load.
    for (std::string_view unknown :
         {"Asia/Kolkatta", "asia/kolkata", "UTC+05:30", "GMT+24", "GMT+5:3", "+05:30", "",
          "posix/Asia/Kolkata", "/etc/passwd", "../zoneinfo/Asia/Kolkata"}) {
        auto r = index_timestamp_rule::compile(std::nullopt, unknown);
        ASSERT_TRUE(r) << unknown;
        EXPECT_EQ(r->evaluate(timestamp_value::integer(1719835200000)), valid_ms(1719835200000))
            << unknown;
        EXPECT_NE(r->diagnostic().find("unknown time zone"), std::string::npos) << unknown;
    }
}

TEST(index_timestamp_tz, text_without_format_ignores_the_zone) {
    EXPECT_EQ(str(rule(none, "Asia/Kolkata"), "not a date"), index_ts::string("not a date"));
}

}  // namespace
