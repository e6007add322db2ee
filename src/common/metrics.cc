#include "common/metrics.h"

#include <charconv>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <variant>

#include <fmt/format.h>

#include "common/assert.h"
#include "common/utf8.h"

namespace obsrv::metrics {

namespace {

// One series of a non-dynamic family: an object updated by the hot path, or a scrape-time read.
using child = std::variant<std::unique_ptr<counter>, std::unique_ptr<gauge>,
                           std::unique_ptr<histogram>, std::function<double()>>;

// Renders in progress on this thread, innermost first. A callback that registers a metric or
// renders the registry that is calling it would block on the registry mutex forever; walking
// this list turns that deadlock into an assertion that names the culprit.
struct render_frame {
    const registry* reg;
    const render_frame* prev;
};
thread_local const render_frame* t_render_frames = nullptr;

class render_scope {
  public:
    explicit render_scope(const registry* reg) : _frame{reg, t_render_frames} {
        t_render_frames = &_frame;
    }
    ~render_scope() { t_render_frames = _frame.prev; }
    render_scope(const render_scope&) = delete;
    render_scope& operator=(const render_scope&) = delete;

  private:
    render_frame _frame;
};

std::string_view type_name(metric_type type) {
    switch (type) {
        case metric_type::counter:
            return "counter";
        case metric_type::gauge:
            return "gauge";
        case metric_type::histogram:
            return "histogram";
    }
    return "untyped";
}

bool is_name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_name_char(char c) {
    return is_name_start(c) || (c >= '0' && c <= '9');
}

// `name{a="b",...}` for assertion messages (values unescaped: this is for humans).
std::string describe(std::string_view name, const label_set& labels) {
    std::string out(name);
    if (!labels.empty()) {
        out += '{';
        for (std::size_t i = 0; i < labels.size(); ++i) {
            fmt::format_to(std::back_inserter(out), "{}{}=\"{}\"", i == 0 ? "" : ",",
                           labels[i].first, labels[i].second);
        }
        out += '}';
    }
    return out;
}

void check_family_name(std::string_view name, std::string_view help, metric_type type) {
    OBSRV_RELEASE_ASSERT(is_valid_metric_name(name),
                         "invalid metric name '{}': must match [a-zA-Z_:][a-zA-Z0-9_:]*", name);
    OBSRV_RELEASE_ASSERT(!help.empty(), "metric '{}' has no help text", name);
    if (type == metric_type::counter) {
        OBSRV_RELEASE_ASSERT(name.ends_with("_total"), "counter '{}' must end in _total", name);
        return;
    }
    // These suffixes belong to counters and to the series a histogram expands into; forbidding
    // them elsewhere also makes it impossible for two families to render the same series name.
    for (std::string_view suffix : {"_total", "_count", "_sum", "_bucket"}) {
        OBSRV_RELEASE_ASSERT(!name.ends_with(suffix), "{} '{}' must not end in {}", type_name(type),
                             name, suffix);
    }
}

// Sorts by label name (one canonical order per series) and validates the names.
void canonicalize(label_set& labels, std::string_view metric) {
    std::sort(labels.begin(), labels.end());
    for (std::size_t i = 0; i < labels.size(); ++i) {
        OBSRV_RELEASE_ASSERT(is_valid_label_name(labels[i].first),
                             "metric '{}': invalid label name '{}' (must match "
                             "[a-zA-Z_][a-zA-Z0-9_]*, not start with __, and not be le)",
                             metric, labels[i].first);
        OBSRV_RELEASE_ASSERT(i == 0 || labels[i - 1].first != labels[i].first,
                             "metric '{}': label '{}' given twice", metric, labels[i].first);
    }
}

bool same_label_names(const label_set& a, const label_set& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](const auto& x, const auto& y) { return x.first == y.first; });
}

std::vector<double> normalize_bounds(std::vector<double> bounds) {
    if (!bounds.empty() && bounds.back() == std::numeric_limits<double>::infinity()) {
        bounds.pop_back();
    }
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        OBSRV_RELEASE_ASSERT(!std::isnan(bounds[i]), "histogram bound {} is NaN", i);
        OBSRV_RELEASE_ASSERT(i == 0 || bounds[i - 1] < bounds[i],
                             "histogram bounds must be strictly increasing ({} then {})",
                             i == 0 ? 0.0 : bounds[i - 1], bounds[i]);
    }
    return bounds;
}

double round_to_15_digits(double v) {
    // 15 significant digits is what a double always round-trips through, so this undoes the
    // accumulated error of start + i * width without changing any value a human would type.
    const std::string s = fmt::format("{:.15g}", v);
    return std::strtod(s.c_str(), nullptr);
}

// Sample values: integers without exponent (RSS, byte counts and offsets stay readable and
// greppable), everything else as the shortest string that parses back to the same double.
void append_value(std::string& out, double v) {
    if (std::isnan(v)) {
        out += "NaN";
    } else if (std::isinf(v)) {
        out += v > 0 ? "+Inf" : "-Inf";
    } else if (v == 0) {
        out += '0';  // also for -0.0
    } else if (std::trunc(v) == v && std::fabs(v) < 0x1p64) {
        fmt::format_to(std::back_inserter(out), "{:.0f}", v);
    } else {
        fmt::format_to(std::back_inserter(out), "{}", v);
    }
}

void append_value(std::string& out, std::uint64_t v) {
    fmt::format_to(std::back_inserter(out), "{}", v);
}

// Bucket bounds exactly as client_golang writes them (strconv.FormatFloat(v, 'g', -1, 64)):
// shortest round-trip digits, exponent form when the decimal exponent is < -4 or >= 6 (so
// 0.005, 1, 2.5, 100000, 1e+06). Prometheus 2.x treats `le` as an opaque string, so matching the
// reference client keeps our series joinable with those of Go exporters.
void append_le(std::string& out, double v) {
    if (std::isnan(v)) {
        out += "NaN";
        return;
    }
    if (std::isinf(v)) {
        out += v > 0 ? "+Inf" : "-Inf";
        return;
    }
    if (v == 0) {
        out += '0';
        return;
    }
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
    std::string_view s(buf, static_cast<std::size_t>(res.ptr - buf));  // "-1.25e+06"
    if (s.front() == '-') {
        out += '-';
        s.remove_prefix(1);
    }
    const std::size_t e = s.find('e');
    std::string digits;
    for (char c : s.substr(0, e)) {
        if (c != '.') {
            digits += c;
        }
    }
    std::string_view exp_text = s.substr(e + 1);
    const bool exp_negative = exp_text.front() == '-';
    exp_text.remove_prefix(1);  // to_chars always writes the exponent sign
    int exp = 0;
    std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), exp);
    if (exp_negative) {
        exp = -exp;
    }

    if (exp < -4 || exp >= 6) {
        out += digits[0];
        if (digits.size() > 1) {
            out += '.';
            out.append(digits, 1);
        }
        fmt::format_to(std::back_inserter(out), "e{}{:02}", exp < 0 ? '-' : '+', std::abs(exp));
    } else if (exp >= 0) {
        const auto int_len = static_cast<std::size_t>(exp) + 1;
        if (digits.size() <= int_len) {
            out += digits;
            out.append(int_len - digits.size(), '0');
        } else {
            out.append(digits, 0, int_len);
            out += '.';
            out.append(digits, int_len);
        }
    } else {
        out += "0.";
        out.append(static_cast<std::size_t>(-exp - 1), '0');
        out += digits;
    }
}

// 0.0.4 escaping: backslash and newline always, double quote inside label values. Invalid UTF-8
// (label values come from data, e.g. topic names) becomes U+FFFD: Prometheus rejects the whole
// scrape on one bad byte.
void append_escaped(std::string& out, std::string_view raw, bool quote) {
    for (const char c : replace_invalid_utf8(raw)) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '"' && quote) {
            out += "\\\"";
        } else {
            out += c;
        }
    }
}

// name{labels,le="..."} — `le` (histogram buckets only) goes last, as client_golang does.
void append_series_start(std::string& out, std::string_view name, std::string_view suffix,
                         const label_set& labels, const double* le) {
    out += name;
    out += suffix;
    if (labels.empty() && le == nullptr) {
        out += ' ';
        return;
    }
    out += '{';
    bool first = true;
    for (const auto& [label, value] : labels) {
        if (!first) {
            out += ',';
        }
        first = false;
        out += label;
        out += "=\"";
        append_escaped(out, value, true);
        out += '"';
    }
    if (le != nullptr) {
        out += first ? "le=\"" : ",le=\"";
        append_le(out, *le);
        out += '"';
    }
    out += "} ";
}

void append_histogram(std::string& out, std::string_view name, const label_set& labels,
                      const histogram& h) {
    const std::vector<double>& bounds = h.upper_bounds();
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= bounds.size(); ++i) {
        cumulative += h.bucket_count(i);
        const double le = i < bounds.size() ? bounds[i] : std::numeric_limits<double>::infinity();
        append_series_start(out, name, "_bucket", labels, &le);
        append_value(out, cumulative);
        out += '\n';
    }
    append_series_start(out, name, "_sum", labels, nullptr);
    append_value(out, h.sum());
    out += '\n';
    // From the same bucket reads, so _count always equals the +Inf bucket.
    append_series_start(out, name, "_count", labels, nullptr);
    append_value(out, cumulative);
    out += '\n';
}

}  // namespace

struct registry::family {
    std::string name;
    std::string help;
    metric_type type = metric_type::gauge;
    std::vector<double> upper_bounds;              // histograms only, normalized
    std::function<std::vector<sample>()> collect;  // dynamic families only
    std::map<label_set, child> children;           // keys canonical (sorted by label name)
};

// ---- histogram ----

histogram::histogram(std::vector<double> upper_bounds)
    : _upper_bounds(normalize_bounds(std::move(upper_bounds))),
      _buckets(std::make_unique<std::atomic<std::uint64_t>[]>(_upper_bounds.size() + 1)) {}

std::uint64_t histogram::count() const noexcept {
    std::uint64_t total = 0;
    for (std::size_t i = 0; i <= _upper_bounds.size(); ++i) {
        total += _buckets[i].load(std::memory_order_relaxed);
    }
    return total;
}

std::uint64_t histogram::bucket_count(std::size_t i) const noexcept {
    OBSRV_ASSERT(i <= _upper_bounds.size(), "bucket {} out of range", i);
    return _buckets[i].load(std::memory_order_relaxed);
}

// ---- registry ----

registry::registry() = default;
registry::~registry() = default;

void registry::assert_not_in_callback(std::string_view what) const {
    for (const render_frame* f = t_render_frames; f != nullptr; f = f->prev) {
        OBSRV_RELEASE_ASSERT(f->reg != this,
                             "{} called from a metrics callback of the same registry during "
                             "render(); callbacks must not register metrics or render",
                             what);
    }
}

registry::family& registry::family_locked(std::string_view name, std::string_view help,
                                          metric_type type, const std::vector<double>* upper_bounds,
                                          bool dynamic) {
    check_family_name(name, help, type);
    auto it = _families.find(name);
    if (it == _families.end()) {
        auto f = std::make_unique<family>();
        f->name = name;
        f->help = help;
        f->type = type;
        if (upper_bounds != nullptr) {
            f->upper_bounds = *upper_bounds;
        }
        it = _families.emplace(f->name, std::move(f)).first;
        return *it->second;
    }
    family& f = *it->second;
    OBSRV_RELEASE_ASSERT(!dynamic, "dynamic family '{}' conflicts with an existing family", name);
    OBSRV_RELEASE_ASSERT(!f.collect, "metric '{}' is already a dynamic family", name);
    OBSRV_RELEASE_ASSERT(f.type == type, "metric '{}' registered as {} and as {}", name,
                         type_name(f.type), type_name(type));
    OBSRV_RELEASE_ASSERT(f.help == help, "metric '{}' registered with help '{}' and '{}'", name,
                         f.help, help);
    OBSRV_RELEASE_ASSERT(upper_bounds == nullptr || f.upper_bounds == *upper_bounds,
                         "histogram '{}' registered with different buckets", name);
    return f;
}

namespace {

void check_label_names_match(const auto& f, const label_set& labels) {
    OBSRV_RELEASE_ASSERT(f.children.empty() || same_label_names(f.children.begin()->first, labels),
                         "metric '{}': series {} has different label names than {}", f.name,
                         describe(f.name, labels), describe(f.name, f.children.begin()->first));
}

template <typename T, typename... Args>
T& object_child(auto& f, label_set labels, Args&&... args) {
    if (auto it = f.children.find(labels); it != f.children.end()) {
        auto* existing = std::get_if<std::unique_ptr<T>>(&it->second);
        OBSRV_RELEASE_ASSERT(existing != nullptr, "{} is already registered as a callback",
                             describe(f.name, labels));
        return **existing;
    }
    check_label_names_match(f, labels);
    auto obj = std::make_unique<T>(std::forward<Args>(args)...);
    T& ref = *obj;
    f.children.emplace(std::move(labels), std::move(obj));
    return ref;
}

void callback_child(auto& f, label_set labels, std::function<double()> read) {
    OBSRV_RELEASE_ASSERT(read != nullptr, "{}: empty callback", describe(f.name, labels));
    OBSRV_RELEASE_ASSERT(!f.children.contains(labels), "{} is already registered",
                         describe(f.name, labels));
    check_label_names_match(f, labels);
    f.children.emplace(std::move(labels), std::move(read));
}

}  // namespace

counter& registry::add_counter(std::string_view name, std::string_view help, label_set labels) {
    assert_not_in_callback("add_counter");
    canonicalize(labels, name);
    std::lock_guard lock(_mutex);
    return object_child<counter>(family_locked(name, help, metric_type::counter, nullptr, false),
                                 std::move(labels));
}

gauge& registry::add_gauge(std::string_view name, std::string_view help, label_set labels) {
    assert_not_in_callback("add_gauge");
    canonicalize(labels, name);
    std::lock_guard lock(_mutex);
    return object_child<gauge>(family_locked(name, help, metric_type::gauge, nullptr, false),
                               std::move(labels));
}

histogram& registry::add_histogram(std::string_view name, std::string_view help,
                                   std::vector<double> upper_bounds, label_set labels) {
    assert_not_in_callback("add_histogram");
    canonicalize(labels, name);
    upper_bounds = normalize_bounds(std::move(upper_bounds));
    std::lock_guard lock(_mutex);
    family& f = family_locked(name, help, metric_type::histogram, &upper_bounds, false);
    return object_child<histogram>(f, std::move(labels), f.upper_bounds);
}

void registry::add_gauge_callback(std::string_view name, std::string_view help, label_set labels,
                                  std::function<double()> read) {
    assert_not_in_callback("add_gauge_callback");
    canonicalize(labels, name);
    std::lock_guard lock(_mutex);
    callback_child(family_locked(name, help, metric_type::gauge, nullptr, false), std::move(labels),
                   std::move(read));
}

void registry::add_counter_callback(std::string_view name, std::string_view help, label_set labels,
                                    std::function<double()> read) {
    assert_not_in_callback("add_counter_callback");
    canonicalize(labels, name);
    std::lock_guard lock(_mutex);
    callback_child(family_locked(name, help, metric_type::counter, nullptr, false),
                   std::move(labels), std::move(read));
}

void registry::add_dynamic_family(std::string_view name, std::string_view help, metric_type type,
                                  std::function<std::vector<sample>()> collect) {
    assert_not_in_callback("add_dynamic_family");
    OBSRV_RELEASE_ASSERT(type != metric_type::histogram,
                         "dynamic family '{}': only counters and gauges are supported", name);
    OBSRV_RELEASE_ASSERT(collect != nullptr, "dynamic family '{}': empty callback", name);
    std::lock_guard lock(_mutex);
    family_locked(name, help, type, nullptr, true).collect = std::move(collect);
}

std::string registry::render() const {
    assert_not_in_callback("render");
    std::lock_guard lock(_mutex);
    const render_scope scope(this);
    std::string out;
    out.reserve(4096);
    for (const auto& [name, f] : _families) {
        out += "# HELP ";
        out += name;
        out += ' ';
        append_escaped(out, f->help, false);
        out += "\n# TYPE ";
        out += name;
        out += ' ';
        out += type_name(f->type);
        out += '\n';

        if (f->collect) {
            std::vector<sample> samples = f->collect();
            for (sample& s : samples) {
                canonicalize(s.labels, name);
            }
            std::sort(samples.begin(), samples.end(),
                      [](const sample& a, const sample& b) { return a.labels < b.labels; });
            for (std::size_t i = 0; i < samples.size(); ++i) {
                OBSRV_RELEASE_ASSERT(i == 0 || samples[i - 1].labels != samples[i].labels,
                                     "dynamic family returned {} twice",
                                     describe(name, samples[i].labels));
                append_series_start(out, name, "", samples[i].labels, nullptr);
                append_value(out, samples[i].value);
                out += '\n';
            }
            continue;
        }

        for (const auto& [labels, c] : f->children) {
            if (const auto* p = std::get_if<std::unique_ptr<histogram>>(&c)) {
                append_histogram(out, name, labels, **p);
                continue;
            }
            append_series_start(out, name, "", labels, nullptr);
            if (const auto* pc = std::get_if<std::unique_ptr<counter>>(&c)) {
                append_value(out, (*pc)->value());
            } else if (const auto* pg = std::get_if<std::unique_ptr<gauge>>(&c)) {
                append_value(out, (*pg)->value());
            } else {
                append_value(out, std::get<std::function<double()>>(c)());
            }
            out += '\n';
        }
    }
    return out;
}

// ---- helpers ----

std::vector<double> exponential_buckets(double start, double factor, std::size_t count) {
    OBSRV_RELEASE_ASSERT(std::isfinite(start) && start > 0,
                         "exponential_buckets: start {} must be > 0", start);
    OBSRV_RELEASE_ASSERT(std::isfinite(factor) && factor > 1,
                         "exponential_buckets: factor {} must be > 1", factor);
    OBSRV_RELEASE_ASSERT(count >= 1, "exponential_buckets: count must be >= 1");
    std::vector<double> out;
    out.reserve(count);
    double v = start;
    for (std::size_t i = 0; i < count; ++i, v *= factor) {
        out.push_back(round_to_15_digits(v));
    }
    return out;
}

std::vector<double> linear_buckets(double start, double width, std::size_t count) {
    OBSRV_RELEASE_ASSERT(std::isfinite(start), "linear_buckets: start {} must be finite", start);
    OBSRV_RELEASE_ASSERT(std::isfinite(width) && width > 0, "linear_buckets: width {} must be > 0",
                         width);
    OBSRV_RELEASE_ASSERT(count >= 1, "linear_buckets: count must be >= 1");
    std::vector<double> out;
    out.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        out.push_back(round_to_15_digits(start + static_cast<double>(i) * width));
    }
    return out;
}

bool is_valid_metric_name(std::string_view name) noexcept {
    if (name.empty() || !(is_name_start(name[0]) || name[0] == ':')) {
        return false;
    }
    return std::all_of(name.begin(), name.end(),
                       [](char c) { return is_name_char(c) || c == ':'; });
}

bool is_valid_label_name(std::string_view name) noexcept {
    if (name.empty() || !is_name_start(name[0]) || name.starts_with("__") || name == "le") {
        return false;
    }
    return std::all_of(name.begin(), name.end(), is_name_char);
}

}  // namespace obsrv::metrics
