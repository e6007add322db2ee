// The raw JSON scanners (src/common/json_text.h) against a plain reference: they find value
// ends 16 bytes at a time, and must agree byte for byte with a byte-at-a-time scan on any
// input, whatever the alignment of quotes, escapes and brackets.

#include "common/json_text.h"

#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace {

using obsrv::json_text::skip_string;
using obsrv::json_text::skip_value;

// One byte at a time: the string ends at the first quote preceded by an even number of
// backslashes (counted back to the opening quote).
const char* reference_skip_string(const char* p, const char* end) {
    if (p >= end || *p != '"') {
        return nullptr;
    }
    for (const char* q = p + 1; q < end; ++q) {
        if (*q != '"') {
            continue;
        }
        size_t backslashes = 0;
        for (const char* b = q - 1; b > p && *b == '\\'; --b) {
            ++backslashes;
        }
        if (backslashes % 2 == 0) {
            return q + 1;
        }
    }
    return nullptr;
}

const char* reference_skip_nested(const char* p, const char* end) {
    size_t depth = 0;
    while (p < end) {
        switch (*p) {
            case '"':
                p = reference_skip_string(p, end);
                if (p == nullptr) {
                    return nullptr;
                }
                continue;
            case '{':
            case '[':
                ++depth;
                break;
            case '}':
            case ']':
                if (depth == 0) {
                    return nullptr;
                }
                if (--depth == 0) {
                    return p + 1;
                }
                break;
            default:
                break;
        }
        ++p;
    }
    return nullptr;
}

size_t offset(const char* p, std::string_view s) {
    return p == nullptr ? std::string::npos : static_cast<size_t>(p - s.data());
}

TEST(json_text, skip_string_honours_escapes_at_any_position) {
    const std::vector<std::string> cases = {
        R"("")",
        R"("a")",
        R"("\"")",
        R"("\\")",
        R"("\\\"")",
        R"("0123456789abcdef\"0123456789abcdef")",
        R"("0123456789abcde\\"tail")",
        R"("0123456789abcdefghijklmnopqrstu\\\\\\\\\"x" + rest)",
        R"("{[not structure]}", 1)",
        R"("unterminated\")",
        R"("unterminated\)",
    };
    for (const auto& c : cases) {
        const char* end = c.data() + c.size();
        EXPECT_EQ(offset(skip_string(c.data(), end), c),
                  offset(reference_skip_string(c.data(), end), c))
            << c;
    }
}

TEST(json_text, skip_value_finds_the_end_of_nested_values) {
    const std::string event =
        R"({"eid":"INTERACT","tags":["a]","b}"],"o":{"s":"q\"}{","n":[1,[2,{"x":"\\"}]]}},)"
        R"("after":1)";
    const char* end = event.data() + event.size();
    EXPECT_EQ(offset(skip_value(event.data(), end), event), event.find(R"(,"after")"));
    EXPECT_EQ(skip_value(event.data(), event.data() + 40), nullptr) << "cut short";
}

TEST(json_text, scanners_agree_with_a_byte_at_a_time_scan_on_random_text) {
    // Random text over the bytes that matter, so that quotes, runs of backslashes and brackets
    // fall at every offset of the 64-byte blocks the scanner classifies. Backslashes appear only
    // inside strings, as in any JSON text (the scanners are meant for validated JSON; outside a
    // string a backslash is already invalid); the last string may stay unterminated.
    constexpr std::string_view outside = "{}[]ab,: ";
    constexpr std::string_view inside_units[] = {"\\\"", "\\\\", "a", "{", "}", "[", "]", " ", ","};
    std::mt19937 rng(7);
    std::uniform_int_distribution<size_t> pick_outside(0, outside.size() - 1);
    std::uniform_int_distribution<size_t> pick_inside(0, std::size(inside_units) - 1);
    std::uniform_int_distribution<size_t> length(1, 300);
    std::uniform_int_distribution<int> percent(0, 99);
    for (int round = 0; round < 20000; ++round) {
        std::string text;
        const size_t n = length(rng);
        const bool starts_with_string = round % 2 == 0;
        bool in_string = starts_with_string;
        text.push_back(starts_with_string ? '"' : (round % 4 == 1 ? '{' : '['));
        while (text.size() < n) {
            if (in_string) {
                if (percent(rng) < 15) {
                    text.push_back('"');
                    in_string = false;
                } else {
                    text.append(inside_units[pick_inside(rng)]);
                }
            } else if (percent(rng) < 20) {
                text.push_back('"');
                in_string = true;
            } else {
                text.push_back(outside[pick_outside(rng)]);
            }
        }
        const char* end = text.data() + text.size();
        const char* expected = text[0] == '"' ? reference_skip_string(text.data(), end)
                                              : reference_skip_nested(text.data(), end);
        ASSERT_EQ(offset(skip_value(text.data(), end), text), offset(expected, text)) << text;
    }
}

}  // namespace
