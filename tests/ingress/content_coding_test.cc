// Content-Encoding of request bodies as body-parser 1.x reads it. The expected answers of the
// decoding cases are what body-parser 1.20.9 (`bodyParser.json()`, express 4.22.3) on Node
// 20.20 answered to the same bodies: 200 with the parsed body, or the status and message noted
// with each case.

#include "ingress/content_coding.h"

#include <random>
#include <string>

#include <gtest/gtest.h>

#include "common/deflate_compress.h"

namespace obsrv::ingress {
namespace {

std::string gzip(std::string_view text) {
    return deflate_compress(text, deflate_wrapper::gzip);
}
std::string zlib_format(std::string_view text) {
    return deflate_compress(text, deflate_wrapper::zlib);
}
std::string raw_deflate(std::string_view text) {
    return deflate_compress(text, deflate_wrapper::raw);
}

constexpr std::string_view k_body = R"({"a":1})";
constexpr size_t k_limit = 200 * 1024;  // the limit the Node server ran with

struct outcome {
    body_decode_status status;
    std::string text;  // the decoded body, or the error message
};

outcome decode(content_coding coding, std::string_view body, size_t limit = k_limit) {
    body_decoder decoder(limit);
    const auto status = decoder.decode(coding, body);
    return {status,
            status == body_decode_status::ok ? std::string(decoder.decoded()) : decoder.error()};
}

void expect_ok(const outcome& o, std::string_view decoded) {
    EXPECT_EQ(o.status, body_decode_status::ok) << o.text;
    EXPECT_EQ(o.text, decoded);
}

void expect_corrupt(const outcome& o, std::string_view message) {
    EXPECT_EQ(o.status, body_decode_status::corrupt);
    EXPECT_EQ(o.text, message);
}

TEST(content_coding_test, codings_are_read_as_body_parser_reads_them) {
    EXPECT_EQ(parse_content_coding(""), content_coding::identity);
    EXPECT_EQ(parse_content_coding("identity"), content_coding::identity);
    EXPECT_EQ(parse_content_coding("IDENTITY"), content_coding::identity);
    EXPECT_EQ(parse_content_coding("gzip"), content_coding::gzip);
    EXPECT_EQ(parse_content_coding("GZip"), content_coding::gzip);
    EXPECT_EQ(parse_content_coding("deflate"), content_coding::deflate);
    EXPECT_EQ(parse_content_coding("Deflate"), content_coding::deflate);
    // Node answered 415 to each of these.
    for (std::string_view v : {"br", "x-gzip", "gzip, identity", "gzip, gzip", "identity, identity",
                               ", gzip", "zstd", "compress", "gzi", "gzipp"}) {
        EXPECT_EQ(parse_content_coding(v), content_coding::unsupported) << v;
    }
}

TEST(content_coding_test, the_415_message_shows_the_value_as_node_lowercased_it) {
    EXPECT_EQ(content_coding_for_message("BR"), "br");
    // Node: `Content-Encoding: gz\xE9` answered 'unsupported content encoding "gzé"'.
    EXPECT_EQ(content_coding_for_message("gz\xE9"), "gz\xC3\xA9");
    EXPECT_EQ(content_coding_for_message("GZ\xC9"), "gz\xC3\xA9");  // É lowercases to é
    EXPECT_EQ(content_coding_for_message("\xD7\xDF\xDE"),           // ×, ß stay; Þ becomes þ
              "\xC3\x97\xC3\x9F\xC3\xBE");
}

TEST(content_coding_test, gzip_and_deflate_bodies_decode) {
    expect_ok(decode(content_coding::gzip, gzip(k_body)), k_body);            // Node: 200
    expect_ok(decode(content_coding::deflate, zlib_format(k_body)), k_body);  // Node: 200
    expect_ok(decode(content_coding::gzip, gzip("")), "");  // Node: 200 with {} (empty body)
}

TEST(content_coding_test, other_framings_are_refused_with_zlibs_message) {
    // Raw deflate, or gzip sent as deflate: Node 400 "incorrect header check".
    expect_corrupt(decode(content_coding::deflate, raw_deflate(k_body)), "incorrect header check");
    expect_corrupt(decode(content_coding::deflate, gzip(k_body)), "incorrect header check");
    expect_corrupt(decode(content_coding::gzip, zlib_format(k_body)), "incorrect header check");
    expect_corrupt(decode(content_coding::gzip, "hello world"), "incorrect header check");
}

TEST(content_coding_test, gzip_members_and_trailing_bytes_follow_nodes_gunzip) {
    const std::string gz = gzip(k_body);
    // Two members: Node 200 {"a":2}.
    expect_ok(decode(content_coding::gzip, gzip(R"({"a":)") + gzip("2}")), R"({"a":2})");
    // Zero bytes after a member are padding: Node 200.
    expect_ok(decode(content_coding::gzip, gz + std::string(5, '\0')), k_body);
    // After a zero byte nothing more is read: Node 200.
    expect_ok(decode(content_coding::gzip, gz + std::string("\0xyz", 4)), k_body);
    // Other bytes must be a member: Node 400 "incorrect header check".
    expect_corrupt(decode(content_coding::gzip, gz + "xyz"), "incorrect header check");
}

TEST(content_coding_test, a_deflate_stream_ends_the_body) {
    const std::string zz = zlib_format(k_body);
    expect_ok(decode(content_coding::deflate, zz + "xyz"), k_body);  // Node: 200
    expect_ok(decode(content_coding::deflate, zz + zz), k_body);     // Node: 200, first only
}

TEST(content_coding_test, cut_and_damaged_streams_get_nodes_messages) {
    const std::string gz = gzip(k_body);
    // Node: 400 "unexpected end of file" for each.
    expect_corrupt(decode(content_coding::gzip, gz.substr(0, gz.size() - 6)),
                   "unexpected end of file");
    expect_corrupt(decode(content_coding::gzip, gz.substr(0, 10)), "unexpected end of file");
    expect_corrupt(decode(content_coding::gzip, ""), "unexpected end of file");
    expect_corrupt(decode(content_coding::deflate, ""), "unexpected end of file");
    // CRC and length of the trailer: Node 400 "incorrect data check" / "incorrect length check".
    std::string bad_crc = gz;
    bad_crc.replace(bad_crc.size() - 8, 4, std::string(4, '\0'));
    expect_corrupt(decode(content_coding::gzip, bad_crc), "incorrect data check");
    std::string bad_length = gz;
    bad_length.replace(bad_length.size() - 4, 4, std::string("\x09\0\0\0", 4));
    expect_corrupt(decode(content_coding::gzip, bad_length), "incorrect length check");
    // A zlib stream asking for a preset dictionary: Node 400 "Missing dictionary".
    std::string with_dictionary = "\x78\x3f";  // FDICT set, (0x78 * 256 + 0x3f) % 31 == 0
    with_dictionary += std::string("\0\0\0\x01", 4) + raw_deflate(k_body);
    expect_corrupt(decode(content_coding::deflate, with_dictionary), "Missing dictionary");
}

TEST(content_coding_test, the_limit_applies_to_the_decoded_bytes) {
    const std::string exact(1000, 'x');
    expect_ok(decode(content_coding::gzip, gzip(exact), 1000), exact);
    expect_ok(decode(content_coding::deflate, zlib_format(exact), 1000), exact);
    EXPECT_EQ(decode(content_coding::gzip, gzip(exact + "x"), 1000).status,
              body_decode_status::too_large);
    EXPECT_EQ(decode(content_coding::deflate, zlib_format(exact + "x"), 1000).status,
              body_decode_status::too_large);
    // Node: 413 "request entity too large" for ~300 KB behind a 200 KB limit.
    EXPECT_EQ(decode(content_coding::gzip, gzip(std::string(300000, 'a'))).status,
              body_decode_status::too_large);
    // The same members split in two: the second one crosses the limit.
    EXPECT_EQ(decode(content_coding::gzip,
                     gzip(std::string(600, 'a')) + gzip(std::string(401, 'b')), 1000)
                  .status,
              body_decode_status::too_large);
}

TEST(content_coding_test, a_bomb_stops_at_the_limit_without_taking_more_memory) {
    const std::string bomb = gzip(std::string(64 * 1024 * 1024, '\0'));  // ~64 KB of gzip
    body_decoder decoder(1024 * 1024);
    EXPECT_EQ(decoder.decode(content_coding::gzip, bomb), body_decode_status::too_large);
    EXPECT_LE(decoder.capacity(), 1024u * 1024u + 1u);
    // A forged trailer that promises a small body changes nothing but the first guess.
    std::string forged = bomb;
    forged.replace(forged.size() - 4, 4, std::string("\x10\0\0\0", 4));
    EXPECT_EQ(decoder.decode(content_coding::gzip, forged), body_decode_status::too_large);
}

TEST(content_coding_test, bodies_beyond_the_first_guess_and_many_members_decode_whole) {
    std::mt19937 rng(7);
    std::string text;
    for (int i = 0; i < 200000; ++i) {
        text += static_cast<char>('a' + rng() % 4);  // compresses ~4x, the deflate guess
    }
    text += std::string(300000, 'z');  // then far better: the guess falls short
    expect_ok(decode(content_coding::deflate, zlib_format(text), 1 << 20), text);
    // Members whose last trailer understates the whole: the buffer grows keeping the first.
    std::string members;
    for (size_t at = 0; at < text.size(); at += 100000) {
        members += gzip(text.substr(at, 100000));
    }
    expect_ok(decode(content_coding::gzip, members, 1 << 20), text);
}

TEST(content_coding_test, one_decoder_serves_request_after_request_and_gives_back_a_big_buffer) {
    body_decoder decoder(8 * 1024 * 1024);
    const std::string big(4 * 1024 * 1024, 'q');
    ASSERT_EQ(decoder.decode(content_coding::gzip, gzip(big)), body_decode_status::ok);
    EXPECT_EQ(decoder.decoded(), big);
    EXPECT_GE(decoder.capacity(), big.size());
    ASSERT_EQ(decoder.decode(content_coding::deflate, zlib_format(k_body)), body_decode_status::ok);
    EXPECT_EQ(decoder.decoded(), k_body);
    EXPECT_LE(decoder.capacity(), 1024u * 1024u);
    ASSERT_EQ(decoder.decode(content_coding::gzip, "junk"), body_decode_status::corrupt);
    EXPECT_EQ(decoder.decoded(), "");
    ASSERT_EQ(decoder.decode(content_coding::gzip, gzip(k_body)), body_decode_status::ok);
    EXPECT_EQ(decoder.decoded(), k_body);
}

TEST(content_coding_test, damaged_streams_are_refused_exactly_when_zlib_refuses_them) {
    // Flipped bytes anywhere in a gzip and a zlib stream: accepted (when the damage is in a
    // field nothing checks, e.g. the gzip header's mtime) exactly when zlib accepts them too.
    std::mt19937 rng(11);
    std::string text;
    for (int i = 0; i < 3000; ++i) {
        text += static_cast<char>('a' + rng() % 20);
    }
    for (const auto coding : {content_coding::gzip, content_coding::deflate}) {
        const std::string good = coding == content_coding::gzip ? gzip(text) : zlib_format(text);
        for (int round = 0; round < 2000; ++round) {
            std::string damaged = good;
            const int flips = 1 + static_cast<int>(rng() % 3);
            for (int f = 0; f < flips; ++f) {
                damaged[rng() % damaged.size()] ^= static_cast<char>(1 + rng() % 255);
            }
            const outcome o = decode(coding, damaged, 1 << 20);
            // libdeflate and zlib (what Node uses) agree on what is refused.
            const std::string zlib_says = zlib_error_message(coding, damaged, 1 << 21);
            if (o.status == body_decode_status::corrupt) {
                EXPECT_FALSE(zlib_says.empty()) << "zlib accepts what libdeflate refused";
                EXPECT_EQ(o.text, zlib_says);
            } else {
                EXPECT_EQ(o.status, body_decode_status::ok);
                EXPECT_EQ(zlib_says, "") << "zlib refuses what libdeflate accepted";
            }
        }
    }
}

}  // namespace
}  // namespace obsrv::ingress
