#pragma once

// Metrics registry rendering the Prometheus text exposition format 0.0.4.
//
// There is no global registry: the daemon creates one `registry`, passes it to the components
// that own metrics, and the admin HTTP server calls render() on scrape.
//
// Hot path: components register once (at construction) and keep the returned counter& / gauge& /
// histogram&. Updating those is a relaxed atomic operation with no lookup and no lock, so they
// can be used from any thread, including the data-plane threads.
//
// Naming: project metrics follow `obsrv_<module>_<what>_<unit>`; counters must end in `_total`,
// and no other type may end in `_total`, `_count`, `_sum` or `_bucket` (reserved for counters and
// histogram series, and flagged by `promtool check metrics`). Breaking a naming rule, reusing a
// name with a different type/help/buckets, or registering a duplicate callback is a programming
// error and trips OBSRV_RELEASE_ASSERT at registration.

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace obsrv::metrics {

// Label names and values of one series. The registry sorts them by name, so {a,b} and {b,a}
// name the same series. Fixed at registration for counters, gauges, histograms and callbacks.
using label_set = std::vector<std::pair<std::string, std::string>>;

enum class metric_type { counter, gauge, histogram };

// Content-Type header value for a render() response.
inline constexpr std::string_view text_content_type = "text/plain; version=0.0.4; charset=utf-8";

// Hot-path metrics are padded to a cache line so that two counters bumped by different threads
// never share one (false sharing would turn independent relaxed increments into line ping-pong).
inline constexpr std::size_t cache_line_bytes = 64;

// Monotonic counter. Any thread may call inc() and value() at any time; both are relaxed atomics
// (a scrape needs no ordering with other memory, only an untorn value).
class alignas(cache_line_bytes) counter {
  public:
    counter() noexcept = default;
    counter(const counter&) = delete;
    counter& operator=(const counter&) = delete;

    void inc(std::uint64_t n = 1) noexcept { _value.fetch_add(n, std::memory_order_relaxed); }
    std::uint64_t value() const noexcept { return _value.load(std::memory_order_relaxed); }

  private:
    std::atomic<std::uint64_t> _value{0};
};

// Value that goes up and down. Any thread may call any member at any time. add()/sub() use C++20
// std::atomic<double>::fetch_add, a lock-free compare-exchange loop in libstdc++.
class alignas(cache_line_bytes) gauge {
  public:
    gauge() noexcept = default;
    gauge(const gauge&) = delete;
    gauge& operator=(const gauge&) = delete;

    void set(double v) noexcept { _value.store(v, std::memory_order_relaxed); }
    void add(double v) noexcept { _value.fetch_add(v, std::memory_order_relaxed); }
    void sub(double v) noexcept { _value.fetch_sub(v, std::memory_order_relaxed); }
    double value() const noexcept { return _value.load(std::memory_order_relaxed); }

  private:
    static_assert(std::atomic<double>::is_always_lock_free);
    std::atomic<double> _value{0.0};
};

// Histogram with fixed upper bounds (Prometheus `le`, inclusive). Any thread may call observe()
// and the readers at any time; everything is lock-free.
//
// Buckets are stored non-cumulatively (one fetch_add per observation); render() accumulates them
// and derives _count from the same reads, so a scrape always has count == le="+Inf" and
// monotonic buckets. The sum is a separate std::atomic<double> updated with C++20 fetch_add,
// which libstdc++ implements as a compare-exchange loop on the 64-bit representation: it is
// lock-free (asserted), costs one extra CAS under no contention, and a scrape may see a sum that
// is an observation ahead of or behind the buckets, as with every Prometheus client.
// NaN observations land in the +Inf bucket and make the sum NaN, as in client_golang.
class alignas(cache_line_bytes) histogram {
  public:
    // `upper_bounds` must be strictly increasing and free of NaN; a trailing +Inf is dropped
    // (the +Inf bucket always exists). An empty vector gives a histogram with only +Inf.
    explicit histogram(std::vector<double> upper_bounds);
    histogram(const histogram&) = delete;
    histogram& operator=(const histogram&) = delete;

    void observe(double v) noexcept {
        const std::size_t i =
            std::isnan(v) ? _upper_bounds.size()
                          : static_cast<std::size_t>(
                                std::lower_bound(_upper_bounds.begin(), _upper_bounds.end(), v) -
                                _upper_bounds.begin());
        _buckets[i].fetch_add(1, std::memory_order_relaxed);
        _sum.fetch_add(v, std::memory_order_relaxed);
    }

    // Sum of all buckets; O(buckets), meant for scrapes and tests.
    std::uint64_t count() const noexcept;
    double sum() const noexcept { return _sum.load(std::memory_order_relaxed); }

    // Finite upper bounds, without the implicit +Inf.
    const std::vector<double>& upper_bounds() const noexcept { return _upper_bounds; }
    // Non-cumulative number of observations in bucket `i`, where i == upper_bounds().size() is
    // the +Inf bucket (observations above every finite bound).
    std::uint64_t bucket_count(std::size_t i) const noexcept;

  private:
    static_assert(std::atomic<double>::is_always_lock_free);
    std::vector<double> _upper_bounds;
    std::unique_ptr<std::atomic<std::uint64_t>[]> _buckets;  // _upper_bounds.size() + 1
    std::atomic<double> _sum{0.0};
};

// One series of a dynamic family, produced at scrape time.
struct sample {
    label_set labels;
    double value = 0.0;
};

// The set of metric families of one process.
//
// Lifecycle: created by the daemon before the components, destroyed after every component and
// after the admin HTTP server has stopped (references and callbacks must not outlive it).
//
// Threads: every member function may be called from any thread at any time. Registration and
// render() serialize on an internal mutex; the returned counter/gauge/histogram references stay
// valid for the registry's lifetime and are updated without touching the registry.
//
// Callbacks (add_*_callback, add_dynamic_family) run inside render(), on the scraping thread and
// under the registry mutex. They must be cheap, must not block on anything that may wait for a
// scrape, and must not register metrics or call render() on the same registry: that would
// deadlock, so it is detected and trips OBSRV_RELEASE_ASSERT instead. Whatever a callback
// captures must stay valid until the registry is destroyed.
class registry {
  public:
    registry();
    ~registry();
    registry(const registry&) = delete;
    registry& operator=(const registry&) = delete;

    // Registering the same name and labels again returns the same object.
    counter& add_counter(std::string_view name, std::string_view help, label_set labels = {});
    gauge& add_gauge(std::string_view name, std::string_view help, label_set labels = {});
    // All series of one histogram family share the same bounds (see histogram's constructor).
    histogram& add_histogram(std::string_view name, std::string_view help,
                             std::vector<double> upper_bounds, label_set labels = {});

    // A series whose value is read at scrape time (librdkafka queue depth, /proc, ...). A name
    // may mix callback series and object series, but each label set is registered once.
    void add_gauge_callback(std::string_view name, std::string_view help, label_set labels,
                            std::function<double()> read);
    void add_counter_callback(std::string_view name, std::string_view help, label_set labels,
                              std::function<double()> read);

    // A whole family whose series change over time (e.g. consumer lag per topic/partition).
    // `type` is counter or gauge. `collect` must return distinct label sets with valid names;
    // the samples are sorted by the registry. An empty result still renders HELP and TYPE.
    void add_dynamic_family(std::string_view name, std::string_view help, metric_type type,
                            std::function<std::vector<sample>()> collect);

    // Text exposition format 0.0.4: families sorted by name, series sorted by label values.
    std::string render() const;

  private:
    struct family;

    family& family_locked(std::string_view name, std::string_view help, metric_type type,
                          const std::vector<double>* upper_bounds, bool dynamic);
    void assert_not_in_callback(std::string_view what) const;

    mutable std::mutex _mutex;
    std::map<std::string, std::unique_ptr<family>, std::less<>> _families;
};

// `count` bounds start, start*factor, start*factor^2, ... (start > 0, factor > 1, count >= 1).
// Bounds are rounded to 15 significant digits so that `le` reads 0.001 rather than
// 0.0010000000000000002.
std::vector<double> exponential_buckets(double start, double factor, std::size_t count);
// `count` bounds start, start+width, ... (width > 0, count >= 1), rounded like above.
std::vector<double> linear_buckets(double start, double width, std::size_t count);

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool is_valid_metric_name(std::string_view name) noexcept;
// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved by Prometheus) and not "le"
// (reserved for histogram buckets; promtool rejects it on other types too).
bool is_valid_label_name(std::string_view name) noexcept;

}  // namespace obsrv::metrics
