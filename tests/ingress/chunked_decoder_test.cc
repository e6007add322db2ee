#include "ingress/chunked_decoder.h"

#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

namespace obsrv::ingress {
namespace {

using namespace std::string_literals;

struct message {
    std::string encoded;
    std::string decoded;
};

// Valid bodies covering the grammar: several chunks, hex case, leading zeros, extensions with
// BWS and quoted strings, trailers, an empty body.
const std::vector<message> k_messages = {
    {"5\r\nhello\r\n0\r\n\r\n", "hello"},
    {"0\r\n\r\n", ""},
    {"1\r\na\r\n2\r\nbc\r\n3\r\ndef\r\n0\r\n\r\n", "abcdef"},
    {"A\r\n0123456789\r\nb\r\nabcdefghijk\r\n0\r\n\r\n", "0123456789abcdefghijk"},
    {"0005\r\nhello\r\n000\r\n\r\n", "hello"},
    {"5;name=value\r\nhello\r\n6;a;b=\"q;x \\\" y\"\r\n world\r\n0;last\r\n\r\n", "hello world"},
    {"5 ;a = b\r\nhello\r\n0\t;x\r\n\r\n", "hello"},
    {"3\r\n\r\n\r\r\n0\r\nX-Checksum: abc\r\nX-Empty:\r\nX-Tab:\tv\t\r\n\r\n", "\r\n\r"},
    {"4\r\n0\r\n\r\r\n0\r\n\r\n", "0\r\n\r"},
    {"10\r\n" + std::string(16, 'x') + "\r\n0\r\n\r\n", std::string(16, 'x')},
};

struct fed {
    decode_status status;
    size_t consumed;
};

fed feed(chunked_decoder& decoder, std::string_view input, std::string& out) {
    size_t consumed = 12345;
    const decode_status status = decoder.feed(input, consumed, out);
    return {status, consumed};
}

chunked_error decode_error(std::string_view input, const chunked_limits& limits = {}) {
    chunked_decoder decoder(limits);
    std::string out;
    const fed r = feed(decoder, input, out);
    EXPECT_EQ(r.status, decode_status::error) << testing::PrintToString(input);
    return decoder.error();
}

TEST(chunked_decoder, decodes_valid_bodies_in_one_feed) {
    for (const message& m : k_messages) {
        SCOPED_TRACE(testing::PrintToString(m.encoded));
        chunked_decoder decoder;
        std::string out;
        const fed r = feed(decoder, m.encoded, out);
        EXPECT_EQ(r.status, decode_status::complete);
        EXPECT_EQ(r.consumed, m.encoded.size());
        EXPECT_EQ(out, m.decoded);
        EXPECT_EQ(decoder.body_bytes(), m.decoded.size());
        EXPECT_EQ(decoder.error(), chunked_error::none);
    }
}

TEST(chunked_decoder, stops_at_the_end_of_the_body) {
    const std::string next = "GET / HTTP/1.1\r\n\r\n";
    for (const message& m : k_messages) {
        chunked_decoder decoder;
        std::string out;
        const fed r = feed(decoder, m.encoded + next, out);
        ASSERT_EQ(r.status, decode_status::complete);
        EXPECT_EQ(r.consumed, m.encoded.size());
        EXPECT_EQ(out, m.decoded);
        // Once complete, nothing more is consumed.
        const fed again = feed(decoder, next, out);
        EXPECT_EQ(again.status, decode_status::complete);
        EXPECT_EQ(again.consumed, 0u);
        EXPECT_EQ(out, m.decoded);
    }
}

TEST(chunked_decoder, every_split_point) {
    const std::string next = "NEXT";
    for (const message& m : k_messages) {
        const std::string stream = m.encoded + next;
        for (size_t split = 0; split <= stream.size(); ++split) {
            SCOPED_TRACE(testing::PrintToString(m.encoded) + " split at " + std::to_string(split));
            // Each piece in its own exact-size allocation so ASan sees over-reads.
            const std::vector<char> first(stream.begin(), stream.begin() + split);
            const std::vector<char> second(stream.begin() + split, stream.end());
            chunked_decoder decoder;
            std::string out;
            const fed a = feed(decoder, std::string_view(first.data(), first.size()), out);
            size_t total = a.consumed;
            if (split < m.encoded.size()) {
                ASSERT_EQ(a.status, decode_status::incomplete);
                ASSERT_EQ(a.consumed, split);
                const fed b = feed(decoder, std::string_view(second.data(), second.size()), out);
                ASSERT_EQ(b.status, decode_status::complete);
                total += b.consumed;
            } else {
                ASSERT_EQ(a.status, decode_status::complete);
            }
            EXPECT_EQ(total, m.encoded.size());
            EXPECT_EQ(out, m.decoded);
        }
    }
}

TEST(chunked_decoder, byte_by_byte) {
    for (const message& m : k_messages) {
        SCOPED_TRACE(testing::PrintToString(m.encoded));
        chunked_decoder decoder;
        std::string out;
        for (size_t i = 0; i < m.encoded.size(); ++i) {
            const char byte = m.encoded[i];
            const fed r = feed(decoder, std::string_view(&byte, 1), out);
            ASSERT_EQ(r.consumed, 1u) << i;
            ASSERT_EQ(r.status, i + 1 == m.encoded.size() ? decode_status::complete
                                                          : decode_status::incomplete)
                << i;
        }
        EXPECT_EQ(out, m.decoded);
        EXPECT_EQ(decoder.body_bytes(), m.decoded.size());
    }
}

TEST(chunked_decoder, empty_feed_is_incomplete) {
    chunked_decoder decoder;
    std::string out;
    const fed r = feed(decoder, {}, out);
    EXPECT_EQ(r.status, decode_status::incomplete);
    EXPECT_EQ(r.consumed, 0u);
}

TEST(chunked_decoder, sink_gets_runs_not_bytes) {
    const std::string data(4096, 'd');
    const std::string encoded = "1000\r\n" + data + "\r\n1000\r\n" + data + "\r\n0\r\n\r\n";
    chunked_decoder decoder;
    std::vector<std::string_view> runs;
    size_t consumed = 0;
    EXPECT_EQ(decoder.feed(encoded, consumed, [&](std::string_view run) { runs.push_back(run); }),
              decode_status::complete);
    ASSERT_EQ(runs.size(), 2u);
    EXPECT_EQ(runs[0], data);
    // Zero-copy: the runs point into the input.
    EXPECT_EQ(runs[0].data(), encoded.data() + 6);
    EXPECT_EQ(decoder.body_bytes(), 8192u);
}

TEST(chunked_decoder, body_limit_is_inclusive) {
    chunked_limits limits;
    limits.max_body_bytes = 10;
    {
        chunked_decoder decoder(limits);
        std::string out;
        EXPECT_EQ(feed(decoder, "a\r\n0123456789\r\n0\r\n\r\n", out).status,
                  decode_status::complete);
        EXPECT_EQ(out, "0123456789");
    }
    {
        chunked_decoder decoder(limits);
        std::string out;
        EXPECT_EQ(feed(decoder, "5\r\n01234\r\n5\r\n56789\r\n0\r\n\r\n", out).status,
                  decode_status::complete);
    }
    EXPECT_EQ(decode_error("b\r\n0123456789a\r\n0\r\n\r\n", limits), chunked_error::body_too_large);
    EXPECT_EQ(decode_error("5\r\n01234\r\n6\r\n567890\r\n0\r\n\r\n", limits),
              chunked_error::body_too_large);
    EXPECT_EQ(decode_error("ffffffffffffffff\r\n", limits), chunked_error::body_too_large);
    EXPECT_EQ(to_http_status(chunked_error::body_too_large), 413);

    // Refused at the size line, before any of that chunk's data is accepted.
    chunked_decoder decoder(limits);
    std::string out;
    const fed r = feed(decoder, "5\r\n01234\r\n6\r\n567890\r\n", out);
    EXPECT_EQ(r.status, decode_status::error);
    EXPECT_EQ(r.consumed, 11u);  // the CR after "6"
    EXPECT_EQ(out, "01234");
    EXPECT_EQ(decoder.body_bytes(), 5u);
}

TEST(chunked_decoder, largest_size_fits_without_limit) {
    chunked_limits limits;
    limits.max_body_bytes = UINT64_MAX;
    chunked_decoder decoder(limits);
    std::string out;
    EXPECT_EQ(feed(decoder, "ffffffffffffffff\r\nabc", out).status, decode_status::incomplete);
    EXPECT_EQ(out, "abc");
}

TEST(chunked_decoder, malformed_chunk_sizes) {
    const std::vector<std::pair<std::string, chunked_error>> cases = {
        {"\r\n", chunked_error::bad_chunk_size},
        {";ext\r\n", chunked_error::bad_chunk_size},
        {"g\r\n", chunked_error::bad_chunk_size},
        {"5g\r\n", chunked_error::bad_chunk_size},
        {"-5\r\n", chunked_error::bad_chunk_size},
        {"+5\r\n", chunked_error::bad_chunk_size},
        {"0x5\r\n", chunked_error::bad_chunk_size},
        {" 5\r\n", chunked_error::bad_chunk_size},
        {"5 \r\n", chunked_error::bad_chunk_size},
        {"5\t\r\n", chunked_error::bad_chunk_size},
        {"5 5\r\n", chunked_error::bad_chunk_size},
        {"00000000000000005\r\n", chunked_error::bad_chunk_size},  // 17 digits
        {"10000000000000000\r\n", chunked_error::bad_chunk_size},  // overflow
        {"5\n", chunked_error::bad_line_ending},
        {"\n", chunked_error::bad_line_ending},
        {"5\rx", chunked_error::bad_line_ending},
        {"5;a\n", chunked_error::bad_line_ending},
        {"5\r\r\n", chunked_error::bad_line_ending},
        {"5;a\x01\r\n", chunked_error::bad_chunk_extension},
        {"5;a\x7f\r\n", chunked_error::bad_chunk_extension},
        {"5;a\0b\r\n"s, chunked_error::bad_chunk_extension},
    };
    for (const auto& [input, error] : cases) {
        EXPECT_EQ(decode_error(input), error) << testing::PrintToString(input);
        EXPECT_EQ(to_http_status(error), 400);
    }
    // 16 digits with leading zeros are fine.
    chunked_decoder decoder;
    std::string out;
    EXPECT_EQ(feed(decoder, "0000000000000003\r\nabc\r\n0\r\n\r\n", out).status,
              decode_status::complete);
    EXPECT_EQ(out, "abc");
}

TEST(chunked_decoder, missing_crlf_after_data) {
    const std::vector<std::string> cases = {
        "5\r\nhelloX\r\n0\r\n\r\n", "5\r\nhello0\r\n\r\n",     "5\r\nhello\n0\r\n\r\n",
        "5\r\nhello\rX0\r\n\r\n",   "3\r\nhello\r\n0\r\n\r\n", "5\r\nhello\r\r\n0\r\n\r\n",
    };
    for (const std::string& input : cases) {
        EXPECT_EQ(decode_error(input), chunked_error::missing_crlf)
            << testing::PrintToString(input);
    }
    chunked_decoder decoder;
    std::string out;
    const fed r = feed(decoder, "5\r\nhelloX", out);
    EXPECT_EQ(r.status, decode_status::error);
    EXPECT_EQ(r.consumed, 8u);
    EXPECT_EQ(out, "hello");
}

TEST(chunked_decoder, extension_budget_is_per_body) {
    chunked_limits limits;
    limits.max_extension_bytes = 8;
    {
        chunked_decoder decoder(limits);
        std::string out;
        // ";abcdefg" is 8 bytes: at the limit.
        EXPECT_EQ(feed(decoder, "1;abcdefg\r\nx\r\n0\r\n\r\n", out).status,
                  decode_status::complete);
    }
    EXPECT_EQ(decode_error("1;abcdefgh\r\nx\r\n0\r\n\r\n", limits),
              chunked_error::bad_chunk_extension);
    // Whitespace before ';' counts too.
    EXPECT_EQ(decode_error("1    ;abcd\r\nx\r\n0\r\n\r\n", limits),
              chunked_error::bad_chunk_extension);
    EXPECT_EQ(decode_error("1" + std::string(100, ' ') + ";\r\n", limits),
              chunked_error::bad_chunk_extension);
    // Spread over chunks, the sum counts.
    EXPECT_EQ(decode_error("1;abcd\r\nx\r\n1;abcd\r\ny\r\n0\r\n\r\n", limits),
              chunked_error::bad_chunk_extension);
    // A new body gets a new budget.
    chunked_decoder decoder(limits);
    std::string out;
    EXPECT_EQ(feed(decoder, "1;abc\r\nx\r\n0\r\n\r\n", out).status, decode_status::complete);
    decoder.reset();
    EXPECT_EQ(feed(decoder, "1;abcdefg\r\ny\r\n0\r\n\r\n", out).status, decode_status::complete);
}

TEST(chunked_decoder, trailers) {
    const std::vector<std::pair<std::string, chunked_error>> cases = {
        {"0\r\nX: a\r\n b\r\n\r\n", chunked_error::bad_trailer},   // obs-fold
        {"0\r\n X: a\r\n\r\n", chunked_error::bad_trailer},        // leading whitespace
        {"0\r\nX\r\n\r\n", chunked_error::bad_trailer},            // no colon
        {"0\r\nX : a\r\n\r\n", chunked_error::bad_trailer},        // space before colon
        {"0\r\n: a\r\n\r\n", chunked_error::bad_trailer},          // empty name
        {"0\r\nX: a\x01\r\n\r\n", chunked_error::bad_trailer},     // CTL
        {"0\r\nX: a\0\r\n\r\n"s, chunked_error::bad_trailer},      // NUL
        {"0\r\nX: a\n\r\n", chunked_error::bad_line_ending},       // bare LF
        {"0\r\nX: a\rb\r\n\r\n", chunked_error::bad_line_ending},  // bare CR
        {"0\r\nX\n", chunked_error::bad_line_ending},
        {"0\r\n\n", chunked_error::bad_line_ending},
        {"0\r\n\rx", chunked_error::bad_line_ending},
        {"0\n\r\n", chunked_error::bad_line_ending},
    };
    for (const auto& [input, error] : cases) {
        EXPECT_EQ(decode_error(input), error) << testing::PrintToString(input);
    }
}

TEST(chunked_decoder, trailer_limit_is_inclusive) {
    // Trailer section: "X: 12345\r\n" (10) + final CRLF (2) = 12 bytes.
    const std::string body = "1\r\na\r\n0\r\nX: 12345\r\n\r\n";
    chunked_limits limits;
    limits.max_trailer_bytes = 12;
    chunked_decoder decoder(limits);
    std::string out;
    EXPECT_EQ(feed(decoder, body, out).status, decode_status::complete);
    limits.max_trailer_bytes = 11;
    EXPECT_EQ(decode_error(body, limits), chunked_error::trailer_too_large);
    EXPECT_EQ(to_http_status(chunked_error::trailer_too_large), 431);
    // Endless trailers stop at the limit even without any line end.
    limits.max_trailer_bytes = 100;
    EXPECT_EQ(decode_error("0\r\nX: " + std::string(200, 'v'), limits),
              chunked_error::trailer_too_large);
    // No trailer at all needs just the final CRLF.
    limits.max_trailer_bytes = 2;
    chunked_decoder minimal(limits);
    EXPECT_EQ(feed(minimal, "0\r\n\r\n", out).status, decode_status::complete);
}

TEST(chunked_decoder, errors_are_sticky_until_reset) {
    chunked_decoder decoder;
    std::string out;
    EXPECT_EQ(feed(decoder, "zz\r\n", out).status, decode_status::error);
    EXPECT_EQ(decoder.error(), chunked_error::bad_chunk_size);
    const fed again = feed(decoder, "5\r\nhello\r\n0\r\n\r\n", out);
    EXPECT_EQ(again.status, decode_status::error);
    EXPECT_EQ(again.consumed, 0u);
    EXPECT_EQ(out, "");
    decoder.reset();
    EXPECT_EQ(decoder.error(), chunked_error::none);
    EXPECT_EQ(feed(decoder, "5\r\nhello\r\n0\r\n\r\n", out).status, decode_status::complete);
    EXPECT_EQ(out, "hello");
}

TEST(chunked_decoder, reset_between_bodies) {
    chunked_limits limits;
    limits.max_body_bytes = 8;
    chunked_decoder decoder(limits);
    std::string first;
    // Stop mid-chunk, then reset: nothing of the old state may leak into the next body.
    EXPECT_EQ(feed(decoder, "8;e\r\nabc", first).status, decode_status::incomplete);
    decoder.reset();
    EXPECT_EQ(decoder.body_bytes(), 0u);
    std::string second;
    EXPECT_EQ(feed(decoder, "8\r\n12345678\r\n0\r\n\r\n", second).status, decode_status::complete);
    EXPECT_EQ(second, "12345678");
    // The body limit restarts with each body: another 8 bytes are fine.
    decoder.reset();
    std::string third;
    EXPECT_EQ(feed(decoder, "4\r\nabcd\r\n4\r\nefgh\r\n0\r\nT: v\r\n\r\n", third).status,
              decode_status::complete);
    EXPECT_EQ(third, "abcdefgh");
    EXPECT_EQ(decoder.body_bytes(), 8u);
}

TEST(chunked_decoder, status_names) {
    EXPECT_EQ(to_http_status(chunked_error::none), 200);
    EXPECT_EQ(to_http_status(chunked_error::missing_crlf), 400);
    EXPECT_EQ(to_string(chunked_error::bad_chunk_size), "bad_chunk_size");
    EXPECT_EQ(to_string(chunked_error::trailer_too_large), "trailer_too_large");
}

}  // namespace
}  // namespace obsrv::ingress
