#pragma once

// Hexadecimal digits, as JSON \u escapes, percent-encoding and regex escapes spell them.

namespace obsrv {

/// The value of one hexadecimal digit of either case, or -1.
constexpr int hex_digit_value(char c) noexcept {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

static_assert(hex_digit_value('0') == 0 && hex_digit_value('9') == 9);
static_assert(hex_digit_value('a') == 10 && hex_digit_value('F') == 15);
static_assert(hex_digit_value('g') == -1 && hex_digit_value('/') == -1);

}  // namespace obsrv
