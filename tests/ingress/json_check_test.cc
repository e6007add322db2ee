#include "ingress/json_check.h"

#include <cstdint>
#include <random>
#include <regex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "common/json_text.h"

namespace obsrv::ingress {
namespace {

// Text in a buffer with simdjson's padding after it, filled with `fill` (the checker must not
// depend on the padding's values).
class padded_text {
  public:
    explicit padded_text(std::string_view text, char fill = '\0')
        : _storage(std::string(text) + std::string(simdjson::SIMDJSON_PADDING, fill)),
          _size(text.size()) {}
    std::string_view view() const { return {_storage.data(), _size}; }

  private:
    std::string _storage;
    std::size_t _size;
};

// One random edit of `text` (not empty): a byte replaced by, or inserted from, `alphabet`, or a
// byte removed.
void edit_once(std::string& text, std::string_view alphabet, std::mt19937_64& rng) {
    const std::size_t at = rng() % text.size();
    const char c = alphabet[rng() % alphabet.size()];
    switch (rng() % 3) {
        case 0:
            text[at] = c;
            break;
        case 1:
            text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c);
            break;
        default:
            text.erase(at, 1);
            break;
    }
}

class json_check_test : public ::testing::Test {
  protected:
    void SetUp() override { ASSERT_EQ(parser.allocate(1 << 16), simdjson::SUCCESS); }

    /// The outline's views point into `current`, kept until the next check.
    bool check(std::string_view text, char fill = '\0') {
        current = padded_text(text, fill);
        return checker.check(current.view());
    }

    /// The DOM parser's error for `text`.
    simdjson::error_code dom_error(std::string_view text) {
        simdjson::dom::parser dom;
        simdjson::dom::element root;
        return dom.parse(text.data(), text.size()).get(root);
    }

    simdjson::dom::parser parser;
    json_checker checker{parser};
    padded_text current{""};
};

TEST_F(json_check_test, accepts_valid_documents) {
    for (std::string_view text : {
             R"({})",
             R"([])",
             R"("")",
             "0",
             "-0",
             "5",
             "-12.5e+3",
             "1E9",
             "0.0",
             "true",
             "false",
             "null",
             " \t\r\n{ \"a\" : [ 1 , 2 ] }\n",
             R"({"a":{"b":[{"c":null},[],{}]},"d":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"})",
             R"(["é", "日本", "😀"])",
             R"({"":""})",
             "[1,[2,[3,[4]]]]",
             // Beyond int64 and double: valid JSON the DOM refuses (NUMBER_ERROR).
             "123456789012345678901234567890",
             "1e400",
             R"({"n":-99999999999999999999})",
         }) {
        EXPECT_TRUE(check(text)) << text;
        EXPECT_TRUE(check(text, '1')) << text << " (padding of digits)";
    }
}

TEST_F(json_check_test, refuses_invalid_documents) {
    for (std::string_view text : {
             "",
             " ",
             "{",
             "}",
             "[",
             "]",
             "[1,]",
             "[,1]",
             "{,}",
             R"({"a":1,})",
             R"({"a"})",
             R"({"a":})",
             R"({"a" 1})",
             R"({1:2})",
             R"({"a":1 "b":2})",
             "[1 2]",
             "[1:2]",
             R"({"a":1]})",
             "[1}",
             "{}{}",
             "[] []",
             "1 2",
             "01",
             "-",
             "-a",
             "1.",
             ".5",
             "+1",
             "1e",
             "1e+",
             "1.5e-",
             "0x10",
             "1.2.3",
             "--1",
             "tru",
             "truex",
             "nul",
             "nulll",
             "False",
             "NaN",
             "Infinity",
             R"(["a" "b"])",
             R"(["a"b])",
             R"("abc)",
             "\"\\\"",
             R"("\x")",
             R"("\u12")",
             R"("\u12G4")",
             R"("\ud800")",
             R"("\udc00")",
             R"("\ud800\u0041")",
             R"("\ud800x")",
             "\"tab\there\"",
             "\"nl\nhere\"",
             "\"\xff\"",
             "\"\xc3\"",
             "[\"\xed\xa0\x80\"]",
             "[1]x",
             "[true]]",
             "{\"a\":1}}",
             "[1]\x01",
             R"([4"m"])",
             R"({"a":4"m"})",
             R"([true"x"])",
             R"([null"x"])",
         }) {
        EXPECT_FALSE(check(text)) << text;
        EXPECT_FALSE(check(text, ' ')) << text << " (padding of spaces)";
        EXPECT_NE(dom_error(text), simdjson::SUCCESS) << text << ": the DOM disagrees";
    }
}

// Numbers are read from a 16-byte window (a digit mask) and longer ones byte by byte: every
// rule at every length around the window's edge, against the grammar as a regular expression,
// where a number ends the text and where a delimiter follows it, with padding of digits (a
// number reaching the text's end must not run into them) and of anything.
TEST_F(json_check_test, numbers_follow_the_grammar_at_every_length) {
    const std::regex grammar(R"(-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?)");
    std::mt19937_64 rng(16);
    const auto digits = [&](std::size_t n) {
        std::string s;
        for (std::size_t k = 0; k < n; ++k) {
            s += static_cast<char>('0' + rng() % 10);
        }
        return s;
    };
    const std::string_view mutations = "0123456789-+.eE";
    std::size_t valid = 0, invalid = 0, long_valid = 0;
    for (int round = 0; round < 40000; ++round) {
        // A number by the grammar, of 1 to ~35 bytes, then half of them edited once.
        std::string n = rng() % 3 == 0 ? "-" : "";
        n += rng() % 5 == 0
                 ? "0"
                 : std::string(1, static_cast<char>('1' + rng() % 9)) + digits(rng() % 18);
        if (rng() % 2 == 0) {
            n += "." + digits(1 + rng() % 8);
        }
        if (rng() % 3 == 0) {
            n += rng() % 2 == 0 ? "e" : "E";
            const char* signs[] = {"", "+", "-"};
            n += signs[rng() % 3];
            n += digits(1 + rng() % 4);
        }
        if (rng() % 2 == 0) {
            edit_once(n, mutations, rng);
        }
        if (n.empty()) {
            continue;
        }
        const bool expected = std::regex_match(n, grammar);
        (expected ? valid : invalid) += 1;
        long_valid += expected && n.size() >= 16 ? 1 : 0;
        ASSERT_EQ(check(n, '7'), expected) << n;
        ASSERT_EQ(check(n, static_cast<char>(rng())), expected) << n;
        ASSERT_EQ(check("[" + n + "]", '7'), expected) << n;
        ASSERT_EQ(check("[" + n + " ,0]"), expected) << n;
        ASSERT_EQ(check(R"({"k":)" + n + "}"), expected) << n;
        ASSERT_EQ(check(R"({"k":)" + n + "\n}"), expected) << n;
    }
    EXPECT_GT(valid, 15000u);
    EXPECT_GT(invalid, 4000u);
    EXPECT_GT(long_valid, 2000u);
}

TEST_F(json_check_test, nesting_is_limited_like_the_dom) {
    const auto nested = [](std::size_t depth) {
        return std::string(depth, '[') + std::string(depth, ']');
    };
    const std::size_t limit = parser.max_depth();
    EXPECT_TRUE(check(nested(limit)));
    EXPECT_EQ(dom_error(nested(limit)), simdjson::SUCCESS);
    EXPECT_FALSE(check(nested(limit + 1)));
    EXPECT_NE(dom_error(nested(limit + 1)), simdjson::SUCCESS);
    // Under a top-level object (walked member by member) and inside its array member (walked
    // element by element) the count goes on from the object's level.
    for (const auto& [prefix, suffix, used] :
         {std::tuple{std::string(R"({"a":)"), std::string("}"), std::size_t{1}},
          std::tuple{std::string(R"({"a":[)"), std::string("]}"), std::size_t{2}}}) {
        const std::string fits = prefix + nested(limit - used) + suffix;
        const std::string too_deep = prefix + nested(limit - used + 1) + suffix;
        EXPECT_TRUE(check(fits)) << prefix;
        EXPECT_EQ(dom_error(fits), simdjson::SUCCESS) << prefix;
        EXPECT_FALSE(check(too_deep)) << prefix;
        EXPECT_NE(dom_error(too_deep), simdjson::SUCCESS) << prefix;
    }
}

TEST_F(json_check_test, text_beyond_the_capacity_is_refused) {
    std::string big = "[" + std::string(parser.capacity(), ' ') + "]";
    EXPECT_FALSE(check(big));
}

TEST_F(json_check_test, outlines_a_top_level_object) {
    ASSERT_TRUE(check(R"( {"id" : "x" , "n":12,"d\u0061ta":[{"a":1},{"b":[2]} , {}],)"
                      R"("o":{"k":[1]},"e":[],"mixed":[{},1] } )"));
    const auto& o = checker.outline();
    EXPECT_TRUE(o.root_is_object);
    EXPECT_TRUE(o.complete);
    ASSERT_EQ(o.members.size(), 6u);
    EXPECT_EQ(o.members[0].raw_key, "id");
    EXPECT_EQ(o.members[0].value, R"("x")");
    EXPECT_EQ(o.members[1].value, "12");
    EXPECT_EQ(o.members[2].raw_key, R"(d\u0061ta)");
    EXPECT_EQ(o.members[2].value, R"([{"a":1},{"b":[2]} , {}])");
    EXPECT_EQ(o.members[3].value, R"({"k":[1]})");
    EXPECT_EQ(o.members[5].raw_key, "mixed");
    EXPECT_EQ(o.members[5].value, "[{},1]");

    const auto* data = o.array_at(o.members[2].value.data());
    ASSERT_NE(data, nullptr);
    EXPECT_EQ(data->elements, 3u);
    EXPECT_TRUE(data->all_objects);
    EXPECT_EQ(o.array_at(o.members[3].value.data()), nullptr);  // an object member
    const auto* empty = o.array_at(o.members[4].value.data());
    ASSERT_NE(empty, nullptr);
    EXPECT_EQ(empty->elements, 0u);
    const auto* mixed = o.array_at(o.members[5].value.data());
    ASSERT_NE(mixed, nullptr);
    EXPECT_EQ(mixed->elements, 2u);
    EXPECT_FALSE(mixed->all_objects);

    ASSERT_TRUE(check(R"([{"a":1}])"));
    EXPECT_FALSE(checker.outline().root_is_object);
    EXPECT_TRUE(checker.outline().members.empty());
    EXPECT_TRUE(checker.outline().arrays.empty());
}

TEST_F(json_check_test, an_outline_with_too_many_members_says_so) {
    std::string text = "{";
    for (std::size_t i = 0; i <= json_checker::k_max_members; ++i) {
        text += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":[1]";
    }
    text += "}";
    ASSERT_TRUE(check(text));
    EXPECT_FALSE(checker.outline().complete);
    EXPECT_EQ(checker.outline().members.size(), json_checker::k_max_members);
}

// Random edits of JSON-significant bytes into documents with every kind of value: the checker's
// verdict must be the DOM parser's (big numbers aside), and a valid top-level object's outline
// must match the DOM's members.
TEST_F(json_check_test, agrees_with_the_dom_on_mutated_documents) {
    const std::vector<std::string> seeds = {
        R"({"id":"api.data.in","ver":"v2","ts":"2024","params":{"msgid":"m-1"},"data":[)"
        R"({"eid":"E","ets":1700000000000,"mid":"a\"b\\c\u00e9\ud83d\ude00","x":-1.5e3,)"
        R"("ok":true,"no":false,"n":null,"arr":[1,[2],{}],"o":{"p":{"q":"r"}}}]})",
        R"([0, -0.0, 1E+2, "\/\b\f\n\r\t", {"k" : [ true , null ] }, "日本"])",
        R"({"a":{},"b":[],"c":"","d":0})",
    };
    const std::string_view alphabet = "{}[],:\"\\ \t\n0123456789-+.eEtrufalsn/u\x01\xc3\xa9\xff";
    std::mt19937_64 rng(20261207);
    std::size_t valid = 0, invalid = 0, number_errors = 0;
    for (int round = 0; round < 100000; ++round) {
        std::string text = seeds[rng() % seeds.size()];
        const int edits = 1 + static_cast<int>(rng() % 3);
        for (int e = 0; e < edits && !text.empty(); ++e) {
            edit_once(text, alphabet, rng);
        }
        simdjson::dom::parser dom;
        simdjson::dom::element root;
        auto error = dom.parse(text.data(), text.size()).get(root);
        const bool patched_document = error == simdjson::NUMBER_ERROR;
        if (patched_document) {
            // Either a number the DOM cannot hold (valid JSON: the gateway's DOM path parses
            // the text with such numbers patched) or a real syntax error, which stays one.
            std::string patched = text + std::string(simdjson::SIMDJSON_PADDING, ' ');
            json_text::patch_big_numbers(patched.data(), patched.data() + text.size());
            error = dom.parse(patched.data(), text.size(), false).get(root);
            ++number_errors;
        }
        const bool checked = check(text, static_cast<char>(rng()));
        ASSERT_EQ(checked, error == simdjson::SUCCESS)
            << "text: " << text << "\nDOM: " << simdjson::error_message(error);
        if (!checked) {
            ++invalid;
            continue;
        }
        ++valid;
        const auto& o = checker.outline();
        ASSERT_EQ(o.root_is_object, root.is_object()) << text;
        if (!o.root_is_object) {
            continue;
        }
        std::size_t k = 0;
        const simdjson::dom::object top = root.get_object().value_unsafe();
        for (const auto field : top) {
            ASSERT_LT(k, o.members.size()) << text;
            const auto& m = o.members[k++];
            if (m.raw_key.find('\\') == std::string_view::npos) {
                EXPECT_EQ(m.raw_key, field.key) << text;
            }
            // The member's bytes parse to the DOM's value (big numbers patched alike).
            std::string value_text =
                std::string(m.value) + std::string(simdjson::SIMDJSON_PADDING, ' ');
            if (patched_document) {
                json_text::patch_big_numbers(value_text.data(), value_text.data() + m.value.size());
            }
            simdjson::dom::parser value_parser;
            simdjson::dom::element value;
            ASSERT_EQ(value_parser.parse(value_text.data(), m.value.size(), false).get(value),
                      simdjson::SUCCESS)
                << text << "\nmember value: " << m.value;
            EXPECT_EQ(simdjson::minify(value), simdjson::minify(field.value)) << text;
            const auto* shape = o.array_at(m.value.data());
            if (field.value.is_array()) {
                ASSERT_NE(shape, nullptr) << text;
                std::size_t elements = 0;
                bool all_objects = true;
                const simdjson::dom::array array = field.value.get_array().value_unsafe();
                for (const auto element : array) {
                    ++elements;
                    all_objects = all_objects && element.is_object();
                }
                EXPECT_EQ(shape->elements, elements) << text;
                EXPECT_EQ(shape->all_objects, all_objects) << text;
            } else {
                EXPECT_EQ(shape, nullptr) << text;
            }
        }
        EXPECT_EQ(k, o.members.size()) << text;
    }
    // The mutations reach both verdicts in numbers (the comparison means something).
    EXPECT_GT(valid, 5000u);
    EXPECT_GT(invalid, 50000u);
    EXPECT_GT(number_errors, 1000u);
}

}  // namespace
}  // namespace obsrv::ingress
