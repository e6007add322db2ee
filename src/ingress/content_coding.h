#pragma once

// Request bodies sent with `Content-Encoding: gzip` or `deflate`, decoded as obsrv-api's
// body-parser 1.x (`bodyParser.json()`, inflate on by default) decodes them, so a client that
// compresses its requests for Obsrv works unchanged here:
//   - the header value is lowercased; absent or empty is `identity`; `gzip` and `deflate` (the
//     zlib format, RFC 1950, as Node's zlib.createInflate reads it) are decoded; anything else,
//     lists included ("gzip, identity", "x-gzip", "br"), is 415
//     `unsupported content encoding "<value>"`.
//   - gzip: members follow each other as in Node's Gunzip (a body of two members is their
//     concatenation); after a member, bytes starting with a zero byte are padding and ignored,
//     other bytes must be another member ("incorrect header check"). deflate: one zlib stream;
//     what follows it is ignored.
//   - the decoded body is limited like the plain one (body-parser's `limit` applies to the
//     inflated bytes): beyond it, 413 - a small compressed body cannot expand without bound.
//   - corrupt or cut data is 400 with zlib's own message, as Node passes it on
//     ("incorrect header check", "incorrect data check", "unexpected end of file", ...).
// Checked against body-parser 1.20.9 on Node 20 (tests/ingress/content_coding_test.cc lists the
// cases and Node's answers).
//
// Why libdeflate decodes and zlib only explains: libdeflate inflates a request of
// /work/shared/bench/genbody.py (100 events, 39.8 KB, 7.9 KB gzip-compressed) in ~42 µs against
// zlib's ~102 µs (one-off comparison of the two on 20 such bodies, 2-vCPU Xeon VM, GCC 12 -O2,
// both from Debian 12; perf/ingest_bench BM_Decode measures our decoder), and at ~0.4 µs per
// event decoding is then still the gateway's largest cost for a compressed request (validating
// and building the message take ~0.18 µs). ISA-L's igzip (libisal-dev) inflated the same bodies
// in the same time as libdeflate. libdeflate only says "bad data", though; a body it
// refuses is read again with zlib to get the message Node would have given. Refusals are rare,
// so that costs nothing.
//
// Threading: one body_decoder per worker; not thread-safe.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

struct libdeflate_decompressor;

namespace obsrv::ingress {

enum class content_coding : std::uint8_t { identity, gzip, deflate, unsupported };

/// body-parser's reading of a Content-Encoding value (OWS already trimmed): ASCII
/// case-insensitive, empty means identity.
content_coding parse_content_coding(std::string_view value) noexcept;

/// The value as Node shows it in body-parser's 415 message: bytes read as Latin-1 (as Node's
/// HTTP parser reads header values), lowercased as JavaScript's toLowerCase does for those
/// characters, written as UTF-8 so the message is valid JSON text whatever the header held.
std::string content_coding_for_message(std::string_view value);

enum class body_decode_status : std::uint8_t { ok, too_large, corrupt };

class body_decoder {
  public:
    /// `max_decoded_bytes`: the largest decoded body accepted (gateway.max_body_bytes).
    explicit body_decoder(std::size_t max_decoded_bytes);
    ~body_decoder();
    body_decoder(const body_decoder&) = delete;
    body_decoder& operator=(const body_decoder&) = delete;

    /// Decodes `body` (coding gzip or deflate). On ok, decoded() holds the result until the next
    /// call, followed by SIMDJSON_PADDING readable bytes; on corrupt, error() holds zlib's message.
    body_decode_status decode(content_coding coding, std::string_view body);

    std::string_view decoded() const noexcept { return {_buffer.get(), _size}; }
    const std::string& error() const noexcept { return _error; }
    /// Bytes the decoder holds between requests (its output buffer).
    std::size_t capacity() const noexcept { return _capacity; }

  private:
    /// Room for at least `bytes` of output (plus the padding), keeping the first `keep` bytes.
    void reserve(std::size_t bytes, std::size_t keep);

    std::size_t _max;
    libdeflate_decompressor* _decompressor;
    std::unique_ptr<char[]> _buffer;
    std::size_t _capacity = 0;  // output bytes the buffer holds, padding not counted
    std::size_t _size = 0;
    std::string _error;
};

/// zlib's message for a gzip or deflate body it cannot decode, with Node's member rules and
/// Node's "unexpected end of file" for a cut stream; empty when zlib decodes the body, or
/// decodes more than `max_output` bytes of it.
std::string zlib_error_message(content_coding coding, std::string_view body,
                               std::size_t max_output);

}  // namespace obsrv::ingress
