#pragma once

// Pre-built requests for the load generator. Every request the tool sends is
// one of a pool of immutable templates (request line, headers and body in one
// buffer) shared by all threads; nothing is generated or copied per request.
//
// Generated Obsrv v2 bodies must still carry a unique params.msgid per request
// and a unique "mid" per event, or every pass over the pool would look like a
// replay to the gateway's dedup. Templates therefore have fixed-width "holes"
// (id_width bytes) where the request's id goes: the sender writes the id once
// into a per-request 16-byte buffer and the iovec list alternates template
// pieces and that buffer (see segments()). msgid = "<prefix>-<id>" and the
// mid of event k is "<prefix>-<id>-<k>".

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "settings.h"

namespace obsrv::loadgen {

inline constexpr size_t id_width = 16;

/// Writes `counter` as id_width lower-case hex digits.
void format_id(uint64_t counter, char* out);

/// The id of the n-th request of worker `thread`: unique across threads and
/// runs with the same prefix only as long as n < 2^40.
inline uint64_t request_id(unsigned thread, uint64_t n) {
    return (static_cast<uint64_t>(thread) << 40) | n;
}

enum class invalid_kind : uint8_t { none, missing_msgid, broken_json };

struct request_template {
    std::string bytes;            // request head + body; holes hold '0's
    std::vector<uint32_t> holes;  // ascending offsets of id_width-byte holes in `bytes`
    size_t body_offset = 0;       // where the body starts in `bytes`
    uint32_t events = 0;          // events in the body (counted toward events/s on 2xx)
    uint32_t duplicates = 0;      // events repeating an earlier mid of the same body
    invalid_kind invalid = invalid_kind::none;
    size_t plain_body_bytes = 0;  // the body before compression (gzip_bodies); 0 if sent as is

    std::string_view body() const { return std::string_view(bytes).substr(body_offset); }
    /// The body's size before any Content-Encoding.
    size_t decoded_body_size() const {
        return plain_body_bytes != 0 ? plain_body_bytes : bytes.size() - body_offset;
    }
    /// Pieces between holes: holes.size() + 1 of them.
    size_t pieces() const { return holes.size() + 1; }
    std::string_view piece(size_t i) const {
        const size_t begin = i == 0 ? 0 : holes[i - 1] + id_width;
        const size_t end = i < holes.size() ? holes[i] : bytes.size();
        return std::string_view(bytes).substr(begin, end - begin);
    }
};

/// What goes in front of every body.
struct request_head {
    std::string method = "POST";
    std::string target = "/";
    std::string host;                  // Host header value
    std::vector<std::string> headers;  // "Name: value"
};

struct generate_options {
    unsigned pool_size = 256;
    unsigned events_per_request = 100;
    unsigned event_size = 400;
    double duplicate_share = 0;
    double invalid_share = 0;
    unsigned actors = 1000000;  // actor.id is user-<k>, k drawn from [0, actors)
    std::string msgid_prefix = "loadgen";
    uint64_t seed = 42;
};

class body_pool {
  public:
    /// Obsrv v2 envelopes {"id":"api.data.in","ver":"v2","ts":..,"params":{"msgid":..},
    /// "data":[events]} with telemetry-like events; plus, when invalid_share > 0,
    /// invalid templates (no params.msgid, or JSON cut short).
    static result<body_pool> generate(const generate_options& opts, const request_head& head);
    /// One body sent as is.
    static result<body_pool> from_file(const std::string& path, const request_head& head);
    /// Every *.json in `dir`, sorted by name.
    static result<body_pool> from_dir(const std::string& dir, const request_head& head);

    /// Compresses every body with gzip (zlib, default level), `head` (which must carry
    /// `Content-Encoding: gzip`) in front. Holes cannot be filled inside compressed bytes: they
    /// are filled first with an id fixed per template, so the templates lose their holes.
    void gzip_bodies(const request_head& head);

    size_t size() const { return _templates.size(); }
    const request_template& at(size_t i) const { return _templates[i]; }
    /// Templates sent for valid requests / for the invalid share.
    size_t valid_count() const { return _valid; }
    size_t invalid_count() const { return _templates.size() - _valid; }
    double invalid_share() const { return _invalid_share; }
    bool generated() const { return _generated; }
    double average_request_bytes() const;

  private:
    std::vector<request_template> _templates;  // valid ones first
    size_t _valid = 0;
    double _invalid_share = 0;
    bool _generated = false;
};

/// A worker's walk through the pool: round-robin over the valid templates,
/// with invalid ones interleaved so that exactly floor(n * share) of the
/// first n requests are invalid (no randomness, so short runs honour it too).
class body_cursor {
  public:
    body_cursor(const body_pool& pool, size_t start);
    size_t next();

  private:
    const body_pool* _pool;
    uint64_t _n = 0;
    size_t _valid_next;
    size_t _invalid_next;
};

/// The bytes of a request with its holes filled with `id` (tests, debugging).
std::string materialize(const request_template& t, uint64_t id);

/// Events in a JSON body: the length of "data" when it is an array, of
/// "data.events" or "events" when those are arrays, 1 for other objects, 0
/// when the body is not JSON.
uint32_t count_events(std::string_view json);

}  // namespace obsrv::loadgen
