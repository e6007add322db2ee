#pragma once

// A small blocking HTTP/1.1 client for the operator CLI (talking to a daemon's
// admin server) and for tests. One request per connection (`Connection: close`),
// one overall deadline covering connect, send and receive. Plain HTTP only.
// Thread-safe: the functions share no state.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/admin_http_server.h"
#include "common/result.h"

namespace obsrv::http {

struct client_response {
    int status = 0;
    std::string reason{};
    std::vector<header> headers{};
    std::string body{};  // de-chunked; empty for HEAD, 204 and 304

    /// Case-insensitive header lookup; empty if absent.
    std::string_view header_value(std::string_view name) const {
        return find_header(headers, name);
    }
};

struct endpoint {
    std::string host{};  // IPv6 literals without brackets
    uint16_t port = 0;
};

/// Parses "host:port" and "http://host:port" (a trailing '/' is allowed). IPv6
/// literals go in brackets: "[::1]:9100". "http://host" without a port means 80;
/// a bare "host" is an error, as is any other scheme or path.
result<endpoint> parse_endpoint(std::string_view text);

/// Responses larger than this (head plus body) are an error rather than an
/// unbounded allocation.
inline constexpr size_t max_response_bytes = size_t{64} << 20;

/// Connects to host:port (name or numeric address; every resolved address is
/// tried in turn), sends `method target` with `body` (Content-Length is sent for
/// a non-empty body and always for POST, PUT and PATCH) and reads the whole
/// response, framed by Content-Length, chunked encoding or the connection
/// closing. Interim 1xx responses are skipped. `timeout` bounds the whole
/// exchange except name resolution. Any non-2xx status is still a value: only
/// transport and protocol failures are errors.
result<client_response> send_request(std::string_view method, std::string_view host, uint16_t port,
                                     std::string_view target, std::string_view body = {},
                                     std::string_view content_type = {},
                                     std::chrono::milliseconds timeout = std::chrono::seconds(5));

result<client_response> get(std::string_view host, uint16_t port, std::string_view target,
                            std::chrono::milliseconds timeout = std::chrono::seconds(5));

result<client_response> post(std::string_view host, uint16_t port, std::string_view target,
                             std::string_view body, std::string_view content_type,
                             std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace obsrv::http
