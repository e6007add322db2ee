// obsrv::schema API: error fields at nested paths, compile-time refusals,
// the ERR_PP_1013 payload format and concurrent validation.

#include "schema/validator.h"

#include <array>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <simdjson.h>

namespace {

using obsrv::schema::compile_options;
using obsrv::schema::compiled_schema;
using obsrv::schema::validation_error;

std::shared_ptr<const compiled_schema> compile_ok(std::string_view json,
                                                  const compile_options& options = {}) {
    auto r = compiled_schema::compile(json, options);
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? *r : nullptr;
}

std::string compile_error(std::string_view json) {
    auto r = compiled_schema::compile(json);
    EXPECT_FALSE(r.has_value()) << json;
    return r ? "" : r.error().message;
}

struct checked {
    bool valid;
    std::vector<validation_error> errors;
};

checked check(const compiled_schema& s, std::string_view json) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc = parser.parse(simdjson::padded_string(json)).value();
    checked c;
    c.valid = s.validate(doc, &c.errors);
    // The fast (error-less) path must reach the same verdict.
    EXPECT_EQ(c.valid, s.validate(doc, nullptr)) << json;
    return c;
}

constexpr std::string_view k_vehicle_schema = R"({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "properties": {
    "id": {"type": "string"},
    "vehicle": {
      "type": "object",
      "properties": {
        "speed": {"type": "number", "minimum": 0},
        "code": {"type": "string", "pattern": "^[A-Z]{2}-[0-9]+$"}
      },
      "required": ["speed"],
      "additionalProperties": false
    },
    "tags": {"type": "array", "items": {"type": "string"}}
  },
  "required": ["id", "vehicle"]
})";

TEST(schema_validator, valid_event) {
    auto s = compile_ok(k_vehicle_schema);
    const auto c = check(*s, R"({"id":"e1","vehicle":{"speed":12.5,"code":"KA-42"}})");
    EXPECT_TRUE(c.valid);
    EXPECT_TRUE(c.errors.empty());
}

TEST(schema_validator, required_at_nested_path) {
    auto s = compile_ok(k_vehicle_schema);
    const auto c = check(*s, R"({"id":"e1","vehicle":{"code":"KA-42"}})");
    ASSERT_FALSE(c.valid);
    ASSERT_EQ(c.errors.size(), 1u);
    const auto& e = c.errors[0];
    EXPECT_EQ(e.keyword, "required");
    EXPECT_EQ(e.message_key, "required");
    EXPECT_EQ(e.instance_location, "/vehicle");
    EXPECT_EQ(e.instance_location_legacy, "$.vehicle");
    EXPECT_EQ(e.evaluation_path, "/properties/vehicle/required");
    EXPECT_EQ(e.evaluation_path_legacy, "$.properties.vehicle.required");
    EXPECT_EQ(e.schema_location, "#/properties/vehicle/required");
    EXPECT_EQ(e.property, "speed");
    EXPECT_EQ(e.message, "$.vehicle: required property 'speed' not found");
    EXPECT_EQ(e.arguments, std::vector<std::string>{"speed"});
}

TEST(schema_validator, type_and_additional_properties_at_nested_paths) {
    auto s = compile_ok(k_vehicle_schema);
    const auto c =
        check(*s, R"({"id":7,"vehicle":{"speed":"fast","colour":"red"},"tags":["a",3]})");
    ASSERT_FALSE(c.valid);
    ASSERT_EQ(c.errors.size(), 4u);
    EXPECT_EQ(c.errors[0].keyword, "type");
    EXPECT_EQ(c.errors[0].instance_location, "/id");
    EXPECT_EQ(c.errors[0].message, "$.id: integer found, string expected");
    EXPECT_EQ(c.errors[0].arguments, (std::vector<std::string>{"integer", "string"}));

    EXPECT_EQ(c.errors[1].keyword, "type");
    EXPECT_EQ(c.errors[1].instance_location, "/vehicle/speed");
    EXPECT_EQ(c.errors[1].evaluation_path, "/properties/vehicle/properties/speed/type");
    EXPECT_EQ(c.errors[1].schema_location, "#/properties/vehicle/properties/speed/type");
    EXPECT_EQ(c.errors[1].message, "$.vehicle.speed: string found, number expected");

    const auto& ap = c.errors[2];
    EXPECT_EQ(ap.keyword, "additionalProperties");
    EXPECT_EQ(ap.instance_location, "/vehicle");
    EXPECT_EQ(ap.evaluation_path, "/properties/vehicle/additionalProperties");
    EXPECT_EQ(ap.schema_location, "#/properties/vehicle/additionalProperties");
    EXPECT_EQ(ap.property, "colour");
    EXPECT_EQ(ap.message,
              "$.vehicle: property 'colour' is not defined in the schema and the schema does not "
              "allow additional properties");

    EXPECT_EQ(c.errors[3].instance_location, "/tags/1");
    EXPECT_EQ(c.errors[3].instance_location_legacy, "$.tags[1]");
    EXPECT_EQ(c.errors[3].evaluation_path, "/properties/tags/items/type");
}

TEST(schema_validator, pattern_minimum_enum_messages) {
    auto s = compile_ok(R"({"properties":{
        "code":{"pattern":"^[A-Z]+$"},
        "n":{"minimum":0},
        "s":{"enum":["on","off"]}}})");
    const auto c = check(*s, R"({"code":"ab","n":-1,"s":"maybe"})");
    ASSERT_EQ(c.errors.size(), 3u);
    EXPECT_EQ(c.errors[0].message, "$.code: does not match the regex pattern ^[A-Z]+$");
    EXPECT_EQ(c.errors[1].message, "$.n: must have a minimum value of 0");
    EXPECT_EQ(c.errors[2].message,
              "$.s: does not have a value in the enumeration [\"on\",\"off\"]");
}

TEST(schema_validator, ref_hops_appear_in_evaluation_path_only) {
    auto s = compile_ok(R"({
      "$defs": {"pos": {"type": "integer", "minimum": 1}},
      "properties": {"count": {"$ref": "#/$defs/pos"}}})");
    const auto c = check(*s, R"({"count": 0})");
    ASSERT_EQ(c.errors.size(), 1u);
    EXPECT_EQ(c.errors[0].evaluation_path, "/properties/count/$ref/minimum");
    EXPECT_EQ(c.errors[0].schema_location, "#/$defs/pos/minimum");
}

TEST(schema_validator, integers_and_big_numbers) {
    auto s = compile_ok(R"({"type":"integer","maximum":18446744073709551615})");
    EXPECT_TRUE(check(*s, "1.0").valid);
    EXPECT_TRUE(check(*s, "18446744073709551615").valid);
    EXPECT_TRUE(check(*s, "-9223372036854775808").valid);
    EXPECT_FALSE(check(*s, "1.5").valid);
    auto limit = compile_ok(R"({"maximum":9007199254740992})");
    // 2^53 + 1 is not representable as a double; compared exactly.
    EXPECT_FALSE(check(*limit, "9007199254740993").valid);
    EXPECT_TRUE(check(*limit, "9007199254740992").valid);
    auto multiple = compile_ok(R"({"multipleOf":0.01})");
    EXPECT_TRUE(check(*multiple, "19.99").valid);
    EXPECT_FALSE(check(*multiple, "19.995").valid);
}

TEST(schema_validator, string_length_counts_code_points) {
    auto s = compile_ok(R"({"maxLength":2,"minLength":2})");
    EXPECT_TRUE(check(*s, R"("é😀")").valid);
    EXPECT_FALSE(check(*s, R"("abc")").valid);
}

TEST(schema_validator, max_errors_caps_the_list) {
    compile_options options;
    options.max_errors = 2;
    auto s = compile_ok(R"({"required":["a","b","c","d"]})", options);
    const auto c = check(*s, "{}");
    EXPECT_FALSE(c.valid);
    EXPECT_EQ(c.errors.size(), 2u);
}

TEST(schema_validator, cyclic_ref_without_progress_is_an_error_not_a_crash) {
    auto s = compile_ok(R"({"$defs":{"a":{"$ref":"#/$defs/a"}},"$ref":"#/$defs/a"})");
    const auto c = check(*s, "{}");
    EXPECT_FALSE(c.valid);
    ASSERT_EQ(c.errors.size(), 1u);
    EXPECT_EQ(c.errors[0].keyword, "$ref");
}

TEST(schema_validator, annotations_are_accepted) {
    compile_ok(R"({"title":"t","description":"d","examples":[1],"$comment":"c","default":0,
        "deprecated":true,"readOnly":false,"writeOnly":false,"format":"date-time",
        "contentMediaType":"application/json","contentEncoding":"base64","contentSchema":{}})");
}

TEST(schema_compile, unsupported_keyword_names_keyword_and_path) {
    EXPECT_EQ(compile_error(R"({"properties":{"a":{"x":1}}})"),
              "data_schema: unsupported keyword 'x' at #/properties/a");
    EXPECT_EQ(compile_error(R"({"dependencies":{}})"),
              "data_schema: unsupported keyword 'dependencies' at #");
}

TEST(schema_compile, refusals_say_unsupported) {
    for (const std::string_view schema : {
             R"({"$schema":"http://json-schema.org/draft-07/schema#"})",
             R"j({"pattern":"a(?=b)"})j",
             R"j({"pattern":"(a)\\1"})j",
             R"({"items":[{"type":"string"}]})",
             R"({"$ref":"https://example.com/other.json"})",
         }) {
        EXPECT_NE(compile_error(schema).find("unsupported"), std::string::npos) << schema;
    }
}

TEST(schema_compile, invalid_schemas) {
    for (const std::string_view schema : {
             R"({"type":"text"})",
             R"({"minLength":-1})",
             R"({"required":"a"})",
             R"({"multipleOf":0})",
             R"({"$ref":"#/$defs/missing"})",
             R"({"properties":{"a":1}})",
             R"({"type":)",
             R"([1])",
         }) {
        const std::string msg = compile_error(schema);
        EXPECT_TRUE(msg.starts_with("data_schema: ")) << msg;
    }
}

TEST(schema_messages, err_pp_1013_payload) {
    auto s = compile_ok(k_vehicle_schema);
    const auto c = check(*s, R"({"id":"e1","vehicle":{"speed":1,"x":2}})");
    ASSERT_EQ(c.errors.size(), 1u);
    EXPECT_EQ(
        obsrv::schema::to_validation_messages_json(c.errors),
        R"([{"type":"additionalProperties","code":"1001","message":"$.vehicle: property 'x' is not )"
        R"(defined in the schema and the schema does not allow additional properties",)"
        R"("instanceLocation":"$.vehicle","property":"x",)"
        R"("evaluationPath":"$.properties.vehicle.additionalProperties",)"
        R"("schemaLocation":"#/properties/vehicle/additionalProperties",)"
        R"("messageKey":"additionalProperties","arguments":["x"],"details":null}])");
    EXPECT_TRUE(obsrv::schema::only_additional_properties(c.errors));

    const auto r = check(*s, R"({"vehicle":{"speed":1}})");
    EXPECT_EQ(obsrv::schema::to_validation_messages_json(r.errors),
              R"([{"type":"required","code":"1028","message":"$: required property 'id' not )"
              R"(found","instanceLocation":"$","property":"id","evaluationPath":"$.required",)"
              R"("schemaLocation":"#/required","messageKey":"required","arguments":["id"],)"
              R"("details":null}])");
    EXPECT_FALSE(obsrv::schema::only_additional_properties(r.errors));
    EXPECT_EQ(obsrv::schema::to_validation_messages_json({}), "[]");
}

TEST(schema_validator, concurrent_validation) {
    auto s = compile_ok(k_vehicle_schema);
    const std::vector<std::string> events = {
        R"({"id":"e1","vehicle":{"speed":12.5,"code":"KA-42"}})",
        R"({"id":"e2","vehicle":{"code":"ka"}})",
        R"({"id":3,"vehicle":{"speed":-1,"extra":true},"tags":[1]})",
    };
    auto worker = [&](int* mismatches) {
        simdjson::dom::parser parser;
        std::vector<simdjson::padded_string> padded;
        for (const auto& e : events) {
            padded.emplace_back(e);
        }
        for (int i = 0; i < 3000; ++i) {
            const auto& json = padded[static_cast<std::size_t>(i) % padded.size()];
            simdjson::dom::element doc = parser.parse(json).value();
            std::vector<validation_error> errors;
            const bool valid = s->validate(doc, &errors);
            const std::size_t expected = std::array<std::size_t, 3>{0, 2, 4}[i % 3];
            if (valid != (expected == 0) || errors.size() != expected) {
                ++*mismatches;
            }
        }
    };
    int m1 = 0;
    int m2 = 0;
    std::thread t1(worker, &m1);
    std::thread t2(worker, &m2);
    t1.join();
    t2.join();
    EXPECT_EQ(m1, 0);
    EXPECT_EQ(m2, 0);
}

}  // namespace
