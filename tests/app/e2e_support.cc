#include "e2e_support.h"

#include <fstream>
#include <regex>

#include <fmt/format.h>

#include "kafka_helpers.h"
#include "test_env.h"

namespace obsrv::testing {

void write_dataset(const std::string& dir, const std::string& dataset_id, std::string_view json) {
    std::ofstream(dir + "/" + dataset_id + ".json") << json;
}

std::string dataset_json(const std::string& id, bool batch, const std::string& dedup_key,
                         const std::string& timestamp_key) {
    return fmt::format(
        R"({{"id":"{0}","dataset_id":"{0}","type":"event","status":"Live","api_version":"v2",
  "entry_topic":"ingest","data_version":1,
  "validation_config":{{"validate":true,"mode":"Strict"}},
  "extraction_config":{{"is_batch_event":{1},"extraction_key":"events","batch_id":"id",
    "dedup_config":{{"drop_duplicates":{1},"dedup_key":"id","dedup_period":3600}}}},
  "dedup_config":{{"drop_duplicates":{2},"dedup_key":"{3}","dedup_period":3600}},
  "data_schema":{{"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",
    "properties":{{"mid":{{"type":"string"}},"ets":{{"type":"integer"}},"n":{{"type":"integer"}}}},
    "required":["mid","ets"],"additionalProperties":false}},
  "router_config":{{"topic":"{0}"}},
  "dataset_config":{{"keys_config":{{"timestamp_key":"{4}"}}}}}})",
        id, batch ? "true" : "false", dedup_key.empty() ? "false" : "true",
        dedup_key.empty() ? "mid" : dedup_key, timestamp_key);
}

std::string ingest_body(const std::string& msgid, std::string_view data) {
    return fmt::format(R"({{"id":"api.data.in","ver":"v2","ts":"1711966306164",)"
                       R"("params":{{"msgid":"{}"}},"data":{}}})",
                       msgid, data);
}

std::string ingest_batch_message(const std::string& dataset, const std::string& msgid,
                                 std::string_view events_array, int64_t syncts) {
    return fmt::format(
        R"({{"obsrv_meta":{{"syncts":{},"flags":{{}},"timespans":{{}},"error":{{}},)"
        R"("source":{{"connector":"api","connectorInstance":"api"}}}},"dataset":"{}",)"
        R"("msgid":"{}","events":{},"id":"{}"}})",
        syncts, dataset, msgid, events_array, msgid);
}

bool matches(std::string_view pattern, std::string_view actual) {
    std::string re;
    for (size_t i = 0; i < pattern.size(); ++i) {
        if (pattern.substr(i, 3) == "<N>") {
            re += "-?[0-9]+";
            i += 2;
            continue;
        }
        if (pattern.substr(i, 3) == "<S>") {
            re += "[^\"]*";
            i += 2;
            continue;
        }
        const char c = pattern[i];
        if (std::string_view(".^$|()[]{}*+?\\").find(c) != std::string_view::npos) {
            re += '\\';
        }
        re += c;
    }
    return std::regex_match(actual.begin(), actual.end(), std::regex(re));
}

std::vector<std::string> read_all(const std::string& bootstrap, const std::string& topic) {
    const auto count = static_cast<size_t>(topic_message_count(bootstrap, topic));
    if (count == 0) {
        return {};
    }
    return read_topic(bootstrap, topic, count, scaled(std::chrono::seconds(20)));
}

std::vector<std::string> containing(const std::vector<std::string>& messages,
                                    std::string_view needle) {
    std::vector<std::string> out;
    for (const auto& m : messages) {
        if (m.find(needle) != std::string::npos) {
            out.push_back(m);
        }
    }
    return out;
}

}  // namespace obsrv::testing
