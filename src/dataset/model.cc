#include "dataset/model.h"

#include <array>
#include <utility>

namespace obsrv::dataset {
namespace {

// One table per enum keeps the spelling in one place for both directions.
template <typename E, std::size_t N>
using names = std::array<std::pair<E, std::string_view>, N>;

constexpr names<dataset_type, 3> k_types{{
    {dataset_type::event, "event"},
    {dataset_type::master, "master"},
    {dataset_type::transaction, "transaction"},
}};

constexpr names<dataset_status, 7> k_statuses{{
    {dataset_status::draft, "Draft"},
    {dataset_status::publish, "Publish"},
    {dataset_status::live, "Live"},
    {dataset_status::retired, "Retired"},
    {dataset_status::purged, "Purged"},
    {dataset_status::ready_to_publish, "ReadyToPublish"},
    {dataset_status::archived, "Archived"},
}};

constexpr names<api_version, 2> k_versions{{
    {api_version::v1, "v1"},
    {api_version::v2, "v2"},
}};

constexpr names<validation_mode, 3> k_validation_modes{{
    {validation_mode::strict, "Strict"},
    {validation_mode::ignore_new_fields, "IgnoreNewFields"},
    {validation_mode::discard_new_fields, "DiscardNewFields"},
}};

constexpr names<transform_mode, 2> k_transform_modes{{
    {transform_mode::strict, "Strict"},
    {transform_mode::lenient, "Lenient"},
}};

template <typename E, std::size_t N>
std::string_view name_of(const names<E, N>& table, E value) {
    for (const auto& [e, text] : table) {
        if (e == value) {
            return text;
        }
    }
    return "?";
}

template <typename E, std::size_t N>
std::optional<E> value_of(const names<E, N>& table, std::string_view text) {
    for (const auto& [e, name] : table) {
        if (name == text) {
            return e;
        }
    }
    return std::nullopt;
}

}  // namespace

std::string_view to_string(dataset_type value) {
    return name_of(k_types, value);
}
std::string_view to_string(dataset_status value) {
    return name_of(k_statuses, value);
}
std::string_view to_string(api_version value) {
    return name_of(k_versions, value);
}
std::string_view to_string(validation_mode value) {
    return name_of(k_validation_modes, value);
}
std::string_view to_string(transform_mode value) {
    return name_of(k_transform_modes, value);
}

std::optional<dataset_type> parse_dataset_type(std::string_view text) {
    return value_of(k_types, text);
}
std::optional<dataset_status> parse_dataset_status(std::string_view text) {
    return value_of(k_statuses, text);
}
std::optional<api_version> parse_api_version(std::string_view text) {
    return value_of(k_versions, text);
}
std::optional<validation_mode> parse_validation_mode(std::string_view text) {
    return value_of(k_validation_modes, text);
}
std::optional<transform_mode> parse_transform_mode(std::string_view text) {
    return value_of(k_transform_modes, text);
}

}  // namespace obsrv::dataset
