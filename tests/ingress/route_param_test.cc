#include "ingress/route_param.h"

#include <string>

#include <gtest/gtest.h>

namespace obsrv::ingress {
namespace {

std::string decoded(std::string_view raw) {
    std::string out = "stale";
    EXPECT_TRUE(decode_route_param(raw, out)) << raw;
    return out;
}

bool refused(std::string_view raw) {
    std::string out;
    return !decode_route_param(raw, out);
}

TEST(route_param_test, plain_ids_and_escapes_of_either_case_decode) {
    EXPECT_EQ(decoded(""), "");
    EXPECT_EQ(decoded("telemetry"), "telemetry");
    EXPECT_EQ(decoded("tele%6Detry"), "telemetry");
    EXPECT_EQ(decoded("%20padded%20"), " padded ");
    EXPECT_EQ(decoded("a%2fb%2Fc"), "a/b/c");
    EXPECT_EQ(decoded("%25"), "%") << "a decoded '%' is not decoded again";
    EXPECT_EQ(decoded("%2541"), "%41");
    EXPECT_EQ(decoded("%00"), std::string(1, '\0'));
}

TEST(route_param_test, escapes_of_utf8_sequences_decode_to_their_characters) {
    EXPECT_EQ(decoded("%C3%A9t%C3%A9"), "\xC3\xA9t\xC3\xA9");  // été
    EXPECT_EQ(decoded("%E2%82%AC"), "\xE2\x82\xAC");           // €
    EXPECT_EQ(decoded("%F0%9F%98%80"), "\xF0\x9F\x98\x80");    // U+1F600
    EXPECT_EQ(decoded("%F4%8F%BF%BF"), "\xF4\x8F\xBF\xBF");    // U+10FFFF, the last one
}

TEST(route_param_test, malformed_escapes_are_refused) {
    EXPECT_TRUE(refused("%"));
    EXPECT_TRUE(refused("abc%"));
    EXPECT_TRUE(refused("%4"));
    EXPECT_TRUE(refused("abc%4"));
    EXPECT_TRUE(refused("%zz"));
    EXPECT_TRUE(refused("%4g"));
    EXPECT_TRUE(refused("%g4"));
    EXPECT_TRUE(refused("ok%20then%x1"));
}

// decodeURIComponent throws URIError for these, and Express answers 400; the id would
// otherwise reach error bodies as bytes that are not UTF-8.
TEST(route_param_test, escapes_whose_bytes_are_not_utf8_are_refused) {
    EXPECT_TRUE(refused("%FF"));
    EXPECT_TRUE(refused("%80"));  // a continuation byte alone
    EXPECT_TRUE(refused("%C3"));  // a sequence cut short
    EXPECT_TRUE(refused("%E2%82"));
    EXPECT_TRUE(refused("%E2%82x"));
    EXPECT_TRUE(refused("%C0%80"));        // overlong NUL
    EXPECT_TRUE(refused("%E0%80%AF"));     // overlong '/'
    EXPECT_TRUE(refused("%ED%A0%80"));     // a UTF-16 surrogate
    EXPECT_TRUE(refused("%F4%90%80%80"));  // beyond U+10FFFF
    EXPECT_TRUE(refused("telemetry%FE"));
}

}  // namespace
}  // namespace obsrv::ingress
