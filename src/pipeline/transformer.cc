#include "pipeline/transformer.h"

#include "common/json_text.h"
#include "common/log.h"
#include "pipeline/mask.h"

namespace obsrv::pipeline {

void transformer::process(std::vector<event_record>& events, stage_context& ctx) {
    _documents_used = 0;
    for (event_record& r : events) {
        if (r.result == stage_result::pass) {
            transform(r, ctx);
        }
    }
}

bool transformer::encrypt(const std::string& key, std::string_view plain, std::string& out) {
    if (!_cipher || _cipher->key() != key) {
        auto created = field_cipher::create(key);
        if (!created) {
            // The catalog checked the key's length: only OpenSSL itself can fail here.
            static const auto logger = log::get("pipeline");
            logger->error("transformer: {}", created.error().message);
            _cipher.reset();
            return false;
        }
        _cipher.emplace(std::move(created).value());
    }
    return _cipher->encrypt(plain, out);
}

void transformer::transform(event_record& r, stage_context& ctx) {
    const transformation_plan& plan = r.dataset->transformations;
    if (plan.empty()) {
        r.meta.mark(producer::transformer, stage_status::skipped, ctx.now_ms);
        ctx.count(r, producer::transformer, count_status::skipped);
        return;
    }
    if (!_reader.begin(r.json)) {
        // The extractor passes only objects; should a stage ever hand over something else, the
        // event is kept on the failed side rather than passed untransformed.
        ctx.mark_failed(r, producer::transformer, errors::transform_unknown_error,
                        ctx.options.transform_failed_topic);
        return;
    }
    _patch.clear();
    int64_t missing = 0;
    int64_t unevaluated = 0;
    bool strict_failed = false;
    bool lenient_failed = false;
    for (const transformation_step& step : plan.steps) {
        bool ok = _reader.read(step.source_path, _input);
        if (ok) {
            _text.clear();
            if (step.function == transform_function::mask) {
                obsrv_mask(_input, _text);
            } else if (!encrypt(plan.encryption_key, _input, _text)) {
                ok = false;
                ++unevaluated;
            }
        } else {
            ++missing;
        }
        if (ok) {
            _patch.set_string(step.field_path, _text);
        } else {
            _patch.remove(step.field_path);
            (step.mode == dataset::transform_mode::strict ? strict_failed : lenient_failed) = true;
        }
    }

    // The merged event replaces the record's text (which may be `rewritten` itself).
    _output.clear();
    _output.reserve(r.json.size() + 256 + simdjson::SIMDJSON_PADDING);
    _patch.apply(_reader.members(), _output);
    r.rewritten.swap(_output);
    r.json = r.rewritten;

    const auto& ds = *r.dataset->config;
    if (strict_failed) {
        ctx.mark_failed(r, producer::transformer, errors::transformation_failed,
                        ctx.options.transform_failed_topic);
    } else if (lenient_failed) {
        r.meta.mark(producer::transformer, stage_status::partial, ctx.now_ms);
        ctx.count(r, producer::transformer, count_status::partial);
    } else {
        r.meta.mark(producer::transformer, stage_status::success, ctx.now_ms);
        ctx.count(r, producer::transformer, count_status::success);
    }
    if (r.result == stage_result::pass && plan.rewrites_router_input) {
        reparse(r);
    }

    // logSystemEvents: one event per error code among the failed fields.
    const std::pair<const obsrv_error*, int64_t> by_code[] = {
        {&errors::transformation_field_missing, missing},
        {&errors::transform_unknown_error, unevaluated}};
    for (const auto& [error, n] : by_code) {
        if (n == 0) {
            continue;
        }
        const system_event_error e{producer::transformer,
                                   stage_status::failed,
                                   error == &errors::transformation_field_missing
                                       ? "TransformFieldMissing"
                                       : "TransformFailedError",
                                   error->code,
                                   error->message,
                                   "critical",
                                   n};
        ctx.emit_system_event(make_system_event({jobs::transformer,
                                                 producer::transformer,
                                                 ds.dataset_id,
                                                 dataset::to_string(ds.type),
                                                 {}},
                                                &e, nullptr, ctx.now_ms));
    }
}

// The router reads the timestamp and looks for obsrv_meta / indexTS in the parsed event: when
// the rewrite may have changed those, the record's element must be the rewritten event's.
void transformer::reparse(event_record& r) {
    if (_documents_used == _documents.size()) {
        _documents.push_back(std::make_unique<simdjson::dom::document>());
    }
    simdjson::dom::document& doc = *_documents[_documents_used++];
    const std::string& text = r.rewritten;
    const bool padded = text.capacity() - text.size() >= simdjson::SIMDJSON_PADDING;
    auto parsed = _parser.parse_into_document(doc, reinterpret_cast<const uint8_t*>(text.data()),
                                              text.size(), !padded);
    if (parsed.error() == simdjson::NUMBER_ERROR) {
        // Numbers simdjson refuses but Obsrv accepts: parse a copy where they read as 1.
        _patched.reserve(text.size() + simdjson::SIMDJSON_PADDING);
        _patched.assign(text);
        json_text::patch_big_numbers(_patched.data(), _patched.data() + _patched.size());
        parsed = _parser.parse_into_document(doc, reinterpret_cast<const uint8_t*>(_patched.data()),
                                             _patched.size(), false);
    }
    if (parsed.error() == simdjson::SUCCESS) {
        r.event = parsed.value_unsafe();
    }
}

}  // namespace obsrv::pipeline
