#pragma once

// A deliberately low-level HTTP client for server tests: it sends exactly the
// bytes given (split, slow, pipelined, malformed) and parses responses one by
// one, so tests can check framing the way a real client would see it.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace obsrv::testing {

struct parsed_response {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::string header(std::string_view name) const;  // case-insensitive; empty if absent
};

class raw_http_client {
  public:
    explicit raw_http_client(uint16_t port, const char* host = "127.0.0.1");
    ~raw_http_client();
    raw_http_client(const raw_http_client&) = delete;
    raw_http_client& operator=(const raw_http_client&) = delete;

    bool connected() const { return _fd >= 0; }
    bool send(std::string_view bytes);
    /// Half-closes the sending side.
    void shutdown_write();
    /// Closes with a reset (SO_LINGER 0), as a crashed client would.
    void reset();

    /// The next response (Content-Length framed; HEAD responses need
    /// `head_request`), or nullopt on timeout or close.
    std::optional<parsed_response> read_response(
        std::chrono::milliseconds timeout = std::chrono::seconds(10), bool head_request = false);

    /// Raw bytes available within `timeout` (e.g. "HTTP/1.1 100 Continue").
    std::string read_some(std::chrono::milliseconds timeout);

    /// True when the server closed the connection (EOF or reset) within `timeout`.
    bool closed_by_peer(std::chrono::milliseconds timeout);

  private:
    bool fill(std::chrono::steady_clock::time_point deadline);

    int _fd = -1;
    std::string _buffer;
    bool _eof = false;
};

}  // namespace obsrv::testing
