#include "common/utf8.h"

#include <random>
#include <string>

#include <gtest/gtest.h>
#include <simdjson.h>

namespace obsrv {
namespace {

const std::string k_fffd = "\xEF\xBF\xBD";

TEST(utf8_test, well_formed_text_is_unchanged) {
    for (const std::string& text : {
             std::string(),
             std::string("plain ascii {\"a\":1}"),
             std::string(1, '\0'),
             std::string("\xC2\x80\xDF\xBF"),                  // U+0080, U+07FF
             std::string("\xE0\xA0\x80\xED\x9F\xBF"),          // U+0800, U+D7FF
             std::string("\xEE\x80\x80\xEF\xBF\xBF"),          // U+E000, U+FFFF
             std::string("\xF0\x90\x80\x80\xF4\x8F\xBF\xBF"),  // U+10000, U+10FFFF
             std::string("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"),
         }) {
        EXPECT_EQ(replace_invalid_utf8(text), text);
    }
}

// The examples of Unicode 15 §3.9 (Tables 3-8 to 3-11): one U+FFFD per maximal subpart.
TEST(utf8_test, each_maximal_subpart_becomes_one_replacement_character) {
    EXPECT_EQ(replace_invalid_utf8("\x61\xF1\x80\x80\xE1\x80\xC2\x62\x80\x63\x80\xBF\x64"),
              "a" + k_fffd + k_fffd + k_fffd + "b" + k_fffd + "c" + k_fffd + k_fffd + "d");
    // Non-shortest forms, surrogates, past U+10FFFF, bytes that never occur: every byte.
    EXPECT_EQ(replace_invalid_utf8("\xC0\xAF\xE0\x80\xBF\xF0\x81\x82\x41"),
              k_fffd + k_fffd + k_fffd + k_fffd + k_fffd + k_fffd + k_fffd + k_fffd + "A");
    // Encoded surrogates (Unicode Table 3-10 gives 8 replacements here): Java, whose output
    // Obsrv's is, reads each as one three-byte sequence, or a cut one.
    EXPECT_EQ(replace_invalid_utf8("\xED\xA0\x80\xED\xBF\xBF\xED\xAF\x41"),
              k_fffd + k_fffd + k_fffd + "A");
    EXPECT_EQ(replace_invalid_utf8("\xED\xBF\xC0"), k_fffd + k_fffd);
    EXPECT_EQ(replace_invalid_utf8("\xED\x9F\xBF\xED\x9F"), "\xED\x9F\xBF" + k_fffd);
    EXPECT_EQ(replace_invalid_utf8("\xF4\x91\x92\x93\xFF\x41\x80\xBF\x42"),
              k_fffd + k_fffd + k_fffd + k_fffd + k_fffd + "A" + k_fffd + k_fffd + "B");
    // Truncated sequences: the prefix that could still be completed is one subpart.
    EXPECT_EQ(replace_invalid_utf8("\xE1\x80\xE2\xF0\x91\x92\xF1\xBF\x41"),
              k_fffd + k_fffd + k_fffd + k_fffd + "A");
    EXPECT_EQ(replace_invalid_utf8("ends in \xF0\x9F\x98"), "ends in " + k_fffd);
    EXPECT_EQ(replace_invalid_utf8("\xC3"), k_fffd);
}

TEST(utf8_test, any_bytes_come_out_well_formed_and_keep_their_well_formed_parts) {
    std::mt19937 rng(7);
    // Bytes weighted towards the interesting ones: leads, continuations, ASCII.
    const std::string alphabet =
        "a{\"\x80\x8F\x90\x9F\xA0\xBF\xC0\xC2\xDF\xE0\xE1\xED\xEF\xF0\xF4\xF5\xFF";
    for (int round = 0; round < 20000; ++round) {
        std::string bytes(rng() % 12, '\0');
        for (char& c : bytes) {
            c = alphabet[rng() % alphabet.size()];
        }
        const std::string out = replace_invalid_utf8(bytes);
        ASSERT_TRUE(simdjson::validate_utf8(out.data(), out.size())) << round;
        if (simdjson::validate_utf8(bytes.data(), bytes.size())) {
            ASSERT_EQ(out, bytes) << round;
        } else {
            ASSERT_NE(out.find(k_fffd), std::string::npos) << round;
        }
        // ASCII is never swallowed by a replacement.
        size_t ascii_in = 0, ascii_out = 0;
        for (char c : bytes) {
            ascii_in += static_cast<unsigned char>(c) < 0x80 ? 1 : 0;
        }
        for (char c : out) {
            ascii_out += static_cast<unsigned char>(c) < 0x80 ? 1 : 0;
        }
        ASSERT_EQ(ascii_in, ascii_out) << round;
    }
}

}  // namespace
}  // namespace obsrv
