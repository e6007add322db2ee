#pragma once

// JSON Schema draft 2020-12 validation for the pipeline's validator stage
// (contract §3.2). A dataset's data_schema is compiled once into an immutable
// compiled_schema; worker threads then check each event, a simdjson DOM
// element, against it concurrently.
//
// Compilation is strict: a keyword the validator cannot honour is a compile
// error naming the keyword and its location, never a silent pass. Known
// annotations (title, description, format, ...) are accepted and ignored.
//
// Errors mirror networknt json-schema-validator's ValidationMessage (what
// Obsrv serialises into ERR_PP_1013's error_msg); see messages.cc for the
// exact wording and the differences.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "common/result.h"

namespace obsrv::schema {

struct validation_error {
    std::string keyword;            // "required", "type", "additionalProperties", "minimum", ...
    std::string instance_location;  // JSON pointer into the event, "" = root
    std::string evaluation_path;    // JSON pointer through the schema incl. $ref hops
    std::string schema_location;    // absolute keyword location, "#/properties/a/required"
    std::string property;           // required/additionalProperties/dependentRequired/...; else ""
    std::string message;            // networknt wording: "$.a: required property 'b' not found"
    std::vector<std::string> arguments;
    // networknt's messageKey: the keyword, or "contains.min"/"contains.max".
    std::string message_key;
    // The two paths as networknt's default (legacy) path type renders them:
    // "$.vehicle.speed", "$.tags[0]", "$.properties.a.allOf[0].type".
    std::string instance_location_legacy;
    std::string evaluation_path_legacy;
};

struct compile_options {
    // Returns the JSON text of an external schema document by absolute URI
    // (no fragment), or nullopt. Without a resolver, a $ref that leaves the
    // document is refused at compile time.
    std::function<std::optional<std::string>(std::string_view uri)> resolver;
    // Base URI for a root schema without "$id".
    std::string base_uri;
    // Cap on errors appended per validate() call; validation stops early
    // once it is reached.
    std::size_t max_errors = 64;
    // Recursion depth at which evaluation gives up (guards against $ref
    // cycles that do not consume the instance); the event is then invalid.
    std::uint32_t max_depth = 512;
};

namespace detail {
struct compiled_data;
}

/// Immutable after compile(); validate() is const and safe to call from any
/// number of threads at once. Shared by the dataset registry snapshot and the
/// worker-local validator stages via shared_ptr.
class compiled_schema {
  public:
    /// Compiles once per dataset. Errors start with "data_schema: ": an
    /// unsupported keyword, $schema dialect, regex feature or unresolvable
    /// $ref says "unsupported" (the schema may be valid, this validator
    /// cannot honour it); anything else means the schema itself is invalid.
    static obsrv::result<std::shared_ptr<const compiled_schema>> compile(
        std::string_view schema_json, const compile_options& options = {});

    /// True if `instance` is valid. When `errors` is non-null, appends up to
    /// max_errors entries for an invalid instance. The valid path does not
    /// allocate unless the schema uses unevaluatedProperties/unevaluatedItems.
    bool validate(simdjson::dom::element instance, std::vector<validation_error>* errors) const;

    compiled_schema(const compiled_schema&) = delete;
    compiled_schema& operator=(const compiled_schema&) = delete;
    ~compiled_schema();

    /// For use by compile() only (make_shared needs a public constructor).
    explicit compiled_schema(std::unique_ptr<detail::compiled_data> data);

  private:
    std::unique_ptr<detail::compiled_data> _data;
};

/// Obsrv's ERR_PP_1013 error_msg payload (the part after "Event failed the
/// schema validation: "): a JSON array of networknt ValidationMessage
/// objects with keys type, code, message, instanceLocation, property,
/// evaluationPath, schemaLocation, messageKey, arguments, details.
std::string to_validation_messages_json(std::span<const validation_error> errors);

/// True if every error is an additionalProperties one: Obsrv then accepts the
/// event in IgnoreNewFields/DiscardNewFields mode (EventValidationFunction).
bool only_additional_properties(std::span<const validation_error> errors);

}  // namespace obsrv::schema
