#include "app/roles.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace obsrv::app {
namespace {

using ::testing::HasSubstr;

TEST(roles, all_means_every_built_role) {
    auto roles = parse_roles("all");
    ASSERT_TRUE(roles) << roles.error().message;
    for (auto r : *roles) {
        EXPECT_TRUE(is_built(r)) << to_string(r);
    }
}

TEST(roles, a_role_not_built_is_refused_clearly) {
    for (auto name : {"gateway", "pipeline", "archive", "exporter"}) {
        auto r = parse_roles(name);
        role parsed{};
        bool known = false;
        for (auto candidate : {role::gateway, role::pipeline, role::archive, role::exporter}) {
            if (to_string(candidate) == name) {
                parsed = candidate;
                known = true;
            }
        }
        ASSERT_TRUE(known);
        if (is_built(parsed)) {
            ASSERT_TRUE(r) << r.error().message;
        } else {
            ASSERT_FALSE(r);
            EXPECT_THAT(r.error().message,
                        HasSubstr(std::string("role '") + name + "' is not built in this version"));
        }
    }
}

TEST(roles, unknown_and_empty_lists_are_refused) {
    auto unknown = parse_roles("gateway,router");
    ASSERT_FALSE(unknown);
    EXPECT_THAT(unknown.error().message, HasSubstr("unknown role 'router'"));
    auto empty = parse_roles(",");
    ASSERT_FALSE(empty);
    EXPECT_THAT(empty.error().message, HasSubstr("expected a comma-separated list"));
}

TEST(roles, describe_lists_names) {
    EXPECT_EQ(describe({}), "none");
    EXPECT_EQ(describe({role::gateway, role::archive}), "gateway, archive");
}

}  // namespace
}  // namespace obsrv::app
