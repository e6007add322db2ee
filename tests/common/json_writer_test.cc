// append_json_string copies runs of plain bytes at once: every byte value, alone and between
// plain text, must come out escaped exactly as JSON.stringify (for ASCII) does.

#include "common/json_writer.h"

#include <string>

#include <gtest/gtest.h>

namespace {

std::string escaped_byte(unsigned char u) {
    switch (u) {
        case '"':
            return "\\\"";
        case '\\':
            return "\\\\";
        case '\n':
            return "\\n";
        case '\r':
            return "\\r";
        case '\t':
            return "\\t";
        case '\b':
            return "\\b";
        case '\f':
            return "\\f";
        default:
            break;
    }
    if (u < 0x20) {
        static constexpr char k_hex[] = "0123456789abcdef";
        return std::string("\\u00") + k_hex[u >> 4] + k_hex[u & 0xf];
    }
    return std::string(1, static_cast<char>(u));
}

TEST(json_writer, append_json_string_escapes_every_byte_wherever_it_stands) {
    for (int b = 0; b < 256; ++b) {
        const auto u = static_cast<unsigned char>(b);
        const std::string byte(1, static_cast<char>(u));
        for (const std::string& text :
             {byte, "ab" + byte, byte + "cd", "ab" + byte + byte + "cd"}) {
            std::string expected = "\"";
            for (char c : text) {
                expected += escaped_byte(static_cast<unsigned char>(c));
            }
            expected += "\"";
            std::string out = "x";
            obsrv::append_json_string(out, text);
            EXPECT_EQ(out, "x" + expected) << "byte " << b;
        }
    }
    std::string empty;
    obsrv::append_json_string(empty, "");
    EXPECT_EQ(empty, "\"\"");
}

}  // namespace
