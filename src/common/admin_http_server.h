#pragma once

// A small HTTP/1.1 server for the daemon's admin surface: /metrics, /health,
// /ready and a few JSON control endpoints. It serves a few requests per second
// and is deliberately simple and defensive rather than fast: one thread, poll(),
// one request per connection (`Connection: close`), strict request parsing and
// hard limits on everything a client controls. The ingestion hot path never goes
// through here.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace obsrv::http {

struct header {
    std::string name{};
    std::string value{};
};

/// The value of the first header called `name` (ASCII case-insensitive), or an
/// empty view if there is none.
std::string_view find_header(const std::vector<header>& headers, std::string_view name);

/// ASCII case-insensitive equality, as header names and methods need.
bool iequals(std::string_view a, std::string_view b);

// Grammar checks shared by the server and the client (RFC 9110 section 5.6).
namespace detail {
bool is_token(std::string_view s);              // non-empty, only tchar: method and header names
bool is_field_value(std::string_view s);        // no control characters other than HTAB
std::string_view trim_ows(std::string_view s);  // strips leading and trailing SP / HTAB
}  // namespace detail

/// A parsed request as handed to a handler. `path` is the target up to the first
/// '?', `query` the rest (without the '?'); neither is percent-decoded.
struct request {
    std::string method{};
    std::string path{};
    std::string query{};
    std::vector<header> headers{};
    std::string body{};

    /// Case-insensitive header lookup; empty if absent.
    std::string_view header_value(std::string_view name) const {
        return find_header(headers, name);
    }
};

/// What a handler returns. The server adds Content-Length, Connection and Date;
/// handler headers with those names (or Content-Type or Transfer-Encoding, or
/// with CR/LF in them) are dropped and reported through on_error.
struct response {
    int status = 200;
    std::string content_type = "text/plain; charset=utf-8";
    std::string body{};
    std::vector<header> headers{};
};

using handler = std::function<response(const request&)>;

/// The standard reason phrase for `status`, or "Unknown" for codes without one.
const char* reason_phrase(int status);

/// Lifecycle: construct, register routes with route(), start() once, stop()
/// (or destroy) once done. A stopped server cannot be restarted.
///
/// Threading: route(), start(), stop() and the destructor belong to the owning
/// thread and must not race each other. start() spawns one thread, named
/// "admin", which accepts connections, parses requests and runs the handlers
/// and on_error; a handler that blocks therefore delays every other client and
/// stop(). A handler may call stop(): it then only signals the loop to end, and
/// the owner's later stop() or the destructor joins the thread.
class admin_server {
  public:
    struct options {
        std::string bind_address = "127.0.0.1";       // numeric IPv4/IPv6 or a resolvable name
        uint16_t port = 0;                            // 0 picks an ephemeral port; see port()
        size_t max_header_bytes = 16 * 1024;          // request line + headers; 431 beyond
        size_t max_body_bytes = 1 << 20;              // Content-Length bodies; 413 beyond
        std::chrono::milliseconds io_timeout{10000};  // a connection idle this long is closed
        size_t max_connections = 64;  // beyond this, connections get a 503 and are closed
        // Called on the admin thread for things worth logging (accept failures,
        // handlers that throw, invalid handler responses). Must not throw.
        std::function<void(std::string_view)> on_error{};
    };

    explicit admin_server(options opts);
    ~admin_server();  // stop()s and joins

    admin_server(const admin_server&) = delete;
    admin_server& operator=(const admin_server&) = delete;

    /// Registers `h` for requests whose method and path match exactly (the query
    /// string is not part of the match). A GET route also answers HEAD. Must be
    /// called before start(); registering the same method and path twice is a bug.
    void route(std::string method, std::string path, handler h);

    /// Binds (SO_REUSEADDR), listens and spawns the admin thread.
    status start();

    /// Ends the loop, closes every connection and joins the thread. Idempotent,
    /// and prompt even while clients hold connections open.
    void stop();

    /// The bound port once start() succeeded (the real one when options.port is 0).
    uint16_t port() const;

  private:
    struct impl;
    std::unique_ptr<impl> _impl;
};

}  // namespace obsrv::http
