#include "schema/uri.h"

#include <optional>

#include "common/hex.h"

namespace obsrv::schema::detail {

namespace {

struct uri_parts {
    std::optional<std::string_view> scheme;
    std::optional<std::string_view> authority;
    std::string_view path;
    std::optional<std::string_view> query;
    std::optional<std::string_view> fragment;
};

// RFC 3986 appendix B, written out instead of a regex.
uri_parts parse(std::string_view s) {
    uri_parts p;
    if (const auto hash = s.find('#'); hash != std::string_view::npos) {
        p.fragment = s.substr(hash + 1);
        s = s.substr(0, hash);
    }
    if (const auto q = s.find('?'); q != std::string_view::npos) {
        p.query = s.substr(q + 1);
        s = s.substr(0, q);
    }
    const auto colon = s.find(':');
    if (colon != std::string_view::npos && colon > 0 && s.find('/') > colon) {
        p.scheme = s.substr(0, colon);
        s = s.substr(colon + 1);
    }
    if (s.starts_with("//")) {
        s.remove_prefix(2);
        const auto slash = s.find('/');
        p.authority = s.substr(0, slash);
        s = slash == std::string_view::npos ? std::string_view() : s.substr(slash);
    }
    p.path = s;
    return p;
}

std::string remove_dot_segments(std::string_view in) {
    std::string out;
    while (!in.empty()) {
        if (in.starts_with("../")) {
            in.remove_prefix(3);
        } else if (in.starts_with("./")) {
            in.remove_prefix(2);
        } else if (in.starts_with("/./")) {
            in.remove_prefix(2);
        } else if (in == "/.") {
            in = "/";
        } else if (in.starts_with("/../") || in == "/..") {
            in = in.size() == 3 ? std::string_view("/") : in.substr(3);
            const auto last = out.rfind('/');
            out.erase(last == std::string::npos ? 0 : last);
        } else if (in == "." || in == "..") {
            in = {};
        } else {
            const auto next = in.find('/', in.front() == '/' ? 1 : 0);
            out.append(in.substr(0, next));
            in = next == std::string_view::npos ? std::string_view() : in.substr(next);
        }
    }
    return out;
}

std::string merge(const uri_parts& base, std::string_view ref_path) {
    if (base.authority && base.path.empty()) {
        return "/" + std::string(ref_path);
    }
    const auto slash = base.path.rfind('/');
    if (slash == std::string_view::npos) {
        return std::string(ref_path);
    }
    return std::string(base.path.substr(0, slash + 1)) + std::string(ref_path);
}

std::string compose(const std::optional<std::string_view>& scheme,
                    const std::optional<std::string_view>& authority, std::string_view path,
                    const std::optional<std::string_view>& query,
                    const std::optional<std::string_view>& fragment) {
    std::string out;
    if (scheme) {
        out.append(*scheme).push_back(':');
    }
    if (authority) {
        out.append("//").append(*authority);
    }
    out.append(path);
    if (query) {
        out.append("?").append(*query);
    }
    if (fragment) {
        out.append("#").append(*fragment);
    }
    return out;
}

}  // namespace

std::string resolve_uri(std::string_view base_text, std::string_view ref_text) {
    const uri_parts r = parse(ref_text);
    const uri_parts b = parse(base_text);
    if (r.scheme) {
        return compose(r.scheme, r.authority, remove_dot_segments(r.path), r.query, r.fragment);
    }
    if (r.authority) {
        return compose(b.scheme, r.authority, remove_dot_segments(r.path), r.query, r.fragment);
    }
    if (r.path.empty()) {
        return compose(b.scheme, b.authority, b.path, r.query ? r.query : b.query, r.fragment);
    }
    if (r.path.front() == '/') {
        return compose(b.scheme, b.authority, remove_dot_segments(r.path), r.query, r.fragment);
    }
    const std::string merged = merge(b, r.path);
    return compose(b.scheme, b.authority, remove_dot_segments(merged), r.query, r.fragment);
}

split_uri split_fragment(std::string_view uri) {
    split_uri s;
    const auto hash = uri.find('#');
    if (hash == std::string_view::npos) {
        s.base = uri;
        return s;
    }
    s.base = uri.substr(0, hash);
    s.fragment = uri.substr(hash + 1);
    s.has_fragment = true;
    return s;
}

std::string percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size() && hex_digit_value(text[i + 1]) >= 0 &&
            hex_digit_value(text[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex_digit_value(text[i + 1]) * 16 +
                                            hex_digit_value(text[i + 2])));
            i += 2;
        } else {
            out.push_back(text[i]);
        }
    }
    return out;
}

}  // namespace obsrv::schema::detail
