#include "common/deflate_compress.h"

#include <zlib.h>

#include "common/assert.h"

namespace obsrv {

std::string deflate_compress(std::string_view text, deflate_wrapper wrapper) {
    const int window_bits = wrapper == deflate_wrapper::gzip   ? MAX_WBITS + 16
                            : wrapper == deflate_wrapper::zlib ? MAX_WBITS
                                                               : -MAX_WBITS;
    z_stream z{};
    OBSRV_RELEASE_ASSERT(deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits, 8,
                                      Z_DEFAULT_STRATEGY) == Z_OK,
                         "zlib deflateInit2 failed");
    std::string out(deflateBound(&z, text.size()), '\0');
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    z.avail_in = static_cast<uInt>(text.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    const int r = deflate(&z, Z_FINISH);
    OBSRV_RELEASE_ASSERT(r == Z_STREAM_END, "zlib deflate did not finish ({})", r);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

}  // namespace obsrv
