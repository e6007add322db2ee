#pragma once

// Incremental HTTP/1.1 response parser for the load generator. It keeps only
// what it needs to frame responses (status, keep-alive, body length); bodies
// are skipped, not stored, so a 1 MB response costs no copy. Input may be cut
// anywhere and several pipelined responses may arrive in one read.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace obsrv::loadgen {

struct response_info {
    int status = 0;
    bool keep_alive = true;    // false after "Connection: close" or HTTP/1.0 without keep-alive
    uint64_t body_bytes = 0;   // payload bytes (chunk data only for chunked bodies)
    uint64_t total_bytes = 0;  // bytes on the wire for this response, headers included
};

enum class parse_status {
    need_more,  // every byte was consumed; the response is not complete yet
    complete,   // a whole response ended at `consumed`; see last()
    error,      // malformed or over a limit; the connection must be dropped
};

class response_parser {
  public:
    static constexpr size_t max_header_bytes = 64 * 1024;
    static constexpr size_t max_line_bytes = 4 * 1024;  // chunk-size and trailer lines

    struct step {
        size_t consumed = 0;
        parse_status status = parse_status::need_more;
    };

    /// Consumes bytes until one response completes (then stops right after it,
    /// so the caller can account for it and call again with the rest) or the
    /// input runs out. Interim 1xx responses are skipped.
    step feed(std::string_view data);

    /// The peer closed the connection: completes a body delimited by the close,
    /// an error if a response was cut short, need_more if between responses.
    parse_status finish();

    /// The response that the last `complete` returned.
    const response_info& last() const { return _last; }
    /// True between responses (nothing partially parsed).
    bool idle() const { return _state == state::head && _head.empty(); }
    const std::string& error_message() const { return _error; }
    void reset();

  private:
    enum class state {
        head,
        body_length,
        body_until_close,
        chunk_size,
        chunk_data,
        chunk_data_end,
        trailers,
        failed,
    };

    bool parse_head(std::string_view head);
    step fail(size_t consumed, std::string message);
    void start_response();

    state _state = state::head;
    std::string _head;        // header bytes accumulated across reads
    std::string _line;        // chunk-size or trailer line accumulated across reads
    uint64_t _remaining = 0;  // body or chunk bytes still to skip
    response_info _current{};
    response_info _last{};
    std::string _error;
};

}  // namespace obsrv::loadgen
