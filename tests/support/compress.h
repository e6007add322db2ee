#pragma once

// Bodies compressed with zlib for tests of Content-Encoding: gzip, the zlib format (HTTP's
// "deflate") and raw deflate without a wrapper.

#include <string>
#include <string_view>

namespace obsrv::testing {

/// `text` compressed at level 6: window_bits 15 + 16 writes gzip, 15 the zlib format, -15 raw
/// deflate.
std::string zlib_compress(std::string_view text, int window_bits);

inline std::string gzip(std::string_view text) {
    return zlib_compress(text, 15 + 16);
}
inline std::string zlib_format(std::string_view text) {
    return zlib_compress(text, 15);
}
inline std::string raw_deflate(std::string_view text) {
    return zlib_compress(text, -15);
}

}  // namespace obsrv::testing
