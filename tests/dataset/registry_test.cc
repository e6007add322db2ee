#include "dataset/registry.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_env.h"

namespace obsrv::dataset {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

std::string dataset_json(const std::string& id, const std::string& extra = {}) {
    std::string json =
        R"({"dataset_id":")" + id + R"(","type":"event","status":"Live","api_version":"v2")";
    if (!extra.empty()) {
        json += "," + extra;
    }
    return json + "}";
}

void write_file(const std::string& path, const std::string& content) {
    std::ofstream out(path, std::ios::trunc);
    out << content;
    out.close();
    ASSERT_TRUE(out) << path;
}

// As editors and config management tools do: write a temporary file, rename it over the target.
void write_atomically(const std::string& dir, const std::string& name, const std::string& content) {
    auto tmp = dir + "/." + name + ".tmp";
    write_file(tmp, content);
    ASSERT_EQ(std::rename(tmp.c_str(), (dir + "/" + name).c_str()), 0);
}

int64_t data_version_of(const registry& reg, std::string_view key) {
    auto snap = reg.current();
    const dataset* ds = snap->find(key);
    return ds ? ds->data_version : -1;
}

class registry_test : public ::testing::Test {
  protected:
    void SetUp() override { dir = testing::make_temp_dir("datasets"); }
    std::string path(const std::string& name) const { return dir + "/" + name; }

    std::string dir;
    metrics::registry metrics;
};

TEST(dataset_file_names, only_plain_json_files_count) {
    EXPECT_TRUE(is_dataset_file_name("telemetry.json"));
    EXPECT_TRUE(is_dataset_file_name("a.b.json"));
    EXPECT_FALSE(is_dataset_file_name(".json"));
    EXPECT_FALSE(is_dataset_file_name("x.json.swp"));
    EXPECT_FALSE(is_dataset_file_name(".x.json.swp"));
    EXPECT_FALSE(is_dataset_file_name("x.json~"));
    EXPECT_FALSE(is_dataset_file_name(".#x.json"));
    EXPECT_FALSE(is_dataset_file_name(".#x"));
    EXPECT_FALSE(is_dataset_file_name("#x.json#"));
    EXPECT_FALSE(is_dataset_file_name("#x.json"));
    EXPECT_FALSE(is_dataset_file_name(".x.json"));
    EXPECT_FALSE(is_dataset_file_name("x.JSON.bak"));
    EXPECT_FALSE(is_dataset_file_name("x.yaml"));
    EXPECT_FALSE(is_dataset_file_name("4913"));
}

TEST_F(registry_test, missing_directory_is_an_error_naming_the_key) {
    registry reg(dir + "/nope", metrics);
    auto st = reg.load();
    ASSERT_FALSE(st.has_value());
    EXPECT_THAT(st.error().message, HasSubstr("datasets.dir"));
    EXPECT_THAT(st.error().message, HasSubstr(dir + "/nope"));
    EXPECT_EQ(reg.version(), 0u);
    EXPECT_TRUE(reg.current()->empty());
    EXPECT_EQ(reg.last_summary().result, reload_summary::outcome::failed);
}

TEST_F(registry_test, a_file_as_directory_is_an_error) {
    write_file(path("file"), "x");
    registry reg(path("file"), metrics);
    auto st = reg.load();
    ASSERT_FALSE(st.has_value());
    EXPECT_THAT(st.error().message, HasSubstr("datasets.dir"));
    EXPECT_THAT(st.error().message, HasSubstr("not a directory"));
}

TEST_F(registry_test, empty_directory_loads_version_one) {
    registry reg(dir, metrics);
    ASSERT_TRUE(reg.load().has_value());
    EXPECT_EQ(reg.version(), 1u);
    EXPECT_EQ(reg.current()->version(), 1u);
    EXPECT_TRUE(reg.current()->empty());
    EXPECT_EQ(reg.last_summary().result, reload_summary::outcome::ok);
}

TEST_F(registry_test, loads_json_files_and_ignores_the_rest) {
    write_file(path("a.json"), dataset_json("a"));
    write_file(path("b.json"), dataset_json("b"));
    for (const char* ignored : {".hidden.json", "c.json.swp", ".c.json.swp", "d.json~", "#e.json#",
                                ".#f.json", "notes.txt"}) {
        write_file(path(ignored), "not json at all");
    }
    fs::create_directory(path("sub.json"));
    registry reg(dir, metrics);
    ASSERT_TRUE(reg.load().has_value());
    auto snap = reg.current();
    EXPECT_EQ(snap->size(), 2u);
    EXPECT_NE(snap->find("a"), nullptr);
    EXPECT_NE(snap->find("b"), nullptr);
    auto summary = reg.last_summary();
    EXPECT_EQ(summary.result, reload_summary::outcome::ok);
    EXPECT_EQ(summary.files, 2u);
    EXPECT_EQ(summary.datasets, 2u);
    EXPECT_TRUE(summary.errors.empty());
    EXPECT_EQ(snap->find("a")->origin, dir + "/a.json");
}

TEST_F(registry_test, broken_files_are_skipped_and_counted) {
    write_file(path("a.json"), dataset_json("a"));
    write_file(path("b.json"), dataset_json("b", R"("dedup_config":{"dedup_period":"x"})"));
    write_file(path("c.json"), "{ not json");
    registry reg(dir, metrics);
    ASSERT_TRUE(reg.load().has_value());
    EXPECT_EQ(reg.current()->size(), 1u);
    auto summary = reg.last_summary();
    EXPECT_EQ(summary.result, reload_summary::outcome::partial);
    ASSERT_EQ(summary.errors.size(), 2u);
    EXPECT_EQ(summary.errors[0].file, path("b.json"));
    EXPECT_EQ(summary.errors[0].message,
              path("b.json") + ": field 'dedup_config.dedup_period': expected an integer");
    EXPECT_THAT(summary.errors[1].message, HasSubstr(path("c.json") + ": invalid JSON"));
    EXPECT_EQ(summary.kept_previous, 0u);
    auto text = metrics.render();
    EXPECT_THAT(text, HasSubstr("obsrv_datasets_file_errors_total 2\n"));
    EXPECT_THAT(text, HasSubstr("obsrv_datasets_reloads_total{result=\"partial\"} 1\n"));
    EXPECT_THAT(text, HasSubstr("obsrv_datasets_loaded 1\n"));
    EXPECT_THAT(text, HasSubstr("obsrv_datasets_broken_files 2\n"));
}

TEST_F(registry_test, reload_picks_up_edit_add_and_remove) {
    write_file(path("a.json"), dataset_json("a", R"("data_version":1)"));
    write_file(path("b.json"), dataset_json("b"));
    registry reg(dir, metrics);
    ASSERT_TRUE(reg.load().has_value());
    EXPECT_EQ(reg.version(), 1u);

    write_file(path("a.json"), dataset_json("a", R"("data_version":2)"));
    auto summary = reg.reload();
    EXPECT_TRUE(summary.changed);
    EXPECT_EQ(summary.version, 2u);
    EXPECT_EQ(reg.version(), 2u);
    EXPECT_EQ(data_version_of(reg, "a"), 2);

    write_file(path("c.json"), dataset_json("c"));
    summary = reg.reload();
    EXPECT_EQ(summary.version, 3u);
    EXPECT_EQ(reg.current()->size(), 3u);

    ASSERT_TRUE(fs::remove(path("b.json")));
    summary = reg.reload();
    EXPECT_EQ(summary.version, 4u);
    EXPECT_EQ(reg.current()->find("b"), nullptr);
    EXPECT_EQ(reg.current()->size(), 2u);

    // Nothing changed: no new snapshot, so cached readers keep theirs.
    auto before = reg.current();
    summary = reg.reload();
    EXPECT_FALSE(summary.changed);
    EXPECT_EQ(summary.result, reload_summary::outcome::ok);
    EXPECT_EQ(reg.version(), 4u);
    EXPECT_EQ(reg.current(), before);
    EXPECT_THAT(metrics.render(), HasSubstr("obsrv_datasets_reloads_total{result=\"ok\"} 5\n"));
    EXPECT_EQ(reg.reload_count(), 5u);
}

TEST_F(registry_test, new_bytes_for_the_same_dataset_change_nothing) {
    write_file(path("a.json"), dataset_json("a", R"("data_version":1)"));
    registry reg(dir, metrics);
    ASSERT_TRUE(reg.load().has_value());
    auto before = reg.current();

    // Reformatted, keys reordered, an ignored field added: the same dataset.
    write_file(path("a.json"),
               "{\n  \"api_version\": \"v2\", \"data_version\": 1,\n"
               "  \"status\": \"Live\", \"type\": \"event\", "
               "\"dataset_id\": \"a\", \"created_by\": \"x\"\n}\n");
    auto summary = reg.reload();
    EXPECT_FALSE(summary.changed);
    EXPECT_EQ(reg.version(), 1u);
    EXPECT_EQ(reg.current(), before);

    write_file(path("a.json"), dataset_json("a", R"("data_version":2)"));
    EXPECT_TRUE(reg.reload().changed);
    EXPECT_EQ(reg.version(), 2u);
}

TEST_F(registry_test, directory_mode_carries_the_configured_system_settings) {
    write_file(path("a.json"), dataset_json("a"));
    system_settings system;
    system.encryption_secret_key = "0123456789abcdef";
    registry reg(std::make_unique<directory_source>(dir, system), metrics);
    ASSERT_TRUE(reg.load().has_value());
    const auto& loaded = reg.current()->system_config();
    EXPECT_EQ(loaded.encryption_secret_key, "0123456789abcdef");
    EXPECT_EQ(loaded.max_event_size, 1048576);
    EXPECT_EQ(loaded.default_dedup_period_seconds, 604800);
    EXPECT_EQ(loaded.default_dataset_id, "ALL");
}

TEST_F(registry_test, broken_file_keeps_the_previous_version_until_fixed) {
    write_file(path("a.json"), dataset_json("a", R"("data_version":1)"));
    write_file(path("b.json"), dataset_json("b"));
    registry reg(dir, metrics);
    ASSERT_TRUE(reg.load().has_value());

    write_file(path("a.json"),
               dataset_json("a", R"("data_version":2,"validation_config":{"mode":"Relaxed"})"));
    auto summary = reg.reload();
    EXPECT_EQ(summary.result, reload_summary::outcome::partial);
    ASSERT_EQ(summary.errors.size(), 1u);
    EXPECT_THAT(
        summary.errors[0].message,
        HasSubstr(path("a.json") + ": field 'validation_config.mode': unknown value 'Relaxed'"));
    EXPECT_EQ(summary.kept_previous, 1u);
    EXPECT_FALSE(summary.changed);
    EXPECT_EQ(data_version_of(reg, "a"), 1);
    EXPECT_EQ(reg.current()->size(), 2u);

    // Still broken, unchanged: reported again, but counted (and logged) once.
    summary = reg.reload();
    EXPECT_EQ(summary.errors.size(), 1u);
    EXPECT_THAT(metrics.render(), HasSubstr("obsrv_datasets_file_errors_total 1\n"));

    // A second, different breakage keeps the same previous version.
    write_file(path("a.json"), "{");
    summary = reg.reload();
    EXPECT_EQ(summary.kept_previous, 1u);
    EXPECT_EQ(data_version_of(reg, "a"), 1);
    EXPECT_THAT(metrics.render(), HasSubstr("obsrv_datasets_file_errors_total 2\n"));

    write_file(path("a.json"), dataset_json("a", R"("data_version":3)"));
    summary = reg.reload();
    EXPECT_EQ(summary.result, reload_summary::outcome::ok);
    EXPECT_TRUE(summary.changed);
    EXPECT_TRUE(summary.errors.empty());
    EXPECT_EQ(data_version_of(reg, "a"), 3);
    EXPECT_THAT(metrics.render(), HasSubstr("obsrv_datasets_broken_files 0\n"));
}

TEST_F(registry_test, broken_then_removed_file_takes_its_dataset_away) {
    write_file(path("a.json"), dataset_json("a"));
    registry reg(dir, metrics);
    ASSERT_TRUE(reg.load().has_value());
    write_file(path("a.json"), "{");
    reg.reload();
    EXPECT_NE(reg.current()->find("a"), nullptr);
    ASSERT_TRUE(fs::remove(path("a.json")));
    auto summary = reg.reload();
    EXPECT_TRUE(summary.changed);
    EXPECT_EQ(summary.result, reload_summary::outcome::ok);
    EXPECT_EQ(reg.current()->find("a"), nullptr);
}

TEST_F(registry_test, unreadable_directory_on_reload_keeps_the_snapshot) {
    write_file(path("a.json"), dataset_json("a"));
    registry reg(dir, metrics);
    ASSERT_TRUE(reg.load().has_value());
    fs::remove_all(dir);
    auto summary = reg.reload();
    EXPECT_EQ(summary.result, reload_summary::outcome::failed);
    EXPECT_THAT(summary.message, HasSubstr(dir));
    EXPECT_EQ(reg.version(), 1u);
    EXPECT_NE(reg.current()->find("a"), nullptr);
    EXPECT_THAT(metrics.render(), HasSubstr("obsrv_datasets_reloads_total{result=\"failed\"} 1\n"));
}

TEST_F(registry_test, duplicate_dataset_ids_keep_the_file_that_sorts_first) {
    // Created in reverse order: the outcome must not depend on directory order.
    write_file(path("b.json"), dataset_json("d", R"("data_version":2)"));
    write_file(path("a.json"), dataset_json("d", R"("data_version":1)"));
    registry reg(dir, metrics);
    ASSERT_TRUE(reg.load().has_value());
    EXPECT_EQ(reg.current()->size(), 1u);
    EXPECT_EQ(data_version_of(reg, "d"), 1);
    auto summary = reg.last_summary();
    EXPECT_EQ(summary.result, reload_summary::outcome::partial);
    ASSERT_EQ(summary.conflicts.size(), 1u);
    EXPECT_EQ(summary.conflicts[0].key, "d");
    EXPECT_EQ(summary.conflicts[0].what, snapshot::conflict::kind::duplicate_dataset_id);
    EXPECT_EQ(summary.conflicts[0].by_origin, path("a.json"));
    EXPECT_EQ(summary.conflicts[0].origin, path("b.json"));

    // An unrelated reload still reports the standing conflict.
    summary = reg.reload();
    EXPECT_FALSE(summary.changed);
    EXPECT_EQ(summary.conflicts.size(), 1u);
    EXPECT_EQ(summary.result, reload_summary::outcome::partial);

    // The winner goes away: the other file's dataset takes its place.
    ASSERT_TRUE(fs::remove(path("a.json")));
    summary = reg.reload();
    EXPECT_TRUE(summary.conflicts.empty());
    EXPECT_EQ(summary.result, reload_summary::outcome::ok);
    EXPECT_EQ(data_version_of(reg, "d"), 2);
}

TEST_F(registry_test, lookup_by_alias_then_dataset_id) {
    write_file(path("a.json"), dataset_json("a", R"("alias":"first")"));
    write_file(path("b.json"), dataset_json("b", R"("alias":"c")"));  // c is another dataset_id
    write_file(path("c.json"), dataset_json("c"));
    write_file(path("d.json"), dataset_json("d", R"("alias":"first")"));  // taken by a
    registry reg(dir, metrics);
    ASSERT_TRUE(reg.load().has_value());
    auto snap = reg.current();
    ASSERT_NE(snap->find("first"), nullptr);
    EXPECT_EQ(snap->find("first")->dataset_id, "a");
    EXPECT_EQ(snap->find("a")->dataset_id, "a");
    EXPECT_EQ(snap->find("b")->dataset_id, "b");
    EXPECT_EQ(snap->find("c")->dataset_id, "b");           // alias first, as Obsrv's API
    EXPECT_EQ(snap->by_dataset_id("c")->dataset_id, "c");  // still there for the pipeline
    EXPECT_EQ(snap->find("d"), nullptr);
    EXPECT_EQ(snap->size(), 3u);
    auto summary = reg.last_summary();
    EXPECT_EQ(summary.result, reload_summary::outcome::partial);
    ASSERT_EQ(summary.conflicts.size(), 2u);
    EXPECT_EQ(summary.conflicts[0].what, snapshot::conflict::kind::duplicate_alias);
    EXPECT_EQ(summary.conflicts[0].origin, path("d.json"));
    EXPECT_EQ(summary.conflicts[1].what, snapshot::conflict::kind::alias_shadows_dataset_id);
    EXPECT_EQ(summary.conflicts[1].origin, path("c.json"));
}

TEST_F(registry_test, on_change_sees_each_new_snapshot_once) {
    write_file(path("a.json"), dataset_json("a"));
    registry reg(dir, metrics);
    std::vector<uint64_t> versions;
    std::vector<std::size_t> sizes;
    reg.on_change([&](const snapshot& snap) {
        versions.push_back(snap.version());
        sizes.push_back(snap.size());
    });
    reg.on_change([](const snapshot&) { throw std::runtime_error("ignored"); });
    ASSERT_TRUE(reg.load().has_value());
    reg.reload();  // nothing changed
    write_file(path("b.json"), dataset_json("b"));
    reg.reload();
    EXPECT_THAT(versions, ::testing::ElementsAre(1u, 2u));
    EXPECT_THAT(sizes, ::testing::ElementsAre(1u, 2u));
}

TEST_F(registry_test, snapshot_held_by_a_reader_stays_valid_across_reloads) {
    write_file(path("a.json"), dataset_json("a", R"("data_version":1,"tags":["first"])"));
    registry reg(dir, metrics);
    ASSERT_TRUE(reg.load().has_value());
    auto held = reg.current();
    const dataset* a = held->find("a");
    ASSERT_NE(a, nullptr);
    for (int i = 2; i < 50; ++i) {
        write_file(path("a.json"),
                   dataset_json("a", R"("tags":["t)" + std::to_string(i) + R"("],"data_version":)" +
                                         std::to_string(i)));
        reg.reload();
    }
    ASSERT_TRUE(fs::remove(path("a.json")));
    reg.reload();
    EXPECT_EQ(reg.current()->find("a"), nullptr);
    // Under ASan a freed dataset would be reported here.
    EXPECT_EQ(held->version(), 1u);
    EXPECT_EQ(a->data_version, 1);
    ASSERT_EQ(a->tags.size(), 1u);
    EXPECT_EQ(a->tags[0], "first");
    EXPECT_EQ(held->find("a"), a);
}

TEST_F(registry_test, concurrent_readers_during_reloads) {
    write_file(path("a.json"), dataset_json("a", R"("data_version":0)"));
    write_file(path("b.json"), dataset_json("b"));
    registry reg(dir, metrics);
    ASSERT_TRUE(reg.load().has_value());

    std::atomic<bool> done{false};
    std::atomic<uint64_t> lookups{0};
    std::atomic<bool> bad{false};
    auto reader = [&] {
        auto cached = reg.current();
        uint64_t last_version = cached->version();
        int64_t last_data_version = 0;
        while (!done.load(std::memory_order_acquire)) {
            // What a gateway worker does per request.
            if (reg.version() != cached->version()) {
                cached = reg.current();
                if (cached->version() < last_version) {
                    bad = true;  // versions must never go back
                }
                last_version = cached->version();
            }
            const dataset* a = cached->find("a");
            const dataset* b = cached->find("b");
            if (!a || !b || a->dataset_id != "a" || a->data_version < last_data_version) {
                bad = true;
            } else {
                last_data_version = a->data_version;
            }
            lookups.fetch_add(1, std::memory_order_relaxed);
        }
    };
    std::thread r1(reader);
    std::thread r2(reader);
    std::mutex file_mutex;
    std::atomic<int> next{1};
    auto reloader = [&] {
        for (int i = 0; i < 100; ++i) {
            {
                std::lock_guard lock(file_mutex);
                int n = next++;
                write_atomically(dir, "a.json",
                                 dataset_json("a", R"("data_version":)" + std::to_string(n)));
            }
            reg.reload();
        }
    };
    std::thread w1(reloader);
    std::thread w2(reloader);
    w1.join();
    w2.join();
    reg.reload();
    done = true;
    r1.join();
    r2.join();
    EXPECT_FALSE(bad.load());
    EXPECT_GT(lookups.load(), 0u);
    EXPECT_EQ(data_version_of(reg, "a"), 200);
    EXPECT_GE(reg.version(), 2u);
    EXPECT_EQ(reg.reload_count(), 202u);
}

TEST_F(registry_test, watcher_on_a_missing_directory_fails) {
    registry reg(dir + "/nope", metrics);
    auto st = reg.start_watching();
    ASSERT_FALSE(st.has_value());
    EXPECT_THAT(st.error().message, HasSubstr("datasets.dir"));
    reg.stop();
}

TEST_F(registry_test, watcher_reloads_on_atomic_rename_edit_and_delete) {
    write_file(path("a.json"), dataset_json("a", R"("data_version":1)"));
    registry reg(dir, metrics, 50ms);
    ASSERT_TRUE(reg.load().has_value());
    ASSERT_TRUE(reg.start_watching().has_value());
    ASSERT_TRUE(reg.start_watching().has_value());  // idempotent

    write_atomically(dir, "new.json", dataset_json("new"));
    EXPECT_TRUE(testing::wait_until([&] { return reg.current()->find("new") != nullptr; },
                                    testing::scaled(2000ms)));

    write_file(path("a.json"), dataset_json("a", R"("data_version":2)"));  // in place
    EXPECT_TRUE(testing::wait_until([&] { return data_version_of(reg, "a") == 2; },
                                    testing::scaled(2000ms)));

    ASSERT_TRUE(fs::remove(path("new.json")));
    EXPECT_TRUE(testing::wait_until([&] { return reg.current()->find("new") == nullptr; },
                                    testing::scaled(2000ms)));

    // Moved away (mv a.json /elsewhere) counts as removed.
    auto elsewhere = testing::make_temp_dir("datasets-elsewhere") + "/a.json";
    fs::rename(path("a.json"), elsewhere);
    EXPECT_TRUE(
        testing::wait_until([&] { return reg.current()->empty(); }, testing::scaled(2000ms)));
    reg.stop();
}

TEST_F(registry_test, watcher_ignores_temporary_and_hidden_files) {
    registry reg(dir, metrics, 20ms);
    ASSERT_TRUE(reg.load().has_value());
    ASSERT_TRUE(reg.start_watching().has_value());
    auto before = reg.reload_count();
    write_file(path(".a.json.swp"), "x");
    write_file(path("a.json~"), "x");
    write_file(path(".#a.json"), "x");
    write_file(path("notes.txt"), "x");
    std::this_thread::sleep_for(300ms);
    EXPECT_EQ(reg.reload_count(), before);
    // The rename that completes the edit does count.
    ASSERT_EQ(std::rename(path(".a.json.swp").c_str(), path("a.json").c_str()), 0);
    EXPECT_TRUE(
        testing::wait_until([&] { return reg.reload_count() > before; }, testing::scaled(2000ms)));
    reg.stop();
}

TEST_F(registry_test, debounce_turns_a_burst_into_few_reloads) {
    write_file(path("a.json"), dataset_json("a", R"("data_version":0)"));
    registry reg(dir, metrics, 200ms);
    ASSERT_TRUE(reg.load().has_value());
    ASSERT_TRUE(reg.start_watching().has_value());
    auto before = reg.reload_count();
    constexpr int k_writes = 40;
    for (int i = 1; i <= k_writes; ++i) {
        write_file(path("a.json"), dataset_json("a", R"("data_version":)" + std::to_string(i)));
        std::this_thread::sleep_for(2ms);
    }
    EXPECT_TRUE(testing::wait_until([&] { return data_version_of(reg, "a") == k_writes; },
                                    testing::scaled(3000ms)));
    std::this_thread::sleep_for(400ms);  // let any straggling reload happen
    auto reloads = reg.reload_count() - before;
    EXPECT_GE(reloads, 1u);
    EXPECT_LE(reloads, 3u) << "40 writes should coalesce";
    reg.stop();
}

TEST_F(registry_test, stop_is_prompt_even_with_a_reload_pending) {
    registry reg(dir, metrics, 10s);
    ASSERT_TRUE(reg.load().has_value());
    ASSERT_TRUE(reg.start_watching().has_value());
    write_file(path("a.json"), dataset_json("a"));
    std::this_thread::sleep_for(100ms);  // the event is in, the 10 s debounce is running
    auto start = std::chrono::steady_clock::now();
    reg.stop();
    auto took = std::chrono::steady_clock::now() - start;
    EXPECT_LT(took, testing::scaled(500ms));
    EXPECT_EQ(reg.current()->find("a"), nullptr);  // the pending reload never ran
    reg.stop();                                    // idempotent
    // Can watch again after a stop.
    ASSERT_TRUE(reg.start_watching().has_value());
    start = std::chrono::steady_clock::now();
    reg.stop();
    EXPECT_LT(std::chrono::steady_clock::now() - start, testing::scaled(500ms));
}

TEST_F(registry_test, destructor_stops_the_watcher) {
    auto start = std::chrono::steady_clock::now();
    {
        registry reg(dir, metrics);
        ASSERT_TRUE(reg.load().has_value());
        ASSERT_TRUE(reg.start_watching().has_value());
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, testing::scaled(1000ms));
}

TEST_F(registry_test, watcher_survives_the_directory_being_replaced) {
    write_file(path("a.json"), dataset_json("a"));
    registry reg(dir, metrics, 20ms);
    ASSERT_TRUE(reg.load().has_value());
    ASSERT_TRUE(reg.start_watching().has_value());
    fs::remove_all(dir);
    // The reload triggered by the deletion fails and keeps what was loaded.
    EXPECT_TRUE(testing::wait_until(
        [&] { return reg.last_summary().result == reload_summary::outcome::failed; },
        testing::scaled(2000ms)));
    EXPECT_NE(reg.current()->find("a"), nullptr);
    fs::create_directory(dir);
    write_file(path("b.json"), dataset_json("b"));
    EXPECT_TRUE(testing::wait_until(
        [&] {
            auto snap = reg.current();
            return snap->find("b") != nullptr && snap->find("a") == nullptr;
        },
        testing::scaled(4000ms)));
    reg.stop();
}

TEST_F(registry_test, watcher_follows_a_configmap_style_swap) {
    // Kubernetes: dir/a.json -> ..data/a.json, ..data -> ..v1; an update renames ..data.
    fs::create_directory(path("..v1"));
    write_file(path("..v1/a.json"), dataset_json("a", R"("data_version":1)"));
    fs::create_directory_symlink("..v1", path("..data"));
    fs::create_symlink("..data/a.json", path("a.json"));
    registry reg(dir, metrics, 20ms);
    ASSERT_TRUE(reg.load().has_value());
    EXPECT_EQ(data_version_of(reg, "a"), 1);
    ASSERT_TRUE(reg.start_watching().has_value());

    fs::create_directory(path("..v2"));
    write_file(path("..v2/a.json"), dataset_json("a", R"("data_version":2)"));
    fs::create_directory_symlink("..v2", path("..data_tmp"));
    fs::rename(path("..data_tmp"), path("..data"));
    EXPECT_TRUE(testing::wait_until([&] { return data_version_of(reg, "a") == 2; },
                                    testing::scaled(2000ms)));
    reg.stop();
}

}  // namespace
}  // namespace obsrv::dataset
