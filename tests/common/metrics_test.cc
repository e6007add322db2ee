#include "common/metrics.h"

#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/process_metrics.h"

namespace obsrv::metrics {
namespace {

using ::testing::HasSubstr;

// Value of the first series line that starts with `series` followed by a space (e.g.
// `obsrv_x{a="b"}` or `process_open_fds`), or nullopt when there is none.
std::optional<double> series_value(const std::string& text, const std::string& series) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
            line[series.size()] == ' ') {
            return std::strtod(line.c_str() + series.size() + 1, nullptr);
        }
    }
    return std::nullopt;
}

// Value text of an unlabelled gauge set to `v`, as render() prints it.
std::string render_gauge_value(double v) {
    registry reg;
    reg.add_gauge("obsrv_test_value", "Value.").set(v);
    const std::string text = reg.render();
    const std::string prefix = "obsrv_test_value ";
    const std::size_t pos = text.find("\n" + prefix);
    if (pos == std::string::npos) {
        return "<missing>";
    }
    const std::size_t start = pos + 1 + prefix.size();
    return text.substr(start, text.find('\n', start) - start);
}

TEST(metrics, counter_renders_exact_text) {
    registry reg;
    counter& c = reg.add_counter("obsrv_test_events_total", "Events seen.");
    c.inc(3);
    c.inc();
    EXPECT_EQ(c.value(), 4u);
    EXPECT_EQ(reg.render(),
              "# HELP obsrv_test_events_total Events seen.\n"
              "# TYPE obsrv_test_events_total counter\n"
              "obsrv_test_events_total 4\n");
}

TEST(metrics, counter_prints_large_integers_exactly) {
    registry reg;
    reg.add_counter("obsrv_test_bytes_total", "Bytes.").inc(18446744073709551615ull);
    EXPECT_THAT(reg.render(), HasSubstr("\nobsrv_test_bytes_total 18446744073709551615\n"));
}

TEST(metrics, gauge_with_labels_renders_exact_text) {
    registry reg;
    // Label order at registration does not matter: series render with labels sorted by name.
    gauge& orders = reg.add_gauge("obsrv_kafka_queue_depth_messages", "Messages queued.",
                                  {{"topic", "orders"}, {"partition", "3"}});
    gauge& clicks = reg.add_gauge("obsrv_kafka_queue_depth_messages", "Messages queued.",
                                  {{"topic", "clicks"}, {"partition", "0"}});
    orders.set(10);
    orders.add(2.5);
    orders.sub(1);
    clicks.set(-4);
    EXPECT_DOUBLE_EQ(orders.value(), 11.5);
    EXPECT_EQ(reg.render(),
              "# HELP obsrv_kafka_queue_depth_messages Messages queued.\n"
              "# TYPE obsrv_kafka_queue_depth_messages gauge\n"
              "obsrv_kafka_queue_depth_messages{partition=\"0\",topic=\"clicks\"} -4\n"
              "obsrv_kafka_queue_depth_messages{partition=\"3\",topic=\"orders\"} 11.5\n");
}

TEST(metrics, histogram_renders_cumulative_buckets_sum_and_count) {
    registry reg;
    histogram& h =
        reg.add_histogram("obsrv_test_latency_seconds", "Latency.", {0.25, 1, 2.5}, {{"op", "x"}});
    // Bounds are inclusive (le): 0.25 lands in the first bucket.
    for (double v : {0.125, 0.25, 0.5, 2.5, 3.0, 100.0}) {
        h.observe(v);
    }
    EXPECT_EQ(h.count(), 6u);
    EXPECT_DOUBLE_EQ(h.sum(), 106.375);
    ASSERT_EQ(h.upper_bounds(), (std::vector<double>{0.25, 1, 2.5}));
    EXPECT_EQ(h.bucket_count(0), 2u);
    EXPECT_EQ(h.bucket_count(1), 1u);
    EXPECT_EQ(h.bucket_count(2), 1u);
    EXPECT_EQ(h.bucket_count(3), 2u);  // +Inf
    EXPECT_EQ(reg.render(),
              "# HELP obsrv_test_latency_seconds Latency.\n"
              "# TYPE obsrv_test_latency_seconds histogram\n"
              "obsrv_test_latency_seconds_bucket{op=\"x\",le=\"0.25\"} 2\n"
              "obsrv_test_latency_seconds_bucket{op=\"x\",le=\"1\"} 3\n"
              "obsrv_test_latency_seconds_bucket{op=\"x\",le=\"2.5\"} 4\n"
              "obsrv_test_latency_seconds_bucket{op=\"x\",le=\"+Inf\"} 6\n"
              "obsrv_test_latency_seconds_sum{op=\"x\"} 106.375\n"
              "obsrv_test_latency_seconds_count{op=\"x\"} 6\n");
}

TEST(metrics, histogram_without_labels_and_trailing_inf_bound) {
    registry reg;
    // A trailing +Inf is the implicit bucket and must not be rendered twice.
    histogram& h = reg.add_histogram("obsrv_test_size_bytes", "Size.",
                                     {1, std::numeric_limits<double>::infinity()});
    h.observe(2);
    EXPECT_EQ(reg.render(),
              "# HELP obsrv_test_size_bytes Size.\n"
              "# TYPE obsrv_test_size_bytes histogram\n"
              "obsrv_test_size_bytes_bucket{le=\"1\"} 0\n"
              "obsrv_test_size_bytes_bucket{le=\"+Inf\"} 1\n"
              "obsrv_test_size_bytes_sum 2\n"
              "obsrv_test_size_bytes_count 1\n");
}

TEST(metrics, histogram_nan_goes_to_inf_bucket) {
    histogram h({1, 2});
    h.observe(std::numeric_limits<double>::quiet_NaN());
    EXPECT_EQ(h.bucket_count(0), 0u);
    EXPECT_EQ(h.bucket_count(2), 1u);
    EXPECT_TRUE(std::isnan(h.sum()));
}

TEST(metrics, le_is_formatted_like_client_golang) {
    registry reg;
    reg.add_histogram("obsrv_test_le_seconds", "Le.",
                      {-1, 0, 0.00001, 0.0001, 0.005, 1, 2.5, 100000, 1000000, 1500000, 1e21});
    const std::string text = reg.render();
    for (const char* le : {"-1", "0", "1e-05", "0.0001", "0.005", "1", "2.5", "100000", "1e+06",
                           "1.5e+06", "1e+21", "+Inf"}) {
        EXPECT_THAT(text, HasSubstr(std::string("{le=\"") + le + "\"} 0\n")) << le;
    }
}

TEST(metrics, bucket_helpers) {
    EXPECT_EQ(exponential_buckets(0.001, 10, 4), (std::vector<double>{0.001, 0.01, 0.1, 1}));
    EXPECT_EQ(exponential_buckets(1, 2, 4), (std::vector<double>{1, 2, 4, 8}));
    // Naive accumulation gives 0.30000000000000004 for the third bound.
    EXPECT_EQ(linear_buckets(0.1, 0.1, 3), (std::vector<double>{0.1, 0.2, 0.3}));
    EXPECT_EQ(linear_buckets(0, 5, 3), (std::vector<double>{0, 5, 10}));
}

TEST(metrics, values_are_formatted_without_exponent_for_integers) {
    EXPECT_EQ(render_gauge_value(0), "0");
    EXPECT_EQ(render_gauge_value(-0.0), "0");
    EXPECT_EQ(render_gauge_value(1234567), "1234567");
    EXPECT_EQ(render_gauge_value(-42), "-42");
    EXPECT_EQ(render_gauge_value(1e19), "10000000000000000000");
    EXPECT_EQ(render_gauge_value(0.1), "0.1");
    EXPECT_EQ(render_gauge_value(-2.5), "-2.5");
    EXPECT_EQ(render_gauge_value(1e-7), "1e-07");
    EXPECT_EQ(render_gauge_value(1.5e300), "1.5e+300");
    EXPECT_EQ(render_gauge_value(std::numeric_limits<double>::quiet_NaN()), "NaN");
    EXPECT_EQ(render_gauge_value(std::numeric_limits<double>::infinity()), "+Inf");
    EXPECT_EQ(render_gauge_value(-std::numeric_limits<double>::infinity()), "-Inf");
    // Non-integers must round-trip exactly.
    for (double v : {0.1 + 0.2, 1.0 / 3.0, 123456.789, 5e-324, 1.7976931348623157e308}) {
        EXPECT_EQ(std::strtod(render_gauge_value(v).c_str(), nullptr), v);
    }
}

TEST(metrics, escapes_help_and_label_values) {
    registry reg;
    reg.add_gauge("obsrv_test_escaping", "Path C:\\tmp\nsecond \"line\"",
                  {{"path", "a\\b\"c\nd"}, {"name", "caf\xC3\xA9"}, {"raw", "x\xFFy"}})
        .set(1);
    EXPECT_EQ(reg.render(),
              // HELP escapes backslash and newline but not double quotes.
              "# HELP obsrv_test_escaping Path C:\\\\tmp\\nsecond \"line\"\n"
              "# TYPE obsrv_test_escaping gauge\n"
              // Valid UTF-8 passes through; an invalid byte becomes U+FFFD.
              "obsrv_test_escaping{name=\"caf\xC3\xA9\",path=\"a\\\\b\\\"c\\nd\","
              "raw=\"x\xEF\xBF\xBDy\"} 1\n");
}

TEST(metrics, families_and_series_are_sorted) {
    registry reg;
    reg.add_gauge("obsrv_test_z", "Z.").set(1);
    reg.add_gauge("obsrv_test_a", "A.", {{"k", "b"}}).set(2);
    reg.add_gauge("obsrv_test_a", "A.", {{"k", "c"}}).set(3);
    reg.add_gauge("obsrv_test_a", "A.", {{"k", "a"}}).set(4);
    reg.add_counter("obsrv_test_m_total", "M.");
    EXPECT_EQ(reg.render(),
              "# HELP obsrv_test_a A.\n"
              "# TYPE obsrv_test_a gauge\n"
              "obsrv_test_a{k=\"a\"} 4\n"
              "obsrv_test_a{k=\"b\"} 2\n"
              "obsrv_test_a{k=\"c\"} 3\n"
              "# HELP obsrv_test_m_total M.\n"
              "# TYPE obsrv_test_m_total counter\n"
              "obsrv_test_m_total 0\n"
              "# HELP obsrv_test_z Z.\n"
              "# TYPE obsrv_test_z gauge\n"
              "obsrv_test_z 1\n");
}

TEST(metrics, registering_twice_returns_the_same_object) {
    registry reg;
    counter& a = reg.add_counter("obsrv_test_x_total", "X.", {{"a", "1"}, {"b", "2"}});
    counter& b = reg.add_counter("obsrv_test_x_total", "X.", {{"b", "2"}, {"a", "1"}});
    counter& other = reg.add_counter("obsrv_test_x_total", "X.", {{"a", "1"}, {"b", "3"}});
    EXPECT_EQ(&a, &b);
    EXPECT_NE(&a, &other);
    EXPECT_EQ(&reg.add_gauge("obsrv_test_g", "G."), &reg.add_gauge("obsrv_test_g", "G."));
    histogram& h1 = reg.add_histogram("obsrv_test_h_seconds", "H.", {1, 2});
    histogram& h2 = reg.add_histogram("obsrv_test_h_seconds", "H.", {1, 2});
    EXPECT_EQ(&h1, &h2);
    a.inc();
    b.inc();
    EXPECT_EQ(a.value(), 2u);
    EXPECT_EQ(other.value(), 0u);
}

TEST(metrics, references_stay_valid_as_the_registry_grows) {
    registry reg;
    counter& first = reg.add_counter("obsrv_test_first_total", "First.");
    std::vector<counter*> all;
    for (int i = 0; i < 1000; ++i) {
        all.push_back(
            &reg.add_counter("obsrv_test_many_total", "Many.", {{"i", std::to_string(i)}}));
    }
    first.inc(7);
    EXPECT_EQ(&first, &reg.add_counter("obsrv_test_first_total", "First."));
    EXPECT_EQ(all[500], &reg.add_counter("obsrv_test_many_total", "Many.", {{"i", "500"}}));
    EXPECT_THAT(reg.render(), HasSubstr("\nobsrv_test_first_total 7\n"));
}

TEST(metrics, hot_path_objects_own_a_cache_line) {
    static_assert(alignof(counter) == cache_line_bytes && sizeof(counter) == cache_line_bytes);
    static_assert(alignof(gauge) == cache_line_bytes && sizeof(gauge) == cache_line_bytes);
    registry reg;
    counter& a = reg.add_counter("obsrv_test_a_total", "A.");
    counter& b = reg.add_counter("obsrv_test_b_total", "B.");
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(&a) % cache_line_bytes, 0u);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(&b) % cache_line_bytes, 0u);
}

TEST(metrics, callbacks_are_evaluated_at_render_time) {
    registry reg;
    double depth = 1;
    double polls = 5;
    int calls = 0;
    reg.add_gauge_callback("obsrv_kafka_queue_messages", "Queue.", {{"queue", "main"}}, [&] {
        ++calls;
        return depth;
    });
    reg.add_counter_callback("obsrv_kafka_polls_total", "Polls.", {}, [&] { return polls; });
    EXPECT_EQ(calls, 0);  // not evaluated at registration
    EXPECT_EQ(reg.render(),
              "# HELP obsrv_kafka_polls_total Polls.\n"
              "# TYPE obsrv_kafka_polls_total counter\n"
              "obsrv_kafka_polls_total 5\n"
              "# HELP obsrv_kafka_queue_messages Queue.\n"
              "# TYPE obsrv_kafka_queue_messages gauge\n"
              "obsrv_kafka_queue_messages{queue=\"main\"} 1\n");
    depth = 42.5;
    polls = 6;
    const std::string text = reg.render();
    EXPECT_EQ(calls, 2);
    EXPECT_EQ(series_value(text, "obsrv_kafka_queue_messages{queue=\"main\"}"), 42.5);
    EXPECT_EQ(series_value(text, "obsrv_kafka_polls_total"), 6);
}

TEST(metrics, callbacks_and_objects_share_a_family) {
    registry reg;
    reg.add_gauge("obsrv_test_mixed", "Mixed.", {{"src", "b"}}).set(2);
    reg.add_gauge_callback("obsrv_test_mixed", "Mixed.", {{"src", "a"}}, [] { return 1.0; });
    EXPECT_EQ(reg.render(),
              "# HELP obsrv_test_mixed Mixed.\n"
              "# TYPE obsrv_test_mixed gauge\n"
              "obsrv_test_mixed{src=\"a\"} 1\n"
              "obsrv_test_mixed{src=\"b\"} 2\n");
}

TEST(metrics, dynamic_family_is_collected_at_render_time) {
    registry reg;
    std::vector<sample> current;
    reg.add_dynamic_family("obsrv_kafka_consumer_lag_messages", "Consumer lag.", metric_type::gauge,
                           [&] { return current; });
    // Empty families still announce themselves.
    EXPECT_EQ(reg.render(),
              "# HELP obsrv_kafka_consumer_lag_messages Consumer lag.\n"
              "# TYPE obsrv_kafka_consumer_lag_messages gauge\n");
    current = {{{{"topic", "orders"}, {"partition", "10"}}, 7},
               {{{"partition", "2"}, {"topic", "orders"}}, 3},
               {{{"partition", "0"}, {"topic", "clicks"}}, 0}};
    EXPECT_EQ(reg.render(),
              "# HELP obsrv_kafka_consumer_lag_messages Consumer lag.\n"
              "# TYPE obsrv_kafka_consumer_lag_messages gauge\n"
              "obsrv_kafka_consumer_lag_messages{partition=\"0\",topic=\"clicks\"} 0\n"
              "obsrv_kafka_consumer_lag_messages{partition=\"10\",topic=\"orders\"} 7\n"
              "obsrv_kafka_consumer_lag_messages{partition=\"2\",topic=\"orders\"} 3\n");
    current.clear();
    EXPECT_EQ(reg.render(),
              "# HELP obsrv_kafka_consumer_lag_messages Consumer lag.\n"
              "# TYPE obsrv_kafka_consumer_lag_messages gauge\n");
}

TEST(metrics, dynamic_counter_family) {
    registry reg;
    reg.add_dynamic_family("obsrv_kafka_fetched_total", "Fetched.", metric_type::counter, [] {
        return std::vector<sample>{{{{"topic", "t"}}, 12}};
    });
    EXPECT_EQ(reg.render(),
              "# HELP obsrv_kafka_fetched_total Fetched.\n"
              "# TYPE obsrv_kafka_fetched_total counter\n"
              "obsrv_kafka_fetched_total{topic=\"t\"} 12\n");
}

TEST(metrics, validators) {
    EXPECT_TRUE(is_valid_metric_name("obsrv_x:y_total"));
    EXPECT_TRUE(is_valid_metric_name(":a"));
    EXPECT_TRUE(is_valid_metric_name("_a9"));
    EXPECT_FALSE(is_valid_metric_name(""));
    EXPECT_FALSE(is_valid_metric_name("9a"));
    EXPECT_FALSE(is_valid_metric_name("a-b"));
    EXPECT_FALSE(is_valid_metric_name("a b"));
    EXPECT_TRUE(is_valid_label_name("topic"));
    EXPECT_TRUE(is_valid_label_name("_x1"));
    EXPECT_FALSE(is_valid_label_name(""));
    EXPECT_FALSE(is_valid_label_name("__name__"));
    EXPECT_FALSE(is_valid_label_name("le"));
    EXPECT_FALSE(is_valid_label_name("a:b"));
    EXPECT_FALSE(is_valid_label_name("1a"));
}

// Death tests re-execute the binary ("threadsafe" style) so that they stay reliable under
// sanitizers and after other tests started threads.
class metrics_death_test : public ::testing::Test {
  protected:
    void SetUp() override { GTEST_FLAG_SET(death_test_style, "threadsafe"); }
    registry _reg;
};

TEST_F(metrics_death_test, invalid_metric_name) {
    EXPECT_DEATH(_reg.add_gauge("obsrv-test", "Bad."), "invalid metric name 'obsrv-test'");
    EXPECT_DEATH(_reg.add_gauge("9obsrv", "Bad."), "invalid metric name '9obsrv'");
    EXPECT_DEATH(_reg.add_gauge("", "Bad."), "invalid metric name ''");
}

TEST_F(metrics_death_test, invalid_label_name) {
    EXPECT_DEATH(_reg.add_gauge("obsrv_test_g", "G.", {{"__reserved", "x"}}),
                 "invalid label name '__reserved'");
    EXPECT_DEATH(_reg.add_gauge("obsrv_test_g", "G.", {{"le", "1"}}), "invalid label name 'le'");
    EXPECT_DEATH(_reg.add_histogram("obsrv_test_h", "H.", {1}, {{"le", "1"}}),
                 "invalid label name 'le'");
    EXPECT_DEATH(_reg.add_gauge("obsrv_test_g", "G.", {{"bad-name", "x"}}),
                 "invalid label name 'bad-name'");
    EXPECT_DEATH(_reg.add_gauge("obsrv_test_g", "G.", {{"a", "1"}, {"a", "2"}}),
                 "label 'a' given twice");
}

TEST_F(metrics_death_test, counter_without_total_suffix) {
    EXPECT_DEATH(_reg.add_counter("obsrv_test_events", "Events."),
                 "counter 'obsrv_test_events' must end in _total");
    EXPECT_DEATH(_reg.add_counter_callback("obsrv_test_events", "E.", {}, [] { return 1.0; }),
                 "must end in _total");
    EXPECT_DEATH(_reg.add_dynamic_family("obsrv_test_events", "E.", metric_type::counter,
                                         [] { return std::vector<sample>{}; }),
                 "must end in _total");
}

TEST_F(metrics_death_test, reserved_suffixes_on_other_types) {
    EXPECT_DEATH(_reg.add_gauge("obsrv_test_things_total", "T."), "must not end in _total");
    EXPECT_DEATH(_reg.add_gauge("obsrv_test_things_count", "T."), "must not end in _count");
    EXPECT_DEATH(_reg.add_histogram("obsrv_test_x_sum", "T.", {1}), "must not end in _sum");
}

TEST_F(metrics_death_test, type_conflict) {
    _reg.add_gauge("obsrv_test_thing_seconds", "Thing.");
    EXPECT_DEATH(_reg.add_histogram("obsrv_test_thing_seconds", "Thing.", {1}),
                 "registered as gauge and as histogram");
    EXPECT_DEATH(_reg.add_dynamic_family("obsrv_test_thing_seconds", "Thing.", metric_type::gauge,
                                         [] { return std::vector<sample>{}; }),
                 "conflicts with an existing family");
}

TEST_F(metrics_death_test, help_and_bucket_conflicts) {
    _reg.add_histogram("obsrv_test_h_seconds", "H.", {1, 2});
    EXPECT_DEATH(_reg.add_histogram("obsrv_test_h_seconds", "Other help.", {1, 2}),
                 "registered with help");
    EXPECT_DEATH(_reg.add_histogram("obsrv_test_h_seconds", "H.", {1, 3}, {{"a", "b"}}),
                 "different buckets");
    EXPECT_DEATH(_reg.add_gauge("obsrv_test_no_help", ""), "has no help text");
}

TEST_F(metrics_death_test, inconsistent_label_names_and_duplicates) {
    _reg.add_gauge("obsrv_test_g", "G.", {{"topic", "a"}});
    EXPECT_DEATH(_reg.add_gauge("obsrv_test_g", "G.", {{"queue", "a"}}),
                 "has different label names");
    EXPECT_DEATH(
        _reg.add_gauge_callback("obsrv_test_g", "G.", {{"topic", "a"}}, [] { return 0.0; }),
        "already registered");
    _reg.add_gauge_callback("obsrv_test_cb", "Cb.", {}, [] { return 0.0; });
    EXPECT_DEATH(_reg.add_gauge("obsrv_test_cb", "Cb."), "already registered as a callback");
}

TEST_F(metrics_death_test, bad_histogram_bounds) {
    EXPECT_DEATH({ histogram h({2, 1}); }, "strictly increasing");
    EXPECT_DEATH({ histogram h({1, 1}); }, "strictly increasing");
    EXPECT_DEATH({ histogram h({std::numeric_limits<double>::quiet_NaN()}); }, "is NaN");
}

TEST_F(metrics_death_test, callback_that_registers_dies_instead_of_deadlocking) {
    _reg.add_gauge_callback("obsrv_test_bad_callback", "Bad.", {}, [this] {
        _reg.add_gauge("obsrv_test_inner", "Inner.");
        return 0.0;
    });
    EXPECT_DEATH(_reg.render(), "callbacks must not register metrics or render");
}

TEST_F(metrics_death_test, dynamic_family_with_duplicate_series) {
    _reg.add_dynamic_family("obsrv_test_dup", "Dup.", metric_type::gauge, [] {
        return std::vector<sample>{{{{"a", "1"}}, 1}, {{{"a", "1"}}, 2}};
    });
    EXPECT_DEATH(_reg.render(), "returned obsrv_test_dup\\{a=\"1\"\\} twice");
}

TEST(metrics, a_callback_may_use_another_registry) {
    registry inner;
    inner.add_gauge("obsrv_test_inner", "Inner.").set(3);
    registry outer;
    outer.add_gauge_callback("obsrv_test_outer", "Outer.", {}, [&] {
        inner.add_gauge("obsrv_test_inner_2", "Inner 2.");
        return static_cast<double>(inner.render().size() > 0);
    });
    EXPECT_EQ(series_value(outer.render(), "obsrv_test_outer"), 1);
}

TEST(metrics, concurrent_updates_sum_exactly) {
    constexpr int threads = 4;
    constexpr int per_thread = 100000;
    registry reg;
    counter& c = reg.add_counter("obsrv_test_concurrent_total", "Concurrent.");
    gauge& g = reg.add_gauge("obsrv_test_concurrent", "Concurrent.");
    histogram& h = reg.add_histogram("obsrv_test_concurrent_seconds", "Concurrent.", {0.5, 1.5});
    std::atomic<bool> stop_scraping{false};
    // A concurrent scraper checks that rendering while the hot path runs is race-free (TSAN).
    std::thread scraper([&] {
        while (!stop_scraping.load()) {
            const std::string text = reg.render();
            const auto inf =
                series_value(text, "obsrv_test_concurrent_seconds_bucket{le=\"+Inf\"}");
            const auto count = series_value(text, "obsrv_test_concurrent_seconds_count");
            ASSERT_TRUE(inf && count);
            ASSERT_EQ(*inf, *count);
        }
    });
    std::vector<std::thread> workers;
    std::vector<counter*> registered(threads);
    for (int t = 0; t < threads; ++t) {
        workers.emplace_back([&, t] {
            // Registration of the same series from several threads yields one object.
            registered[static_cast<std::size_t>(t)] =
                &reg.add_counter("obsrv_test_registered_total", "Registered.");
            for (int i = 0; i < per_thread; ++i) {
                c.inc();
                g.add(1);
                h.observe(static_cast<double>(i % 2));  // 0 or 1: both sums stay exact
            }
        });
    }
    for (std::thread& w : workers) {
        w.join();
    }
    stop_scraping.store(true);
    scraper.join();
    constexpr std::uint64_t total = std::uint64_t{threads} * per_thread;
    EXPECT_EQ(c.value(), total);
    EXPECT_EQ(g.value(), static_cast<double>(total));
    EXPECT_EQ(h.count(), total);
    EXPECT_EQ(h.bucket_count(0), total / 2);
    EXPECT_EQ(h.bucket_count(1), total / 2);
    EXPECT_EQ(h.sum(), static_cast<double>(total / 2));
    for (counter* p : registered) {
        EXPECT_EQ(p, registered[0]);
    }
    const std::string text = reg.render();
    EXPECT_EQ(series_value(text, "obsrv_test_concurrent_total"), static_cast<double>(total));
    EXPECT_EQ(series_value(text, "obsrv_test_concurrent_seconds_count"),
              static_cast<double>(total));
}

// Open descriptors counted without /proc, to cross-check process_open_fds.
double count_open_fds() {
    double count = 0;
    for (int fd = 0; fd < 65536; ++fd) {
        if (::fcntl(fd, F_GETFD) != -1) {
            count += 1;
        }
    }
    return count;
}

TEST(process_metrics, present_and_plausible) {
    registry reg;
    register_process_metrics(reg);
    const std::string text = reg.render();
    for (const char* type_line :
         {"# TYPE process_cpu_seconds_total counter\n",
          "# TYPE process_resident_memory_bytes gauge\n",
          "# TYPE process_virtual_memory_bytes gauge\n", "# TYPE process_open_fds gauge\n",
          "# TYPE process_max_fds gauge\n", "# TYPE process_start_time_seconds gauge\n",
          "# TYPE process_threads gauge\n"}) {
        EXPECT_THAT(text, HasSubstr(type_line));
    }
    const double rss = series_value(text, "process_resident_memory_bytes").value_or(-1);
    const double vsz = series_value(text, "process_virtual_memory_bytes").value_or(-1);
    const double fds = series_value(text, "process_open_fds").value_or(-1);
    const double max_fds = series_value(text, "process_max_fds").value_or(-1);
    const double cpu = series_value(text, "process_cpu_seconds_total").value_or(-1);
    const double start = series_value(text, "process_start_time_seconds").value_or(-1);
    const double threads = series_value(text, "process_threads").value_or(-1);
    EXPECT_GT(rss, 0);
    EXPECT_GE(vsz, rss);
    EXPECT_GE(fds, 3);  // stdin, stdout, stderr at least
    EXPECT_EQ(fds, count_open_fds());
    EXPECT_GE(max_fds, fds);
    EXPECT_GE(cpu, 0);
    const double now = static_cast<double>(std::time(nullptr));
    EXPECT_LE(start, now + 1);
    EXPECT_GT(start, now - 24 * 3600);
    EXPECT_GE(threads, 1);
}

TEST(process_metrics, follow_the_process) {
    registry reg;
    register_process_metrics(reg);
    const std::string before = reg.render();
    const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(fd, 0);
    std::atomic<bool> stop{false};
    std::thread extra([&] {
        while (!stop.load()) {
            std::this_thread::yield();
        }
    });
    const std::string during = reg.render();
    stop.store(true);
    extra.join();
    ::close(fd);
    // Exactly one more descriptor: the one opened above (the directory listing is not counted).
    EXPECT_EQ(series_value(during, "process_open_fds").value_or(-1),
              series_value(before, "process_open_fds").value_or(-1) + 1);
    EXPECT_GE(series_value(during, "process_threads").value_or(-1),
              series_value(before, "process_threads").value_or(-1) + 1);
    // The CPU counter never goes backwards; the spinning thread burnt some.
    EXPECT_GE(series_value(during, "process_cpu_seconds_total").value_or(-1),
              series_value(before, "process_cpu_seconds_total").value_or(0));
}

std::optional<std::string> find_promtool() {
    std::vector<std::string> dirs;
    if (const char* path = std::getenv("PATH")) {
        std::istringstream in(path);
        for (std::string dir; std::getline(in, dir, ':');) {
            dirs.push_back(dir.empty() ? "." : dir);
        }
    }
    dirs.push_back("/usr/bin");
    for (const std::string& dir : dirs) {
        const std::string candidate = dir + "/promtool";
        if (::access(candidate.c_str(), X_OK) == 0) {
            return candidate;
        }
    }
    return std::nullopt;
}

TEST(metrics, full_render_passes_promtool_check_metrics) {
    const std::optional<std::string> promtool = find_promtool();
    if (!promtool) {
        FAIL() << "promtool not found in PATH or /usr/bin: install the Debian `prometheus` "
                  "package (apt-get install prometheus; the project's setup script installs it)";
    }

    registry reg;
    reg.add_counter("obsrv_test_records_total", "Records ingested.", {{"topic", "orders"}}).inc(5);
    reg.add_counter("obsrv_test_records_total", "Records ingested.", {{"topic", "cl\"icks\\\n"}})
        .inc(18446744073709551615ull);
    reg.add_gauge("obsrv_test_queue_depth_messages", "Queue depth.\nSecond line \\ backslash.")
        .set(1.5e-7);
    reg.add_gauge("obsrv_test_nan_ratio", "Not a number.").set(std::nan(""));
    reg.add_gauge("obsrv_test_inf_ratio", "Infinite.")
        .set(-std::numeric_limits<double>::infinity());
    histogram& h = reg.add_histogram("obsrv_test_latency_seconds", "Latency.",
                                     exponential_buckets(0.0005, 10, 8), {{"stage", "decode"}});
    for (double v : {0.0001, 0.003, 0.2, 7.0, 2e6}) {
        h.observe(v);
    }
    reg.add_histogram("obsrv_test_latency_seconds", "Latency.", exponential_buckets(0.0005, 10, 8),
                      {{"stage", "write"}});
    reg.add_gauge_callback("obsrv_test_callback_bytes", "Callback.", {}, [] { return 4096.0; });
    reg.add_dynamic_family("obsrv_test_lag_messages", "Lag.", metric_type::gauge, [] {
        return std::vector<sample>{{{{"topic", "a"}, {"partition", "1"}}, 3},
                                   {{{"topic", "a"}, {"partition", "0"}}, 9}};
    });
    reg.add_dynamic_family("obsrv_test_empty_messages", "Empty.", metric_type::gauge,
                           [] { return std::vector<sample>{}; });
    register_process_metrics(reg);
    const std::string text = reg.render();

    const std::filesystem::path path =
        std::filesystem::temp_directory_path() /
        ("obsrv_metrics_test_" + std::to_string(::getpid()) + ".prom");
    {
        std::ofstream out(path, std::ios::binary);
        out << text;
        ASSERT_TRUE(out.good());
    }
    const std::string command = "'" + *promtool + "' check metrics < '" + path.string() + "' 2>&1";
    FILE* pipe = ::popen(command.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string output;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof(buf), pipe)) {
        output.append(buf, n);
    }
    const int status = ::pclose(pipe);
    std::filesystem::remove(path);
    ASSERT_TRUE(WIFEXITED(status)) << command;
    EXPECT_EQ(WEXITSTATUS(status), 0) << output << "\n--- rendered ---\n" << text;
    EXPECT_EQ(output, "") << "\n--- rendered ---\n" << text;
}

}  // namespace
}  // namespace obsrv::metrics
