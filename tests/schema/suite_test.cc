// Runs the official JSON-Schema-Test-Suite (draft 2020-12) against
// obsrv::schema. A schema the validator refuses at compile time with an
// "unsupported" error counts as refused: no verdict is better than a wrong
// one. Among compiled schemas, the required (non-optional) files must give
// no wrong verdict. Prints a per-file table to stdout.

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include "schema/validator.h"

namespace {

namespace fs = std::filesystem;

#ifndef OBSRV_SCHEMA_TEST_SUITE_DIR
#define OBSRV_SCHEMA_TEST_SUITE_DIR ""
#endif

// Raise when the validator learns more; a drop means a regression.
constexpr int k_min_required_passed = 1290;
constexpr int k_min_optional_passed = 99;

struct file_result {
    std::string name;
    bool optional = false;
    int passed = 0;
    int failed = 0;
    int refused = 0;
    std::string note;
};

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

fs::path suite_dir() {
    if (const char* env = std::getenv("OBSRV_SCHEMA_TEST_SUITE_DIR"); env != nullptr && *env) {
        return env;
    }
    return OBSRV_SCHEMA_TEST_SUITE_DIR;
}

file_result run_file(const fs::path& path, const fs::path& remotes, bool optional,
                     std::vector<std::string>& wrong) {
    file_result r;
    r.name = (optional ? "optional/" : "") + path.filename().string();
    r.optional = optional;
    obsrv::schema::compile_options options;
    options.resolver = [remotes](std::string_view uri) -> std::optional<std::string> {
        constexpr std::string_view prefix = "http://localhost:1234/";
        if (!uri.starts_with(prefix)) {
            return std::nullopt;
        }
        const fs::path p = remotes / std::string(uri.substr(prefix.size()));
        if (!fs::is_regular_file(p)) {
            return std::nullopt;
        }
        return read_file(p);
    };

    simdjson::dom::parser parser;
    simdjson::dom::element groups;
    if (parser.load(path.string()).get(groups) != simdjson::SUCCESS) {
        r.note = "file not parsed by simdjson (numbers beyond 64 bits)";
        return r;
    }
    for (const simdjson::dom::element group : groups.get_array()) {
        const std::string schema_text = simdjson::minify(group["schema"]);
        const std::string_view description = group["description"].get_string().value();
        const simdjson::dom::array tests = group["tests"].get_array().value();
        const auto count = static_cast<int>(tests.size());
        auto compiled = obsrv::schema::compiled_schema::compile(schema_text, options);
        if (!compiled) {
            if (compiled.error().message.find("unsupported") != std::string::npos) {
                r.refused += count;
                if (r.note.empty()) {
                    r.note = compiled.error().message.substr(0, 100);
                }
            } else {
                r.failed += count;
                wrong.push_back(fmt::format("{} / {}: compile error: {}", r.name, description,
                                            compiled.error().message));
            }
            continue;
        }
        for (const simdjson::dom::element test : tests) {
            const bool expected = test["valid"].get_bool().value();
            std::vector<obsrv::schema::validation_error> errors;
            const bool quick = (*compiled)->validate(test["data"].value(), nullptr);
            const bool full = (*compiled)->validate(test["data"].value(), &errors);
            // Both modes must agree, and errors appear exactly when invalid.
            const bool consistent = quick == full && full == errors.empty();
            if (quick == expected && consistent) {
                ++r.passed;
            } else {
                ++r.failed;
                wrong.push_back(
                    fmt::format("{} / {} / {}: expected {}, got {} (full {}, {} errors)", r.name,
                                description, test["description"].get_string().value(), expected,
                                quick, full, errors.size()));
            }
        }
    }
    return r;
}

TEST(schema_suite, draft2020_12) {
    const fs::path root = suite_dir();
    const fs::path tests = root / "tests" / "draft2020-12";
    if (root.empty() || !fs::is_directory(tests)) {
        GTEST_SKIP() << "JSON-Schema-Test-Suite not found (set the CMake cache variable "
                        "OBSRV_SCHEMA_TEST_SUITE_DIR or the environment variable of the same name "
                        "to a checkout); looked in '"
                     << root.string() << "'";
    }
    const fs::path remotes = root / "remotes";

    std::vector<std::pair<fs::path, bool>> files;
    for (const auto& entry : fs::directory_iterator(tests)) {
        if (entry.path().extension() == ".json") {
            files.emplace_back(entry.path(), false);
        }
    }
    // optional/format/ asserts formats; format is an annotation here, as the
    // 2020-12 default says, so those files are not run.
    for (const auto& entry : fs::directory_iterator(tests / "optional")) {
        if (entry.path().extension() == ".json") {
            files.emplace_back(entry.path(), true);
        }
    }
    std::sort(files.begin(), files.end());

    std::vector<file_result> results;
    std::vector<std::string> wrong_required;
    std::vector<std::string> wrong_optional;
    for (const auto& [path, optional] : files) {
        results.push_back(
            run_file(path, remotes, optional, optional ? wrong_optional : wrong_required));
    }

    int totals[2][3] = {};
    std::string table = "| file | passed | failed | refused | note |\n|---|---:|---:|---:|---|\n";
    for (const auto& r : results) {
        table += fmt::format("| {} | {} | {} | {} | {} |\n", r.name, r.passed, r.failed, r.refused,
                             r.note);
        int* t = totals[r.optional ? 1 : 0];
        t[0] += r.passed;
        t[1] += r.failed;
        t[2] += r.refused;
    }
    table += fmt::format("| **required total** | {} | {} | {} | |\n", totals[0][0], totals[0][1],
                         totals[0][2]);
    table += fmt::format("| **optional total** | {} | {} | {} | |\n", totals[1][0], totals[1][1],
                         totals[1][2]);
    fmt::print("\nJSON-Schema-Test-Suite draft2020-12 ({})\n\n{}\n", root.string(), table);
    for (const auto& w : wrong_required) {
        fmt::print("WRONG (required): {}\n", w);
    }
    for (const auto& w : wrong_optional) {
        fmt::print("wrong (optional): {}\n", w);
    }

    EXPECT_EQ(totals[0][1], 0) << "wrong verdicts in required files";
    EXPECT_GE(totals[0][0], k_min_required_passed);
    EXPECT_GE(totals[1][0], k_min_optional_passed);
}

}  // namespace
