// The cache indexer's merge of master records (json4s `merge`), and the in-memory store that
// applies it.

#include "pipeline/json_merge.h"

#include <gtest/gtest.h>

#include "pipeline/memory_master_store.h"

namespace obsrv::pipeline {
namespace {

std::string merged(std::string_view old_json, std::string_view new_json) {
    std::string out;
    EXPECT_TRUE(merge_json(old_json, new_json, out)) << old_json << " + " << new_json;
    return out;
}

TEST(JsonMergeTest, NoOldRecordGivesTheNewOneCompact) {
    EXPECT_EQ(merged("", R"( { "a" : 1 , "b" : [ 1 , 2 ] } )"), R"({"a":1,"b":[1,2]})");
}

TEST(JsonMergeTest, ObjectsMergeDeeplyOldMembersFirst) {
    EXPECT_EQ(
        merged(R"({"code":"V1","owner":{"name":"A","city":"Pune"},"km":10})",
               R"({"km":12,"owner":{"city":"Goa","zip":"403"},"fuel":"cng"})"),
        R"({"code":"V1","owner":{"name":"A","city":"Goa","zip":"403"},"km":12,"fuel":"cng"})");
}

TEST(JsonMergeTest, ArraysAreUnitedAndOtherValuesReplaced) {
    // json4s mergeVals: old elements in order (each merged with an equal new one), then the new
    // elements left over.
    EXPECT_EQ(merged(R"({"t":["a","b",1]})", R"({"t":["c","a"]})"), R"({"t":["a","b",1,"c"]})");
    EXPECT_EQ(merged(R"({"t":[{"x":1,"y":2}]})", R"({"t":[{"y":2,"x":1},{"x":3}]})"),
              R"({"t":[{"x":1,"y":2},{"x":3}]})");  // objects compare as sets of members
    EXPECT_EQ(merged(R"({"a":{"x":1},"b":[1],"c":"s"})", R"({"a":5,"b":{"k":1},"c":null})"),
              R"({"a":5,"b":{"k":1},"c":null})");
    EXPECT_EQ(merged(R"({"n":1})", R"({"n":1.0})"), R"({"n":1.0})");
}

TEST(JsonMergeTest, NumbersKeepTheirDigits) {
    EXPECT_EQ(merged(R"({"big":123456789012345678901234567890})", R"({"f":1.50})"),
              R"({"big":123456789012345678901234567890,"f":1.50})");
}

TEST(JsonMergeTest, InvalidTextIsRefused) {
    std::string out;
    EXPECT_FALSE(merge_json("", R"({"a":)", out));
    EXPECT_FALSE(merge_json(R"({"a":1} x)", R"({"a":2})", out));
    EXPECT_TRUE(is_json_object(R"({"a":123456789012345678901234567890})"));
    EXPECT_FALSE(is_json_object("[1]"));
    EXPECT_FALSE(is_json_object(R"({"a":tru})"));
}

TEST(MemoryMasterStoreTest, UpsertMergesInOrderAndCountsInsertsAndUpdates) {
    memory_master_store store;
    const master_location db3{"ignored-host", 6379, 3};
    const master_location db4{"", 6379, 4};
    const master_put first[] = {{"V1", R"({"code":"V1","model":"S"})"}, {"V1", R"({"owner":"A"})"}};
    upsert_counts counts;
    ASSERT_TRUE(store.upsert(db3, first, counts));
    EXPECT_EQ(counts.inserted, 1u);
    EXPECT_EQ(counts.updated, 1u);

    const master_get gets[] = {{&db3, "V1"}, {&db4, "V1"}, {&db3, "V2"}};
    master_value values[3];
    ASSERT_TRUE(store.get(gets, values));
    ASSERT_NE(values[0], nullptr);
    EXPECT_EQ(*values[0], R"({"code":"V1","model":"S","owner":"A"})");
    EXPECT_EQ(values[1], nullptr);  // another db
    EXPECT_EQ(values[2], nullptr);
    EXPECT_EQ(store.size(), 1u);
}

}  // namespace
}  // namespace obsrv::pipeline
