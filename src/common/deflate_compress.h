#pragma once

// Compression with zlib, for what sends compressed bodies: the load generator's --gzip, and the
// tests and benchmarks of the gateway's Content-Encoding decoding.

#include <string>
#include <string_view>

namespace obsrv {

enum class deflate_wrapper {
    gzip,  // RFC 1952, HTTP's Content-Encoding: gzip
    zlib,  // RFC 1950, HTTP's Content-Encoding: deflate
    raw,   // RFC 1951 without a wrapper (what HTTP's deflate is not)
};

/// `text` compressed in one gzip member or zlib stream at zlib's default level (6).
std::string deflate_compress(std::string_view text, deflate_wrapper wrapper);

}  // namespace obsrv
