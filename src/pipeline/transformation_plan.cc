#include "pipeline/transformation_plan.h"

#include <algorithm>

#include "pipeline/field_cipher.h"
#include "pipeline/field_text.h"

namespace obsrv::pipeline {

namespace {

// Whether one path is a prefix of the other (writing one changes what is read at the other).
bool overlaps(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    const size_t n = std::min(a.size(), b.size());
    return std::equal(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(n), b.begin());
}

}  // namespace

result<transformation_plan> compile_transformations(const dataset::dataset& ds,
                                                    const dataset::system_settings& settings) {
    transformation_plan plan;
    std::vector<transformation_step> masks;
    const std::string& ts_key = ds.dataset_config.keys_config.timestamp_key;
    const bool ts_in_meta = ts_key.rfind("obsrv_meta.", 0) == 0;
    std::vector<std::string> ts_path;
    if (!ts_in_meta) {
        // The router reads the timestamp by JSON pointer: every dot separates.
        size_t start = 0;
        for (size_t dot; (dot = ts_key.find('.', start)) != std::string::npos; start = dot + 1) {
            ts_path.push_back(ts_key.substr(start, dot - start));
        }
        ts_path.push_back(ts_key.substr(start));
    }

    for (size_t i = 0; i < ds.transformations_config.size(); ++i) {
        const dataset::transformation& t = ds.transformations_config[i];
        const auto where = [&] {
            return fmt::format("transformations_config[{}] (field_key '{}')", i, t.field_key);
        };
        if (t.function_type == "jsonata") {
            return make_error(
                "{}: transformation_function.type 'jsonata' is not supported (JSONata "
                "expressions are not implemented)",
                where());
        }
        if (t.function_type != "mask" && t.function_type != "encrypt") {
            return make_error(
                "{}: transformation_function.type '{}' is not supported (mask and encrypt are)",
                where(), t.function_type);
        }
        if (t.condition_type == "jsonata") {
            return make_error(
                "{}: transformation_function.condition of type 'jsonata' is not supported "
                "(JSONata expressions are not implemented)",
                where());
        }
        if (!t.condition_type.empty() || !t.condition_expr.empty()) {
            return make_error(
                "{}: transformation_function.condition of type '{}' is not supported (Obsrv "
                "implements only jsonata conditions)",
                where(), t.condition_type);
        }
        transformation_step step;
        step.function =
            t.function_type == "mask" ? transform_function::mask : transform_function::encrypt;
        step.mode = t.mode;
        if (t.expr.empty()) {
            return make_error("{}: transformation_function.expr: required for {}", where(),
                              t.function_type);
        }
        step.source_path = split_dotted(t.expr);
        step.field_path = split_dotted(t.field_key);
        if (step.field_path.empty()) {
            return make_error("{}: field_key names no field", where());
        }
        if (step.function == transform_function::encrypt) {
            const std::string& key = settings.encryption_secret_key;
            if (!field_cipher::valid_key(key)) {
                return make_error(
                    "{}: encrypt needs datasets.encryption_secret_key (system_settings "
                    "encryptionSecretKey) of 16, 24 or 32 bytes; it {}",
                    where(),
                    key.empty() ? std::string("is empty")
                                : fmt::format("has {} bytes", key.size()));
            }
            plan.encryption_key = key;
        }
        const std::string& top = step.field_path.front();
        if (top == "obsrv_meta" || top == "indexTS" ||
            (!ts_in_meta && overlaps(step.field_path, ts_path))) {
            plan.rewrites_router_input = true;
        }
        if (step.function == transform_function::encrypt) {
            plan.steps.push_back(std::move(step));
        } else {
            masks.push_back(std::move(step));
        }
    }
    for (auto& step : masks) {
        plan.steps.push_back(std::move(step));
    }
    return plan;
}

}  // namespace obsrv::pipeline
