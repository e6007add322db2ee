#pragma once

// Keyword checks shared by the two evaluators of a compiled schema: the full one that reports
// networknt-style errors (validator.cc) and the verdict-only one for the common keywords
// (fast_check.cc). Inline: both call them once per instance value.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string_view>

#include "schema/compiled.h"

namespace obsrv::schema::detail {

using simdjson::dom::element;
using simdjson::dom::element_type;

inline bool is_integral(element e) {
    switch (e.type()) {
        case element_type::INT64:
        case element_type::UINT64:
            return true;
        case element_type::DOUBLE: {
            const double d = e.get_double().value_unsafe();
            return std::isfinite(d) && d == std::floor(d);
        }
        default:
            return false;
    }
}

inline bool type_matches(std::uint8_t types, element e) {
    switch (e.type()) {
        case element_type::ARRAY:
            return types & t_array;
        case element_type::OBJECT:
            return types & t_object;
        case element_type::STRING:
            return types & t_string;
        case element_type::INT64:
        case element_type::UINT64:
            return types & (t_number | t_integer);
        case element_type::DOUBLE:
            return (types & t_number) || ((types & t_integer) && is_integral(e));
        case element_type::BOOL:
            return types & t_boolean;
        case element_type::NULL_VALUE:
            return types & t_null;
    }
    return false;
}

inline number to_number(element e) {
    number n;
    switch (e.type()) {
        case element_type::INT64:
            n.k = number::kind::i64;
            n.i = e.get_int64().value_unsafe();
            n.d = static_cast<double>(n.i);
            break;
        case element_type::UINT64:
            n.k = number::kind::u64;
            n.u = e.get_uint64().value_unsafe();
            n.d = static_cast<double>(n.u);
            break;
        default:
            n.k = number::kind::f64;
            n.d = e.get_double().value_unsafe();
            break;
    }
    return n;
}

inline int sign_compare(auto a, auto b) {
    return a < b ? -1 : (a > b ? 1 : 0);
}

// Exact comparison of an integer with a double: converting a 64-bit integer
// to double rounds above 2^53, so ties are broken on the integer side.
inline int compare_int_double(std::int64_t i, double d) {
    if (d >= 9223372036854775808.0) {
        return -1;
    }
    if (d < -9223372036854775808.0) {
        return 1;
    }
    const double fi = static_cast<double>(i);
    if (fi != d) {
        return fi < d ? -1 : 1;
    }
    return sign_compare(i, static_cast<std::int64_t>(d));
}

inline int compare_uint_double(std::uint64_t u, double d) {
    if (d >= 18446744073709551616.0) {
        return -1;
    }
    if (d < 0) {
        return 1;
    }
    const double fu = static_cast<double>(u);
    if (fu != d) {
        return fu < d ? -1 : 1;
    }
    return sign_compare(u, static_cast<std::uint64_t>(d));
}

inline int compare(const number& a, const number& b) {
    using k = number::kind;
    if (a.k == k::f64 && b.k == k::f64) {
        return sign_compare(a.d, b.d);
    }
    if (a.k == k::f64) {
        return -compare(b, a);
    }
    if (b.k == k::f64) {
        return a.k == k::i64 ? compare_int_double(a.i, b.d) : compare_uint_double(a.u, b.d);
    }
    if (a.k == k::i64 && b.k == k::i64) {
        return sign_compare(a.i, b.i);
    }
    if (a.k == k::u64 && b.k == k::u64) {
        return sign_compare(a.u, b.u);
    }
    if (a.k == k::i64) {  // b is u64 >= 2^63 (simdjson uses i64 when it fits)
        return a.i < 0 ? -1 : sign_compare(static_cast<std::uint64_t>(a.i), b.u);
    }
    return b.i < 0 ? 1 : sign_compare(a.u, static_cast<std::uint64_t>(b.i));
}

inline bool is_multiple_of(const number& x, const number& m) {
    using k = number::kind;
    if (x.k != k::f64 && m.k != k::f64) {
        const std::uint64_t mu = m.k == k::i64 ? static_cast<std::uint64_t>(m.i) : m.u;
        const std::uint64_t xu = x.k == k::i64 ? (x.i < 0 ? 0 - static_cast<std::uint64_t>(x.i)
                                                          : static_cast<std::uint64_t>(x.i))
                                               : x.u;
        return xu % mu == 0;
    }
    const double q = x.d / m.d;
    if (!std::isfinite(q)) {
        // Overflow: fall back to the exact remainder.
        return std::fmod(x.d, m.d) == 0;
    }
    const double nearest = std::round(q);
    // Decimal multipleOf values (0.01) are not exact in binary; accept a
    // quotient within a few ulps of an integer.
    return std::fabs(q - nearest) <= 1e-9 * std::max(1.0, std::fabs(nearest));
}

inline std::size_t code_points(std::string_view s) {
    std::size_t n = 0;
    for (const char c : s) {
        n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }
    return n;
}

inline const prop_entry* find_prop(const node& n, std::string_view name) {
    const std::size_t mask = n.prop_table.size() - 1;
    for (std::size_t slot = hash_name(name) & mask;; slot = (slot + 1) & mask) {
        const std::int32_t i = n.prop_table[slot];
        if (i < 0) {
            return nullptr;
        }
        const prop_entry& pe = n.props[static_cast<std::size_t>(i)];
        if (pe.name.size() == name.size() && std::string_view(pe.name) == name) {
            return &pe;
        }
    }
}

inline bool has_key(simdjson::dom::object obj, std::string_view key) {
    for (const auto member : obj) {
        if (member.key == key) {
            return true;
        }
    }
    return false;
}

}  // namespace obsrv::schema::detail
