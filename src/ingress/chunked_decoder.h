#pragma once

// Incremental decoder for "Transfer-Encoding: chunked" request bodies (RFC 9112 section 7.1).
//
// Lifecycle: one decoder per connection. After parse_request_head() reports a chunked body,
// feed() every byte that follows the head, in as many pieces as they arrive, until it returns
// complete; bytes after `consumed` then belong to the next (pipelined) request. Call reset()
// before the next chunked body. After an error the decoder stays failed until reset(); the
// connection must be closed because the end of the body is unknown.
//
// Threading: none; a decoder belongs to one thread at a time (the connection's).
//
// Output: chunk data is handed to a sink as string_views into the caller's input, one call per
// contiguous run (never per byte), so the decoder itself copies and allocates nothing. The
// std::string overload appends, and may allocate as the string grows.
//
// Strictness, chosen so that no proxy in front can frame the body differently:
//   - chunk-size: 1 to 16 hex digits (so it cannot overflow 64 bits); whitespace after it only
//     before a ';' (BWS of a chunk extension), never before the CRLF.
//   - chunk extensions (';' ...) are ignored, but their bytes, with any BWS before them, are
//     counted against max_extension_bytes over the whole body: a tiny chunk with a huge
//     extension repeated forever would otherwise cost CPU without growing the body.
//     CTLs (HTAB excepted) and DEL inside an extension are errors.
//   - every line ends with CRLF: bare LF and bare CR are errors, and so is anything but CRLF
//     right after the chunk data.
//   - the sum of the chunk sizes is limited to max_body_bytes, checked as soon as a chunk size
//     is read (before its data arrives); exactly max_body_bytes is accepted.
//   - trailer fields are checked for shape (token ':' value, no obs-fold, no CTLs) and dropped;
//     the trailer section including its final CRLF is limited to max_trailer_bytes.
//
// Usage:
//   obsrv::ingress::chunked_decoder dec({.max_body_bytes = limits.max_body_bytes});
//   size_t used = 0;
//   switch (dec.feed(bytes, used, body)) { ... }   // body: std::string or a sink

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace obsrv::ingress {

struct chunked_limits {
    uint64_t max_body_bytes = 5 * 1024 * 1024;  // decoded bytes
    size_t max_trailer_bytes = 16 * 1024;       // trailer fields + final CRLF
    size_t max_extension_bytes = 1024;          // all chunk extensions of one body together
};

enum class chunked_error : uint8_t {
    none,
    bad_chunk_size,       // 400: not hex, more than 16 digits, whitespace before CRLF, ...
    bad_chunk_extension,  // 400: bad byte in an extension, or max_extension_bytes exceeded
    bad_line_ending,      // 400: bare LF or bare CR in a chunk-size or trailer line
    missing_crlf,         // 400: chunk data not followed by CRLF
    bad_trailer,          // 400: malformed trailer field
    body_too_large,       // 413
    trailer_too_large,    // 431
};

/// The response status for an error; 200 for chunked_error::none.
int to_http_status(chunked_error e) noexcept;

/// Stable snake_case name for logs and metric labels.
std::string_view to_string(chunked_error e) noexcept;

enum class decode_status : uint8_t { complete, incomplete, error };

class chunked_decoder {
  public:
    explicit chunked_decoder(const chunked_limits& limits = {}) noexcept : _limits(limits) {}

    /// Decodes from the start of `input`, calling sink(std::string_view) for each run of chunk
    /// data. `consumed` is set to the bytes used: all of them for incomplete, up to and
    /// including the final CRLF for complete, up to the offending byte for error. Once
    /// complete (or failed), further calls consume nothing and return the same status.
    template <typename Sink>
    requires std::invocable<Sink&, std::string_view> decode_status feed(std::string_view input,
                                                                        size_t& consumed,
                                                                        Sink&& sink) {
        size_t pos = 0;
        for (;;) {
            std::string_view data;
            const step s = _step(input, pos, data);
            if (s != step::data) {
                consumed = pos;
                return static_cast<decode_status>(s);
            }
            sink(data);
        }
    }

    /// Same, appending the data to `out`.
    decode_status feed(std::string_view input, size_t& consumed, std::string& out) {
        return feed(input, consumed, [&out](std::string_view data) { out.append(data); });
    }

    /// Ready for the next body; keeps the limits.
    void reset() noexcept;

    chunked_error error() const noexcept { return _error; }
    /// Decoded bytes handed to the sink so far in this body.
    uint64_t body_bytes() const noexcept { return _announced - _remaining; }

  private:
    // The first three values match decode_status so feed() can convert with a cast.
    enum class step : uint8_t { complete, incomplete, error, data };
    static_assert(static_cast<int>(decode_status::complete) == static_cast<int>(step::complete));
    static_assert(static_cast<int>(decode_status::incomplete) ==
                  static_cast<int>(step::incomplete));
    static_assert(static_cast<int>(decode_status::error) == static_cast<int>(step::error));

    // Order matters: every state from trailer_line on counts against max_trailer_bytes.
    enum class state : uint8_t {
        size_first,  // first hex digit of a chunk-size
        size,        // further hex digits
        size_bws,    // SP/HTAB after the digits: only ';' may follow
        extension,   // after ';', up to CR
        size_lf,     // LF of the chunk-size line
        data,        // _remaining bytes of chunk data
        data_cr,     // CRLF after the data
        data_lf,
        trailer_line,  // start of a trailer field or of the final CRLF
        trailer_name,
        trailer_value,
        trailer_lf,
        final_lf,
        done,
        failed,
    };

    // Advances from input[pos]; returns data (with `data` set and pos past it) or a status.
    step _step(std::string_view input, size_t& pos, std::string_view& data) noexcept;
    step _fail(chunked_error e) noexcept;

    chunked_limits _limits;
    state _state = state::size_first;
    chunked_error _error = chunked_error::none;
    uint8_t _digits = 0;
    uint64_t _chunk_size = 0;
    uint64_t _remaining = 0;  // data bytes left in the current chunk
    uint64_t _announced = 0;  // sum of the chunk sizes read so far
    size_t _extension_bytes = 0;
    size_t _trailer_bytes = 0;
};

}  // namespace obsrv::ingress
