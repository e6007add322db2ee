#include "ingress/ingest_request.h"

#include <algorithm>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "common/json_text.h"

namespace obsrv::ingress {
namespace {

// Bodies live in strings with k_body_padding spare bytes after them (the validator's
// precondition); the view excludes the padding.
class padded_body {
  public:
    explicit padded_body(std::string text) : _storage(std::move(text)), _size(_storage.size()) {
        _storage.append(k_body_padding, '\0');
    }
    std::string_view view() const { return {_storage.data(), _size}; }

  private:
    std::string _storage;
    std::size_t _size;
};

constexpr std::string_view k_head = R"("id":"api.data.in","ver":"v2","ts":"1711966306164")";

std::string body_with(std::string_view params, std::string_view data) {
    return "{" + std::string(k_head) + ",\"params\":" + std::string(params) +
           ",\"data\":" + std::string(data) + "}";
}

struct outcome {
    validation_status status;
    ingest_request req;
    std::string data;  // copy: the views die with the body
    std::string msgid;
    std::string error;
};

// Every case runs on both paths: the checker's outline first (the gateway's), and the DOM
// alone (the reference). Param: dom_only.
class IngestRequestTest : public ::testing::TestWithParam<bool> {
  protected:
    bool dom_only() const { return GetParam(); }

    outcome run(std::string text) {
        _bodies.emplace_back(std::move(text));
        outcome o;
        o.status = _validator.validate(_bodies.back().view(), o.req);
        o.data = std::string(o.req.data);
        o.msgid = std::string(o.req.msgid);
        o.error = std::string(o.req.error);
        return o;
    }
    std::string error_of(std::string text) {
        auto o = run(std::move(text));
        EXPECT_NE(o.status, validation_status::ok);
        return o.error;
    }

    request_validator _validator{1 << 20, GetParam()};
    std::vector<padded_body> _bodies;
};

INSTANTIATE_TEST_SUITE_P(Paths, IngestRequestTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& param) {
                             return param.param ? "DomOnly" : "OutlineFirst";
                         });

TEST_P(IngestRequestTest, AcceptsObjectData) {
    auto o = run(body_with(R"({"msgid":"m-1"})", R"({"id":"1","x":1})"));
    ASSERT_EQ(o.status, validation_status::ok) << o.error;
    EXPECT_EQ(o.req.kind, data_kind::object);
    EXPECT_EQ(o.req.event_count, 1u);
    EXPECT_EQ(o.data, R"({"id":"1","x":1})");
    EXPECT_EQ(o.msgid, "m-1");
    EXPECT_EQ(o.req.echo.type, response_msgid::kind::string);
    EXPECT_EQ(o.req.echo.text, "m-1");
    EXPECT_EQ(_validator.stats().data_scans, 0u);  // data was last: found from the end
    // The plain valid case needs no DOM.
    EXPECT_EQ(_validator.stats().dom_validations, dom_only() ? 1u : 0u);
}

TEST_P(IngestRequestTest, AcceptsArrayOfObjects) {
    auto o = run(body_with(R"({"msgid":"m"})", R"([{"id":"1"},{},{"a":[1,{"b":"]}"}]}])"));
    ASSERT_EQ(o.status, validation_status::ok) << o.error;
    EXPECT_EQ(o.req.kind, data_kind::array);
    EXPECT_EQ(o.req.event_count, 3u);
    EXPECT_EQ(o.data, R"([{"id":"1"},{},{"a":[1,{"b":"]}"}]}])");
}

TEST_P(IngestRequestTest, EmptyArrayIsValid) {
    // The schema has no minItems.
    auto o = run(body_with(R"({"msgid":"m"})", "[]"));
    ASSERT_EQ(o.status, validation_status::ok) << o.error;
    EXPECT_EQ(o.req.kind, data_kind::array);
    EXPECT_EQ(o.req.event_count, 0u);
    EXPECT_EQ(o.data, "[]");
}

TEST_P(IngestRequestTest, ExtraTopLevelKeysAreAllowed) {
    auto o = run(R"({"extra":{"x":1},)" + std::string(k_head) +
                 R"(,"params":{"msgid":"m"},"data":{},"more":[1,2]})");
    ASSERT_EQ(o.status, validation_status::ok) << o.error;
    EXPECT_EQ(o.data, "{}");
    // On the DOM path, data not last: its extent was scanned (the outline knows it).
    EXPECT_EQ(_validator.stats().data_scans, dom_only() ? 1u : 0u);
}

TEST_P(IngestRequestTest, PrettyPrintedBodyKeepsDataBytes) {
    auto o =
        run("\n{\n  \"id\" : \"api.data.in\",\n  \"ver\": \"v2\", \"ts\":\"1\",\n  \"params\": { "
            "\"msgid\" : \"m\" },\n  \"data\" : [ { \"a\" : 1 } ,\n {\"b\": \" x \"} ]\n}\n\t ");
    ASSERT_EQ(o.status, validation_status::ok) << o.error;
    EXPECT_EQ(o.data, "[ { \"a\" : 1 } ,\n {\"b\": \" x \"} ]");
    EXPECT_EQ(o.req.event_count, 2u);
}

// Every ajv failure, first error only, in ajv's order.
TEST_P(IngestRequestTest, SchemaErrorsMatchAjv) {
    const std::string ok_params = R"({"msgid":"m"})";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"[]", "#type must be object"},
        {"5", "#type must be object"},
        {"\"s\"", "#type must be object"},
        {"null", "#type must be object"},
        {"{}", "#required must have required property 'id'"},
        {R"({"id":5,"data":{}})", "#required must have required property 'ver'"},
        {R"({"ver":1,"id":5})", "#required must have required property 'ts'"},
        {R"({"id":"x","ver":"1","ts":"1","data":{}})",
         "#required must have required property 'params'"},
        {R"({"id":"api.data.in","ver":"1","ts":"1","params":{"msgid":"m"}})",
         "#required must have required property 'data'"},
        {R"({"id":5,"ver":"1","ts":"1","params":{"msgid":"m"},"data":{}})",
         "#properties/id/type must be string"},
        {R"({"id":null,"ver":"1","ts":"1","params":{"msgid":"m"},"data":{}})",
         "#properties/id/type must be string"},
        {R"({"id":"x","ver":1,"ts":1,"params":5,"data":5})",
         "#properties/id/enum must be equal to one of the allowed values"},
        {R"({"id":"api.data.in","ver":1,"ts":1,"params":5,"data":5})",
         "#properties/ver/type must be string"},
        {R"({"id":"api.data.in","ver":"1","ts":1,"params":5,"data":5})",
         "#properties/ts/type must be string"},
        {R"({"id":"api.data.in","ver":"1","ts":"1","params":[],"data":{}})",
         "#properties/params/type must be object"},
        {R"({"id":"api.data.in","ver":"1","ts":"1","params":null,"data":{}})",
         "#properties/params/type must be object"},
        {R"({"id":"api.data.in","ver":"1","ts":"1","params":{},"data":{}})",
         "#properties/params/required must have required property 'msgid'"},
        {R"({"id":"api.data.in","ver":"1","ts":"1","params":{"x":1},"data":{}})",
         "#properties/params/required must have required property 'msgid'"},
        {R"({"id":"api.data.in","ver":"1","ts":"1","params":{"x":1,"msgid":2},"data":{}})",
         "#properties/params/additionalProperties must NOT have additional properties"},
        {R"({"id":"api.data.in","ver":"1","ts":"1","params":{"msgid":"m","x":1},"data":5})",
         "#properties/params/additionalProperties must NOT have additional properties"},
        {R"({"id":"api.data.in","ver":"1","ts":"1","params":{"msgid":1},"data":{}})",
         "#properties/params/properties/msgid/type must be string"},
        {R"({"id":"api.data.in","ver":"1","ts":"1","params":{"msgid":null},"data":{}})",
         "#properties/params/properties/msgid/type must be string"},
        {body_with(ok_params, "5"), "#properties/data/oneOf/0/type must be object"},
        {body_with(ok_params, "null"), "#properties/data/oneOf/0/type must be object"},
        {body_with(ok_params, "\"s\""), "#properties/data/oneOf/0/type must be object"},
        {body_with(ok_params, "[1]"), "#properties/data/oneOf/0/type must be object"},
        {body_with(ok_params, "[{},2,{}]"), "#properties/data/oneOf/0/type must be object"},
        {body_with(ok_params, "[[]]"), "#properties/data/oneOf/0/type must be object"},
        {body_with(ok_params, "[null]"), "#properties/data/oneOf/0/type must be object"},
        {R"({"id":"api.data.in","ver":"1","ts":"1","params":{"msgid":"m"},"data":{},)"
         R"("additionalProperties":false})",
         "#properties/additionalProperties/false schema boolean schema is false"},
        // "additionalProperties" is checked after data.
        {R"({"additionalProperties":1,"id":"api.data.in","ver":"1","ts":"1",)"
         R"("params":{"msgid":"m"},"data":5})",
         "#properties/data/oneOf/0/type must be object"},
    };
    for (const auto& [body, message] : cases) {
        auto o = run(body);
        EXPECT_EQ(o.status, validation_status::invalid_input) << body;
        EXPECT_EQ(o.error, message) << body;
    }
}

TEST_P(IngestRequestTest, EmptyBodyIsAnEmptyObject) {
    // body-parser turns a zero-length body into {}.
    EXPECT_EQ(error_of(""), "#required must have required property 'id'");
}

TEST_P(IngestRequestTest, DuplicateKeysLastWins) {
    // data: the last one wins, both for validity and for the bytes taken.
    auto o =
        run(R"({"data":5,)" + std::string(k_head) + R"(,"params":{"msgid":"m"},"data":[{"a":1}]})");
    ASSERT_EQ(o.status, validation_status::ok) << o.error;
    EXPECT_EQ(o.data, R"([{"a":1}])");
    EXPECT_EQ(o.req.kind, data_kind::array);

    o = run(body_with(R"({"msgid":"m"})", R"({"first":1},"data":{"second":2})"));
    ASSERT_EQ(o.status, validation_status::ok) << o.error;
    EXPECT_EQ(o.data, R"({"second":2})");

    EXPECT_EQ(error_of(body_with(R"({"msgid":"m"})", R"({"first":1},"data":7)")),
              "#properties/data/oneOf/0/type must be object");

    // msgid inside params, and params itself.
    o = run(body_with(R"({"msgid":"a","msgid":"b"})", "{}"));
    ASSERT_EQ(o.status, validation_status::ok) << o.error;
    EXPECT_EQ(o.msgid, "b");
    o = run(R"({"params":{"msgid":"old"},)" + std::string(k_head) +
            R"(,"params":{"msgid":"new"},"data":{}})");
    ASSERT_EQ(o.status, validation_status::ok) << o.error;
    EXPECT_EQ(o.msgid, "new");
    EXPECT_EQ(error_of(body_with(R"({"msgid":"a","msgid":3})", "{}")),
              "#properties/params/properties/msgid/type must be string");

    // id: an invalid first value is replaced by a valid last one, and the other way round.
    o = run(R"({"id":5,)" + std::string(k_head) + R"(,"params":{"msgid":"m"},"data":{}})");
    EXPECT_EQ(o.status, validation_status::ok) << o.error;
    EXPECT_EQ(
        error_of("{" + std::string(k_head) + R"(,"id":"x","params":{"msgid":"m"},"data":{}})"),
        "#properties/id/enum must be equal to one of the allowed values");
}

TEST_P(IngestRequestTest, EscapedKeyNames) {
    auto o = run("{" + std::string(k_head) +
                 R"(,"p\u0061rams":{"m\u0073gid":"m\"1"},"d\u0061ta":{"k":"v"}})");
    ASSERT_EQ(o.status, validation_status::ok) << o.error;
    EXPECT_EQ(o.data, R"({"k":"v"})");
    EXPECT_EQ(o.msgid, "m\"1");
    EXPECT_GE(_validator.stats().escaped_keys, 1u);
    EXPECT_EQ(_validator.stats().dom_fallbacks, 0u);

    // The escaped spelling of "data" is the last "data".
    o = run(body_with(R"({"msgid":"m"})", R"({"plain":1},"\u0064ata":[{"escaped":2}])"));
    ASSERT_EQ(o.status, validation_status::ok) << o.error;
    EXPECT_EQ(o.data, R"([{"escaped":2}])");

    // ...and when it is not the last member.
    o = run(R"({"\u0064ata":{"escaped":2},)" + std::string(k_head) + R"(,"params":{"msgid":"m"}})");
    ASSERT_EQ(o.status, validation_status::ok) << o.error;
    EXPECT_EQ(o.data, R"({"escaped":2})");
}

TEST_P(IngestRequestTest, EscapedMsgidIsUnescaped) {
    auto o = run(body_with(R"({"msgid":"a\u0041\n\\\"\u00e9\ud83d\ude00"})", "{}"));
    ASSERT_EQ(o.status, validation_status::ok) << o.error;
    EXPECT_EQ(o.msgid, "aA\n\\\"\xc3\xa9\xf0\x9f\x98\x80");
}

TEST_P(IngestRequestTest, HugeMsgid) {
    const std::string msgid(300000, 'x');
    auto o = run(body_with(R"({"msgid":")" + msgid + "\"}", "{}"));
    ASSERT_EQ(o.status, validation_status::ok) << o.error;
    EXPECT_EQ(o.msgid, msgid);
}

TEST_P(IngestRequestTest, InvalidJson) {
    const std::vector<std::string> cases = {
        "{",
        R"({"id":"api.data.in",})",
        R"({"id" "x"})",
        "{} {}",
        "  ",
        R"({"a":01})",
        R"({"a":1.})",
        R"({"a":"unterminated})",
        R"({"a":"\x"})",
        "{\"a\":\"tab\there\"}",  // raw control character inside a string
        R"({"a":tru})",
        // A string right after a number or literal is part of its token (stage 1 starts no
        // string there): the number or literal is malformed, in an otherwise valid envelope too.
        body_with(R"({"msgid":"m"})", R"([{"a":4"m"}])"),
        body_with(R"({"msgid":"m"})", R"([{"a":true"m"}])"),
        body_with(R"({"msgid":"m"})", R"({"a":[null"m"]})"),
    };
    for (const auto& body : cases) {
        auto o = run(body);
        EXPECT_EQ(o.status, validation_status::invalid_json) << body;
        EXPECT_EQ(o.error.rfind("Invalid JSON body: ", 0), 0u) << o.error;
    }
}

TEST_P(IngestRequestTest, InvalidUtf8) {
    const std::vector<std::string> cases = {
        body_with(R"({"msgid":"m"})", "{\"a\":\"\xC3\x28\"}"),          // bad continuation
        body_with(R"({"msgid":"m"})", "{\"a\":\"\xC0\xAF\"}"),          // overlong '/'
        body_with(R"({"msgid":"m"})", "{\"a\":\"\xE0\x80\xAF\"}"),      // overlong, 3 bytes
        body_with(R"({"msgid":"m"})", "{\"a\":\"\xED\xA0\x80\"}"),      // UTF-8 surrogate
        body_with(R"({"msgid":"m"})", "{\"a\":\"\xF4\x90\x80\x80\"}"),  // > U+10FFFF
        body_with("{\"msgid\":\"\xFF\"}", "{}"),
    };
    for (const auto& body : cases) {
        auto o = run(body);
        EXPECT_EQ(o.status, validation_status::invalid_json);
        EXPECT_EQ(o.error, "Invalid JSON body: The input is not valid UTF-8")
            << testing::PrintToString(body);
    }
}

TEST_P(IngestRequestTest, ByteOrderMarkIsSkipped) {
    auto o = run("\xEF\xBB\xBF" + body_with(R"({"msgid":"m"})", "{}"));
    ASSERT_EQ(o.status, validation_status::ok) << o.error;
    EXPECT_EQ(o.data, "{}");
}

TEST_P(IngestRequestTest, BigNumbersAreAcceptedAndKeptAsSent) {
    auto o = run(body_with(R"({"msgid":"m"})",
                           R"([{"big":123456789012345678901234567890,"e":1e400,"z":0e999,)"
                           R"("neg":-18446744073709551616,"s":"1e400"}])"));
    ASSERT_EQ(o.status, validation_status::ok) << o.error;
    EXPECT_EQ(o.data, R"([{"big":123456789012345678901234567890,"e":1e400,"z":0e999,)"
                      R"("neg":-18446744073709551616,"s":"1e400"}])");
    // The checker accepts numbers beyond double/int64; the DOM needs the patched copy.
    EXPECT_EQ(_validator.stats().big_number_fallbacks, dom_only() ? 1u : 0u);
    // Grammar errors stay errors on that path.
    EXPECT_EQ(
        run(body_with(R"({"msgid":"m"})", R"({"a":123456789012345678901234567890,"b":01})")).status,
        validation_status::invalid_json);
    // A number never satisfies a string/object rule, big or not.
    EXPECT_EQ(error_of(body_with(R"({"msgid":123456789012345678901234567890})", "{}")),
              "#properties/params/properties/msgid/type must be string");
}

TEST_P(IngestRequestTest, EchoedMsgidFollowsLodashIsEmpty) {
    auto o = run(body_with(R"({"msgid":"keep"})", "5"));
    EXPECT_EQ(o.status, validation_status::invalid_input);
    EXPECT_EQ(o.req.echo.type, response_msgid::kind::string);
    EXPECT_EQ(o.req.echo.text, "keep");

    o = run(body_with(R"({"msgid":""})", "{}"));
    EXPECT_EQ(o.req.echo.type, response_msgid::kind::omit);
    o = run(body_with(R"({"msgid":42})", "{}"));
    EXPECT_EQ(o.req.echo.type, response_msgid::kind::omit);
    o = run(body_with(R"({"msgid":true})", "{}"));
    EXPECT_EQ(o.req.echo.type, response_msgid::kind::omit);
    o = run(body_with(R"({"msgid":{}})", "{}"));
    EXPECT_EQ(o.req.echo.type, response_msgid::kind::omit);
    o = run(body_with(R"({"msgid":{"a": [1, "x"]}})", "{}"));
    EXPECT_EQ(o.req.echo.type, response_msgid::kind::json);
    EXPECT_EQ(o.req.echo.text, R"({"a":[1,"x"]})");
    o = run(body_with(R"(["msgid"])", "{}"));
    EXPECT_EQ(o.req.echo.type, response_msgid::kind::omit);
    o = run(R"({"id":"x"})");
    EXPECT_EQ(o.req.echo.type, response_msgid::kind::omit);
}

TEST_P(IngestRequestTest, WorksWithExactCapacity) {
    const std::string body = body_with(R"({"msgid":"m"})", R"({"a":"b"})");
    request_validator small(body.size());
    ASSERT_TRUE(small.ready());
    padded_body pb(body);
    ingest_request req;
    EXPECT_EQ(small.validate(pb.view(), req), validation_status::ok) << req.error;
    padded_body bigger(body + "   ");
    EXPECT_EQ(small.validate(bigger.view(), req), validation_status::invalid_json);
}

TEST_P(IngestRequestTest, DeepNestingIsRefused) {
    std::string deep = std::string(2000, '[') + std::string(2000, ']');
    EXPECT_EQ(run(body_with(R"({"msgid":"m"})", "[{\"a\":" + deep + "}]")).status,
              validation_status::invalid_json);
}

// Envelopes assembled from good and bad parts, a third of them with random byte edits: the
// outline-first validator must give exactly the DOM path's result for each.
TEST(IngestRequestPathsTest, OutlineFirstAndDomOnlyAgree) {
    const std::vector<std::string> ids = {R"("api.data.in")", R"("api.data\u002ein")", R"("x")",
                                          "5", "null"};
    const std::vector<std::string> vers = {R"("v2")", R"("")", "2", "null", "{}"};
    const std::vector<std::string> params = {R"({"msgid":"m-1"})",
                                             R"({ "msgid" : "m" })",
                                             R"({"msgid":"m\"q"})",
                                             R"({"msgid":""})",
                                             R"({"msgid":"m","x":1})",
                                             "{}",
                                             R"({"msgid":5})",
                                             R"({"msgid":{"a":1}})",
                                             "[]",
                                             R"("p")",
                                             R"({"msgid":"a","msgid":"b"})",
                                             R"({"m\u0073gid":"m"})",
                                             R"({"msgid":123456789012345678901234567890})"};
    const std::vector<std::string> datas = {"{}",
                                            "[]",
                                            "[{}]",
                                            R"([{"a":1},{"b":[1,{"c":"]"}]}])",
                                            "[{},1]",
                                            "[[]]",
                                            "5",
                                            R"("s")",
                                            "null",
                                            R"({"events":[{"x":1},{"y":2}]})",
                                            R"([{"big":1e400,"n":-123456789012345678901}])",
                                            "[ {\"a\" : 1} ,\n {\"b\":\"\\u00e9\"} ]\n"};
    const std::vector<std::string> keys = {"id", "ver", "ts", "params", "data"};
    const std::vector<std::string> extras = {
        R"("extra":{"x":[1]})", R"("d\u0061ta":{})", R"("additionalProperties":1)",
        R"("i\u0064":"x")",     R"("data":[{}])",    R"("ts":"2")"};
    const std::string_view alphabet = "{}[],:\"\\ 0123456789-.eE";

    request_validator outline_first(1 << 20, false);
    request_validator dom_only(1 << 20, true);
    std::mt19937_64 rng(42);
    std::size_t ok = 0, refused = 0, invalid_json = 0;
    for (int round = 0; round < 30000; ++round) {
        std::vector<std::string> members;
        for (const auto& key : keys) {
            if (rng() % 20 == 0) {
                continue;  // missing
            }
            std::string value = key == "id"       ? ids[rng() % 8 < 4 ? 0 : rng() % ids.size()]
                                : key == "params" ? params[rng() % 2 ? 0 : rng() % params.size()]
                                : key == "data"   ? datas[rng() % datas.size()]
                                                  : vers[rng() % 4 ? 0 : rng() % vers.size()];
            members.push_back("\"" + key + "\":" + value);
        }
        if (rng() % 4 == 0) {
            members.push_back(extras[rng() % extras.size()]);
        }
        std::shuffle(members.begin(), members.end(), rng);
        std::string text = "{";
        for (std::size_t i = 0; i < members.size(); ++i) {
            text += (i ? "," : "") + members[i];
        }
        text += "}";
        if (rng() % 3 == 0) {
            for (int e = static_cast<int>(rng() % 3); e >= 0; --e) {
                const std::size_t at = rng() % text.size();
                if (rng() % 2) {
                    text[at] = alphabet[rng() % alphabet.size()];
                } else {
                    text.erase(at, 1);
                }
            }
        }
        const padded_body body(text);
        ingest_request a, b;
        const auto status_a = outline_first.validate(body.view(), a);
        const auto status_b = dom_only.validate(body.view(), b);
        ASSERT_EQ(status_a, status_b) << text;
        EXPECT_EQ(a.error, b.error) << text;
        EXPECT_EQ(a.echo.type, b.echo.type) << text;
        EXPECT_EQ(a.echo.text, b.echo.text) << text;
        if (status_a == validation_status::ok) {
            ++ok;
            EXPECT_EQ(a.msgid, b.msgid) << text;
            EXPECT_EQ(a.kind, b.kind) << text;
            EXPECT_EQ(a.event_count, b.event_count) << text;
            EXPECT_EQ(a.data, b.data) << text;
        } else {
            ++refused;
            invalid_json += status_a == validation_status::invalid_json ? 1 : 0;
        }
    }
    // Both outcomes in numbers; the outline answered most bodies, schema errors included.
    EXPECT_GT(ok, 2000u);
    EXPECT_GT(refused, 2000u);
    // Invalid JSON always takes the DOM (for its message); of the schema errors, most did not.
    const std::size_t schema_errors = refused - invalid_json;
    EXPECT_GT(schema_errors, 2000u);
    EXPECT_LT(outline_first.stats().dom_validations - invalid_json, schema_errors / 2);
}

// ---- legacy v1 ------------------------------------------------------------------------------

class LegacyRequestTest : public ::testing::Test {
  protected:
    validation_status run(std::string text, legacy_request& out) {
        _bodies.emplace_back(std::move(text));
        return _validator.validate_legacy(_bodies.back().view(), out);
    }
    request_validator _validator{1 << 20};
    std::vector<padded_body> _bodies;
};

TEST_F(LegacyRequestTest, SchemaErrors) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"[]", " must be object"},
        {"5", " must be object"},
        {"{}", " must have required property 'data'"},
        {"", " must have required property 'data'"},
        {R"({"data":5})", "data must be object"},
        {R"({"data":[]})", "data must be object"},
        {R"({"data":null})", "data must be object"},
        {R"({"data":{},"data":1})", "data must be object"},
    };
    for (const auto& [body, message] : cases) {
        legacy_request req;
        EXPECT_EQ(run(body, req), validation_status::invalid_input) << body;
        EXPECT_EQ(req.error, message) << body;
    }
    legacy_request req;
    EXPECT_EQ(run("{\"data\":{\"a\":\"\xC3\x28\"}}", req), validation_status::invalid_json);
}

TEST_F(LegacyRequestTest, SpliceOrRebuild) {
    legacy_request req;
    ASSERT_EQ(run(R"({"data":{"event":{"a":1},"mid":"m1"}})", req), validation_status::ok);
    EXPECT_EQ(req.data, R"({"event":{"a":1},"mid":"m1"})");
    EXPECT_FALSE(req.needs_rebuild);
    EXPECT_TRUE(req.has_truthy_mid);

    ASSERT_EQ(run(R"({"x":1,"data":{"event":{}},"y":2})", req), validation_status::ok);
    EXPECT_EQ(req.data, R"({"event":{}})");
    EXPECT_FALSE(req.needs_rebuild);
    EXPECT_FALSE(req.has_truthy_mid);

    const std::vector<std::string> rebuild = {
        R"({"data":{"event":{},"dataset":"x"}})",
        R"({"data":{"event":{},"syncts":1}})",
        R"({"data":{"obsrv_meta":{}}})",
        R"({"data":{"did":"d"}})",
        R"({"data":{"channel":"c"}})",
        R"({"data":{"pid":"p"}})",
        R"({"data":{"mid":""}})",
        R"({"data":{"mid":0}})",
        R"({"data":{"mid":null}})",
        R"({"data":{"mid":false}})",
        R"({"data":{"a":1,"a":2}})",
        R"({"data":{"7":1}})",
        R"({"data":{"d\u0061taset":1}})",
    };
    for (const auto& body : rebuild) {
        ASSERT_EQ(run(body, req), validation_status::ok) << body;
        EXPECT_TRUE(req.needs_rebuild) << body;
    }
    for (const auto* body : {R"({"data":{"mid":1}})", R"({"data":{"mid":{}}})",
                             R"({"data":{"mid":"x"}})", R"({"data":{"mid":[]}})"}) {
        ASSERT_EQ(run(body, req), validation_status::ok) << body;
        EXPECT_TRUE(req.has_truthy_mid) << body;
        EXPECT_FALSE(req.needs_rebuild) << body;
    }
}

TEST_F(LegacyRequestTest, ValidateDataRules) {
    legacy_request req;
    ASSERT_EQ(run(R"({"data":{"event":{"a":1}}})", req), validation_status::ok);
    EXPECT_TRUE(legacy_data_accepted(req, false, std::nullopt, std::nullopt));
    EXPECT_TRUE(legacy_data_accepted(req, true, "events", "id"));

    ASSERT_EQ(run(R"({"data":{"event":5}})", req), validation_status::ok);
    EXPECT_TRUE(legacy_data_accepted(req, false, std::nullopt, std::nullopt));  // _.has only

    ASSERT_EQ(run(R"({"data":{"events":[{}],"id":"b1"}})", req), validation_status::ok);
    EXPECT_FALSE(legacy_data_accepted(req, false, "events", "id"));
    EXPECT_TRUE(legacy_data_accepted(req, true, "events", "id"));
    EXPECT_FALSE(legacy_data_accepted(req, true, "events", "batch"));
    EXPECT_FALSE(legacy_data_accepted(req, true, std::nullopt, "id"));

    // lodash paths walk into nested values; a literal dotted key is found first.
    ASSERT_EQ(run(R"({"data":{"batch":{"items":[{"x":1}],"meta":{"id":7}},"a.b":1}})", req),
              validation_status::ok);
    EXPECT_TRUE(legacy_data_accepted(req, true, "batch.items", "batch.meta.id"));
    EXPECT_TRUE(legacy_data_accepted(req, true, "batch.items[0].x", "a.b"));
    EXPECT_TRUE(legacy_data_accepted(req, true, "batch.items.0", "batch.items.length"));
    EXPECT_TRUE(legacy_data_accepted(req, true, "batch['items']", "batch[\"meta\"].id"));
    EXPECT_FALSE(legacy_data_accepted(req, true, "batch.items[1]", "a.b"));
    EXPECT_FALSE(legacy_data_accepted(req, true, "batch.nothing", "a.b"));
    EXPECT_FALSE(legacy_data_accepted(req, true, "batch.items.length.x", "a.b"));

    // An unset extraction config value is looked up as the key "undefined".
    ASSERT_EQ(run(R"({"data":{"undefined":[],"id":1}})", req), validation_status::ok);
    EXPECT_TRUE(legacy_data_accepted(req, true, std::nullopt, "id"));
    EXPECT_FALSE(legacy_data_accepted(req, false, std::nullopt, "id"));
}

// ---- scanners -------------------------------------------------------------------------------

TEST(JsonScannerTest, SkipsStringsWithEscapes) {
    const std::string s = R"("a\"b\\" , "c\\\"d" ])";
    const char* end = s.data() + s.size();
    const char* p = json_text::skip_string(s.data(), end);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(std::string_view(s.data(), static_cast<std::size_t>(p - s.data())), R"("a\"b\\")");
    p = json_text::skip_ws(p, end);
    ASSERT_EQ(*p, ',');
    const char* q = json_text::skip_string(json_text::skip_ws(p + 1, end), end);
    ASSERT_NE(q, nullptr);
    EXPECT_EQ(*json_text::skip_ws(q, end), ']');
    EXPECT_EQ(json_text::skip_string(s.data(), s.data() + 3), nullptr);  // unterminated
}

TEST(JsonScannerTest, MemberCursor) {
    const std::string s = R"( { "a" : [1, {"}": "]"}] , "b\"":"x", "c":-1.5e3 } )";
    json_text::member_cursor cursor(s.data(), s.data() + s.size());
    json_text::member_span m;
    std::vector<std::pair<std::string, std::string>> members;
    while (cursor.next(m)) {
        members.emplace_back(m.raw_key, m.value);
    }
    EXPECT_FALSE(cursor.failed());
    const std::vector<std::pair<std::string, std::string>> expected = {
        {"a", R"([1, {"}": "]"}])"}, {R"(b\")", R"("x")"}, {"c", "-1.5e3"}};
    EXPECT_EQ(members, expected);

    const std::string bad = R"({"a" 1})";
    json_text::member_cursor broken(bad.data(), bad.data() + bad.size());
    EXPECT_FALSE(broken.next(m));
    EXPECT_TRUE(broken.failed());
}

TEST(JsonScannerTest, UnescapeAndCompareKeys) {
    std::string out;
    ASSERT_TRUE(json_text::unescape_json_string(R"(\u0064\/\t\ud83d\ude00)", out));
    EXPECT_EQ(out, "d/\t\xf0\x9f\x98\x80");
    EXPECT_FALSE(json_text::unescape_json_string(R"(\q)", out));
    EXPECT_TRUE(json_text::raw_key_equals(R"(d\u0061ta)", "data"));
    EXPECT_FALSE(json_text::raw_key_equals(R"(d\u0061t)", "data"));
    EXPECT_TRUE(json_text::raw_key_equals("data", "data"));
}

}  // namespace
}  // namespace obsrv::ingress
