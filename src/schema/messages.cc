// networknt json-schema-validator's message wording and Obsrv's ERR_PP_1013
// payload.
//
// Obsrv (SchemaValidator.getValidationMessages) serialises each networknt
// ValidationMessage with Jackson, reads it back into its ValidationMsg case
// class and serialises that again with JSONUtil (Include.NON_NULL, Scala
// Options), so every one of the ten keys is present, in case-class order,
// with null where networknt had no value. What we mirror and where we differ:
//  - Wording follows networknt 1.4's jsv-messages.properties (English).
//  - instanceLocation/evaluationPath use networknt's default legacy path
//    type ("$.a.b[0]"); schemaLocation is "<base uri>#<JSON pointer>".
//  - code is networknt's ValidatorTypeCode error code for the keyword.
//  - networknt returns a Set (hash order); we keep evaluation order, which
//    is stable from run to run.
//  - For anyOf/oneOf/not we report the applicator's own message, not the
//    messages of every failed branch that networknt also lists.
//  - A "type" given as an array keeps messageKey "type" (networknt says
//    "unionType"), so Obsrv's DataTypeMismatch system event counts it.
//  - details is always null: networknt sets it only for custom keywords.

#include <array>
#include <utility>

#include "common/json_writer.h"
#include "schema/compiled.h"

namespace obsrv::schema {

namespace detail {

namespace {

struct message_spec {
    std::string_view key;
    std::string_view code;
    std::string_view text;
};

constexpr std::array k_messages = {
    message_spec{"$ref", "1026", "{0}: maximum evaluation depth {1} exceeded (cyclic $ref?)"},
    message_spec{"additionalProperties", "1001",
                 "{0}: property '{1}' is not defined in the schema and the schema does not allow "
                 "additional properties"},
    message_spec{"allOf", "1002", "{0}: must be valid to all the schemas {1}"},
    message_spec{"anyOf", "1003", "{0}: must be valid to any of the schemas {1}"},
    message_spec{"const", "1042", "{0}: must be the constant value '{1}'"},
    message_spec{"contains", "1043",
                 "{0}: does not contain an element that passes these validations: {2}"},
    message_spec{"contains.max", "1006",
                 "{0}: must contain at most {1} element(s) that passes these validations: {2}"},
    message_spec{"contains.min", "1049",
                 "{0}: must contain at least {1} element(s) that passes these validations: {2}"},
    message_spec{"dependentRequired", "1045",
                 "{0}: has a missing property '{1}' which is dependent required because '{2}' is "
                 "present"},
    message_spec{"enum", "1008", "{0}: does not have a value in the enumeration {1}"},
    message_spec{"exclusiveMaximum", "1038", "{0}: must have an exclusive maximum value of {1}"},
    message_spec{"exclusiveMinimum", "1039", "{0}: must have an exclusive minimum value of {1}"},
    message_spec{"false", "1041", "{0}: schema for '{1}' is false"},
    message_spec{"maxItems", "1012", "{0}: must have at most {1} items but found {2}"},
    message_spec{"maxLength", "1013", "{0}: must be at most {1} characters long"},
    message_spec{"maxProperties", "1014", "{0}: must have at most {1} properties"},
    message_spec{"maximum", "1011", "{0}: must have a maximum value of {1}"},
    message_spec{"minItems", "1016", "{0}: must have at least {1} items but found {2}"},
    message_spec{"minLength", "1017", "{0}: must be at least {1} characters long"},
    message_spec{"minProperties", "1018", "{0}: must have at least {1} properties"},
    message_spec{"minimum", "1015", "{0}: must have a minimum value of {1}"},
    message_spec{"multipleOf", "1019", "{0}: must be multiple of {1}"},
    message_spec{"not", "1020", "{0}: must not be valid to the schema {1}"},
    message_spec{"oneOf", "1022",
                 "{0}: must be valid to one and only one schema, but {1} are valid"},
    message_spec{"pattern", "1023", "{0}: does not match the regex pattern {1}"},
    message_spec{"propertyNames", "1044", "{0}: property '{1}' name is not valid: {2}"},
    message_spec{"required", "1028", "{0}: required property '{1}' not found"},
    message_spec{"type", "1029", "{0}: {1} found, {2} expected"},
    message_spec{"unevaluatedItems", "1021",
                 "{0}: index '{1}' is not evaluated and the schema does not allow unevaluated "
                 "items"},
    message_spec{"unevaluatedProperties", "1047",
                 "{0}: property '{1}' is not evaluated and the schema does not allow unevaluated "
                 "properties"},
    message_spec{"unionType", "1030", "{0}: {1} found, but {2} is required"},
    message_spec{"uniqueItems", "1031", "{0}: must have only unique items in the array"},
};

const message_spec* find_spec(std::string_view key) {
    for (const auto& spec : k_messages) {
        if (spec.key == key) {
            return &spec;
        }
    }
    return nullptr;
}

}  // namespace

std::string format_message(std::string_view message_key, std::string_view instance_path,
                           const std::vector<std::string>& arguments) {
    const message_spec* spec = find_spec(message_key);
    if (spec == nullptr) {
        return std::string(instance_path) + ": " + std::string(message_key);
    }
    std::string out;
    const std::string_view t = spec->text;
    for (std::size_t i = 0; i < t.size(); ++i) {
        if (t[i] == '{' && i + 2 < t.size() && t[i + 2] == '}' && t[i + 1] >= '0' &&
            t[i + 1] <= '9') {
            const auto arg = static_cast<std::size_t>(t[i + 1] - '0');
            if (arg == 0) {
                out.append(instance_path);
            } else if (arg - 1 < arguments.size()) {
                out.append(arguments[arg - 1]);
            }
            i += 2;
        } else {
            out.push_back(t[i]);
        }
    }
    return out;
}

}  // namespace detail

std::string to_validation_messages_json(std::span<const validation_error> errors) {
    json_writer w;
    w.begin_array();
    for (const auto& e : errors) {
        // networknt's "type" is the validator's keyword; a union "type" says
        // "type" too (the keyword), only the message key differs.
        const detail::message_spec* spec =
            detail::find_spec(e.message_key.empty() ? e.keyword : e.message_key);
        w.begin_object();
        w.key("type").value(e.keyword);
        w.key("code");
        if (spec != nullptr) {
            w.value(spec->code);
        } else {
            w.null();
        }
        w.key("message").value(e.message);
        w.key("instanceLocation").value(e.instance_location_legacy);
        w.key("property");
        if (e.property.empty()) {
            w.null();
        } else {
            w.value(e.property);
        }
        w.key("evaluationPath").value(e.evaluation_path_legacy);
        w.key("schemaLocation").value(e.schema_location);
        w.key("messageKey")
            .value(e.message_key == "unionType" ? std::string_view("type")
                                                : std::string_view(e.message_key));
        w.key("arguments").begin_array();
        for (const auto& a : e.arguments) {
            w.value(a);
        }
        w.end_array();
        w.key("details").null();
        w.end_object();
    }
    w.end_array();
    return w.take();
}

bool only_additional_properties(std::span<const validation_error> errors) {
    for (const auto& e : errors) {
        if (e.message_key != "additionalProperties") {
            return false;
        }
    }
    return true;
}

}  // namespace obsrv::schema
