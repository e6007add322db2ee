#include "dataset/snapshot.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace obsrv::dataset {
namespace {

snapshot::dataset_ptr make(std::string dataset_id, std::string alias = {},
                           std::string origin = {}) {
    auto ds = std::make_shared<dataset>();
    ds->id = dataset_id;
    ds->dataset_id = std::move(dataset_id);
    ds->alias = std::move(alias);
    ds->origin = origin.empty() ? ds->dataset_id + ".json" : std::move(origin);
    return ds;
}

TEST(snapshot, empty_by_default) {
    snapshot snap;
    EXPECT_EQ(snap.version(), 0u);
    EXPECT_TRUE(snap.empty());
    EXPECT_EQ(snap.find("anything"), nullptr);
}

TEST(snapshot, finds_by_dataset_id_and_alias) {
    auto snap = snapshot::build({make("a", "alias-a"), make("b")}, 7);
    EXPECT_EQ(snap->version(), 7u);
    ASSERT_EQ(snap->size(), 2u);
    ASSERT_NE(snap->find("a"), nullptr);
    EXPECT_EQ(snap->find("a")->dataset_id, "a");
    ASSERT_NE(snap->find("alias-a"), nullptr);
    EXPECT_EQ(snap->find("alias-a")->dataset_id, "a");
    EXPECT_EQ(snap->find("b")->dataset_id, "b");
    EXPECT_EQ(snap->find("c"), nullptr);
    EXPECT_EQ(snap->find(""), nullptr);
    // Pipeline lookups use dataset_id only.
    EXPECT_EQ(snap->by_dataset_id("alias-a"), nullptr);
    EXPECT_EQ(snap->by_dataset_id("a")->dataset_id, "a");
    EXPECT_EQ(snap->find_shared("alias-a")->dataset_id, "a");
    EXPECT_EQ(snap->find_shared("zzz"), nullptr);
}

TEST(snapshot, keeps_file_order_for_iteration) {
    auto snap = snapshot::build({make("z"), make("a"), make("m")}, 1);
    std::vector<std::string> ids;
    for (const auto& ds : snap->datasets()) {
        ids.push_back(ds->dataset_id);
    }
    EXPECT_THAT(ids, ::testing::ElementsAre("z", "a", "m"));
}

TEST(snapshot, duplicate_dataset_id_keeps_the_earlier_and_reports) {
    std::vector<snapshot::conflict> conflicts;
    auto first = make("d", "", "a.json");
    auto second = make("d", "other", "b.json");
    auto snap = snapshot::build({first, second}, 1, &conflicts);
    ASSERT_EQ(snap->size(), 1u);
    EXPECT_EQ(snap->find("d")->origin, "a.json");
    EXPECT_EQ(snap->find("other"), nullptr);  // the loser's alias is not registered either
    ASSERT_EQ(conflicts.size(), 1u);
    EXPECT_EQ(conflicts[0].what, snapshot::conflict::kind::duplicate_dataset_id);
    EXPECT_EQ(conflicts[0].key, "d");
    EXPECT_EQ(conflicts[0].dataset_id, "d");
    EXPECT_EQ(conflicts[0].origin, "b.json");
    EXPECT_EQ(conflicts[0].by_origin, "a.json");
}

TEST(snapshot, duplicate_alias_keeps_the_earlier_and_reports) {
    std::vector<snapshot::conflict> conflicts;
    auto snap = snapshot::build({make("p", "shared", "1.json"), make("q", "shared", "2.json")}, 3,
                                &conflicts);
    ASSERT_EQ(snap->size(), 1u);
    EXPECT_EQ(snap->find("shared")->dataset_id, "p");
    EXPECT_EQ(snap->find("q"), nullptr);
    ASSERT_EQ(conflicts.size(), 1u);
    EXPECT_EQ(conflicts[0].what, snapshot::conflict::kind::duplicate_alias);
    EXPECT_EQ(conflicts[0].key, "shared");
    EXPECT_EQ(conflicts[0].dataset_id, "q");
    EXPECT_EQ(conflicts[0].origin, "2.json");
    EXPECT_EQ(conflicts[0].by_dataset_id, "p");
}

TEST(snapshot, alias_is_looked_up_before_dataset_id) {
    // Obsrv's ingest API tries the key as an alias first, then as a dataset_id. Whichever file
    // comes first, the alias wins the API lookup; the shadowed dataset stays loaded for the
    // pipeline, which looks datasets up by dataset_id, and the overlap is reported.
    for (bool alias_first : {true, false}) {
        std::vector<snapshot::conflict> conflicts;
        auto holder = make("a", "x", "holder.json");
        auto shadowed = make("x", "", "shadowed.json");
        auto snap = alias_first ? snapshot::build({holder, shadowed}, 1, &conflicts)
                                : snapshot::build({shadowed, holder}, 1, &conflicts);
        ASSERT_EQ(snap->size(), 2u);
        ASSERT_NE(snap->find("x"), nullptr);
        EXPECT_EQ(snap->find("x")->dataset_id, "a") << alias_first;
        EXPECT_EQ(snap->find_shared("x")->dataset_id, "a");
        EXPECT_EQ(snap->by_dataset_id("x")->dataset_id, "x");
        EXPECT_EQ(snap->find("a")->dataset_id, "a");
        ASSERT_EQ(conflicts.size(), 1u);
        EXPECT_EQ(conflicts[0].what, snapshot::conflict::kind::alias_shadows_dataset_id);
        EXPECT_EQ(conflicts[0].key, "x");
        EXPECT_EQ(conflicts[0].dataset_id, "x");
        EXPECT_EQ(conflicts[0].origin, "shadowed.json");
        EXPECT_EQ(conflicts[0].by_dataset_id, "a");
        EXPECT_EQ(conflicts[0].by_origin, "holder.json");
    }
}

TEST(snapshot, alias_equal_to_its_own_dataset_id_is_fine) {
    std::vector<snapshot::conflict> conflicts;
    auto snap = snapshot::build({make("same", "same")}, 1, &conflicts);
    ASSERT_NE(snap->find("same"), nullptr);
    EXPECT_TRUE(conflicts.empty());
}

TEST(snapshot, dataset_pointers_outlive_the_snapshot_when_shared) {
    snapshot::dataset_ptr kept;
    {
        auto snap = snapshot::build({make("a")}, 1);
        kept = snap->find_shared("a");
    }
    ASSERT_NE(kept, nullptr);
    EXPECT_EQ(kept->dataset_id, "a");
}

}  // namespace
}  // namespace obsrv::dataset
