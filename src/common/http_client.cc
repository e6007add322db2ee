#include "common/http_client.h"

#include <algorithm>
#include <cerrno>
#include <memory>
#include <netdb.h>
#include <optional>
#include <poll.h>
#include <sys/socket.h>
#include <system_error>
#include <unistd.h>
#include <utility>

#include <climits>
#include <fmt/format.h>

namespace obsrv::http {

namespace {

using steady = std::chrono::steady_clock;

// Status and header lines longer than this mean we are not talking to an HTTP server.
constexpr size_t max_line_bytes = 64 * 1024;
constexpr size_t read_chunk = 16 * 1024;

class unique_fd {
  public:
    unique_fd() = default;
    explicit unique_fd(int fd) : _fd(fd) {}
    ~unique_fd() {
        if (_fd >= 0) {
            ::close(_fd);
        }
    }
    unique_fd(unique_fd&& other) noexcept : _fd(std::exchange(other._fd, -1)) {}
    unique_fd& operator=(unique_fd&& other) noexcept {
        std::swap(_fd, other._fd);
        return *this;
    }
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;

    int get() const { return _fd; }
    explicit operator bool() const { return _fd >= 0; }

  private:
    int _fd = -1;
};

std::string errno_text(int err) {
    return std::system_category().message(err);
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

std::string host_port(std::string_view host, uint16_t port) {
    if (host.find(':') != std::string_view::npos) {
        return fmt::format("[{}]:{}", host, port);
    }
    return fmt::format("{}:{}", host, port);
}

// poll() for `events` until `deadline`: 1 ready, 0 timed out, -1 failed (errno set).
int wait_for(int fd, short events, steady::time_point deadline) {
    while (true) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - steady::now()).count();
        if (left <= 0) {
            return 0;
        }
        pollfd pfd{fd, events, 0};
        int rc = ::poll(&pfd, 1, static_cast<int>(std::min<decltype(left)>(left, INT_MAX)));
        if (rc < 0 && errno == EINTR) {
            continue;
        }
        return rc;
    }
}

result<unique_fd> connect_to(std::string_view host, uint16_t port, steady::time_point deadline,
                             std::chrono::milliseconds timeout) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    std::string host_text(host);
    std::string service = std::to_string(port);
    int rc = ::getaddrinfo(host_text.c_str(), service.c_str(), &hints, &found);
    if (rc != 0) {
        return make_error("cannot resolve '{}': {}", host, ::gai_strerror(rc));
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, &::freeaddrinfo);

    std::string last_error = "no usable address";
    for (const addrinfo* ai = addresses.get(); ai != nullptr; ai = ai->ai_next) {
        unique_fd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        if (!fd) {
            last_error = errno_text(errno);
            continue;
        }
        if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) == 0) {
            return fd;
        }
        if (errno != EINPROGRESS && errno != EINTR) {
            last_error = errno_text(errno);
            continue;
        }
        int ready = wait_for(fd.get(), POLLOUT, deadline);
        if (ready == 0) {
            return make_error("connect to {} timed out after {} ms", host_port(host, port),
                              timeout.count());
        }
        if (ready < 0) {
            last_error = errno_text(errno);
            continue;
        }
        int err = 0;
        socklen_t len = sizeof(err);
        if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) {
            err = errno;
        }
        if (err != 0) {
            last_error = errno_text(err);
            continue;
        }
        return fd;
    }
    return make_error("connect to {} failed: {}", host_port(host, port), last_error);
}

// Incremental response parser: feed() bytes as they arrive, eof() when the
// server closes. Lines may end in CRLF or a bare LF (lenient: this is a client).
class response_reader {
  public:
    explicit response_reader(bool head_request) : _head_request(head_request) {}

    // True once the response is complete.
    result<bool> feed(const char* data, size_t size) {
        _in.append(data, size);
        if (_in.size() - _pos + _response.body.size() > max_response_bytes) {
            return make_error("response larger than {} bytes", max_response_bytes);
        }
        return advance();
    }

    result<bool> eof() {
        if (_stage == stage::until_close || _stage == stage::done) {
            _stage = stage::done;
            return true;
        }
        if (_stage == stage::status_line && _in.size() == _pos) {
            return make_error("connection closed without a response");
        }
        return make_error("connection closed before the response was complete");
    }

    client_response take() { return std::move(_response); }

  private:
    enum class stage {
        status_line,
        headers,
        fixed_body,
        until_close,
        chunk_size,
        chunk_data,
        chunk_data_end,
        trailers,
        done
    };

    result<bool> advance() {
        while (true) {
            switch (_stage) {
                case stage::status_line: {
                    auto line = next_line();
                    if (!line) {
                        return need_more_line();
                    }
                    if (auto st = parse_status_line(*line); !st) {
                        return st.error();
                    }
                    _stage = stage::headers;
                    break;
                }
                case stage::headers: {
                    auto line = next_line();
                    if (!line) {
                        return need_more_line();
                    }
                    if (line->empty()) {
                        if (auto st = end_of_head(); !st) {
                            return st.error();
                        }
                        break;
                    }
                    size_t colon = line->find(':');
                    std::string_view name = line->substr(0, colon);
                    if (colon == std::string_view::npos || !detail::is_token(name)) {
                        return make_error("malformed response header line");
                    }
                    _response.headers.push_back(header{
                        std::string(name), std::string(detail::trim_ows(line->substr(colon + 1)))});
                    break;
                }
                case stage::fixed_body:
                case stage::chunk_data: {
                    size_t take = std::min(_remaining, _in.size() - _pos);
                    _response.body.append(_in, _pos, take);
                    _pos += take;
                    _remaining -= take;
                    compact();
                    if (_remaining > 0) {
                        return false;
                    }
                    _stage = _stage == stage::fixed_body ? stage::done : stage::chunk_data_end;
                    break;
                }
                case stage::until_close:
                    _response.body.append(_in, _pos);
                    _pos = _in.size();
                    compact();
                    return false;
                case stage::chunk_size: {
                    auto line = next_line();
                    if (!line) {
                        return need_more_line();
                    }
                    auto size = parse_chunk_size(*line);
                    if (!size) {
                        return make_error("malformed chunk size line");
                    }
                    if (*size > max_response_bytes) {
                        return make_error("response larger than {} bytes", max_response_bytes);
                    }
                    _remaining = *size;
                    _stage = *size == 0 ? stage::trailers : stage::chunk_data;
                    break;
                }
                case stage::chunk_data_end: {
                    auto line = next_line();
                    if (!line) {
                        return need_more_line();
                    }
                    if (!line->empty()) {
                        return make_error("chunk data longer than its declared size");
                    }
                    _stage = stage::chunk_size;
                    break;
                }
                case stage::trailers: {
                    auto line = next_line();  // trailer fields are read and dropped
                    if (!line) {
                        return need_more_line();
                    }
                    if (line->empty()) {
                        _stage = stage::done;
                    }
                    break;
                }
                case stage::done:
                    return true;
            }
        }
    }

    // The next line without its terminator, or nothing if it is incomplete.
    std::optional<std::string_view> next_line() {
        size_t eol = _in.find('\n', _pos);
        if (eol == std::string::npos) {
            return std::nullopt;
        }
        std::string_view line(_in.data() + _pos, eol - _pos);
        if (!line.empty() && line.back() == '\r') {
            line.remove_suffix(1);
        }
        _pos = eol + 1;
        return line;
    }

    result<bool> need_more_line() {
        if (_in.size() - _pos > max_line_bytes) {
            return make_error("response line longer than {} bytes", max_line_bytes);
        }
        return false;
    }

    void compact() {
        if (_pos >= read_chunk) {
            _in.erase(0, _pos);
            _pos = 0;
        }
    }

    status parse_status_line(std::string_view line) {
        // HTTP/1.x SP 3DIGIT [SP reason]
        bool ok = line.size() >= 12 && line.substr(0, 7) == "HTTP/1." && is_digit(line[7]) &&
                  line[8] == ' ' && is_digit(line[9]) && is_digit(line[10]) && is_digit(line[11]) &&
                  (line.size() == 12 || line[12] == ' ');
        if (!ok) {
            return make_error("malformed status line '{}'", line.substr(0, 80));
        }
        _response.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
        _response.reason = line.size() > 13 ? line.substr(13) : "";
        return {};
    }

    status end_of_head() {
        int code = _response.status;
        if (code >= 100 && code < 200) {
            if (code == 101) {
                return make_error("unexpected 101 Switching Protocols");
            }
            _response = client_response{};  // interim response: the real one follows
            _stage = stage::status_line;
            return {};
        }
        if (_head_request || code == 204 || code == 304) {
            _stage = stage::done;
            return {};
        }
        std::string_view transfer_encoding = _response.header_value("transfer-encoding");
        if (!transfer_encoding.empty()) {
            // Only the final coding decides the framing (RFC 9112 section 6.3).
            size_t comma = transfer_encoding.rfind(',');
            std::string_view last = detail::trim_ows(comma == std::string_view::npos
                                                         ? transfer_encoding
                                                         : transfer_encoding.substr(comma + 1));
            _stage = iequals(last, "chunked") ? stage::chunk_size : stage::until_close;
            return {};
        }
        std::optional<size_t> length;
        for (const header& h : _response.headers) {
            if (!iequals(h.name, "content-length")) {
                continue;
            }
            if (h.value.empty() || h.value.size() > 18 ||
                !std::all_of(h.value.begin(), h.value.end(), is_digit)) {
                return make_error("malformed Content-Length '{}'", h.value);
            }
            size_t n = std::stoull(h.value);
            if (length && *length != n) {
                return make_error("conflicting Content-Length headers");
            }
            length = n;
        }
        if (!length) {
            _stage = stage::until_close;
            return {};
        }
        if (*length > max_response_bytes) {
            return make_error("response larger than {} bytes", max_response_bytes);
        }
        _remaining = *length;
        _stage = _remaining == 0 ? stage::done : stage::fixed_body;
        return {};
    }

    static std::optional<size_t> parse_chunk_size(std::string_view line) {
        line = detail::trim_ows(line.substr(0, line.find(';')));  // drops chunk extensions
        if (line.empty() || line.size() > 15) {
            return std::nullopt;
        }
        size_t n = 0;
        for (char c : line) {
            int digit = 0;
            if (c >= '0' && c <= '9') {
                digit = c - '0';
            } else if (c >= 'a' && c <= 'f') {
                digit = c - 'a' + 10;
            } else if (c >= 'A' && c <= 'F') {
                digit = c - 'A' + 10;
            } else {
                return std::nullopt;
            }
            n = n * 16 + static_cast<size_t>(digit);
        }
        return n;
    }

    const bool _head_request;
    stage _stage = stage::status_line;
    std::string _in;
    size_t _pos = 0;
    size_t _remaining = 0;
    client_response _response;
};

bool is_host_char(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '.' || c == '_' || c == ':' || c == '%';
}

}  // namespace

result<endpoint> parse_endpoint(std::string_view text) {
    std::string_view rest = text;
    bool has_scheme = false;
    if (size_t scheme_end = rest.find("://"); scheme_end != std::string_view::npos) {
        std::string_view scheme = rest.substr(0, scheme_end);
        if (!iequals(scheme, "http")) {
            return make_error("unsupported scheme '{}' in '{}': only http is supported", scheme,
                              text);
        }
        has_scheme = true;
        rest.remove_prefix(scheme_end + 3);
        if (!rest.empty() && rest.back() == '/') {
            rest.remove_suffix(1);
        }
    }
    if (rest.find('/') != std::string_view::npos) {
        return make_error("unexpected path in '{}': expected host:port or http://host:port", text);
    }

    std::string_view host;
    std::optional<std::string_view> port_text;
    if (!rest.empty() && rest.front() == '[') {
        size_t close = rest.find(']');
        if (close == std::string_view::npos) {
            return make_error("missing ']' in '{}'", text);
        }
        host = rest.substr(1, close - 1);
        std::string_view after = rest.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                return make_error("unexpected '{}' after ']' in '{}'", after, text);
            }
            port_text = after.substr(1);
        }
    } else {
        size_t colon = rest.find(':');
        if (colon != std::string_view::npos &&
            rest.find(':', colon + 1) != std::string_view::npos) {
            return make_error("IPv6 address in '{}' needs brackets, as in [::1]:9100", text);
        }
        host = rest.substr(0, colon);
        if (colon != std::string_view::npos) {
            port_text = rest.substr(colon + 1);
        }
    }
    if (host.empty()) {
        return make_error("missing host in '{}'", text);
    }
    if (!std::all_of(host.begin(), host.end(), is_host_char)) {
        return make_error("invalid host '{}' in '{}'", host, text);
    }
    if (!port_text) {
        if (has_scheme) {
            return endpoint{std::string(host), 80};
        }
        return make_error("missing port in '{}': expected host:port", text);
    }
    uint32_t port = 0;
    bool port_ok = !port_text->empty() && port_text->size() <= 5 &&
                   std::all_of(port_text->begin(), port_text->end(), is_digit);
    for (char c : port_ok ? *port_text : std::string_view{}) {
        port = port * 10 + static_cast<uint32_t>(c - '0');
    }
    if (!port_ok || port == 0 || port > 65535) {
        return make_error("invalid port '{}' in '{}'", *port_text, text);
    }
    return endpoint{std::string(host), static_cast<uint16_t>(port)};
}

result<client_response> send_request(std::string_view method, std::string_view host, uint16_t port,
                                     std::string_view target, std::string_view body,
                                     std::string_view content_type,
                                     std::chrono::milliseconds timeout) {
    if (!detail::is_token(method)) {
        return make_error("invalid HTTP method '{}'", method);
    }
    bool target_ok = !target.empty() && (target.front() == '/' || target == "*") &&
                     std::none_of(target.begin(), target.end(), [](char c) {
                         auto u = static_cast<unsigned char>(c);
                         return u <= 0x20 || u == 0x7f;
                     });
    if (!target_ok) {
        return make_error("invalid request target '{}': must start with '/'", target);
    }
    if (host.empty() || !std::all_of(host.begin(), host.end(), is_host_char)) {
        return make_error("invalid host '{}'", host);
    }
    if (!detail::is_field_value(content_type)) {
        return make_error("invalid content type");
    }

    std::string where = host_port(host, port);
    auto deadline = steady::now() + timeout;
    auto connected = connect_to(host, port, deadline, timeout);
    if (!connected) {
        return std::move(connected).error();
    }
    unique_fd fd = std::move(connected).value();

    std::string out;
    out.reserve(256 + body.size());
    auto sink = std::back_inserter(out);
    fmt::format_to(sink,
                   "{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: obsrv-http-client\r\n"
                   "Accept: */*\r\nConnection: close\r\n",
                   method, target, where);
    if (!content_type.empty()) {
        fmt::format_to(sink, "Content-Type: {}\r\n", content_type);
    }
    if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
        fmt::format_to(sink, "Content-Length: {}\r\n", body.size());
    }
    out += "\r\n";
    out += body;

    // A server may answer early and close (a 413, say): then sending fails, but the
    // response it sent is still worth more than the send error.
    std::optional<error> send_error;
    for (size_t sent = 0; sent < out.size();) {
        ssize_t n = ::send(fd.get(), out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (n >= 0) {
            sent += static_cast<size_t>(n);
            continue;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            send_error =
                make_error("sending the request to {} failed: {}", where, errno_text(errno));
            break;
        }
        int ready = wait_for(fd.get(), POLLOUT, deadline);
        if (ready == 0) {
            return make_error("timed out after {} ms sending the request to {}", timeout.count(),
                              where);
        }
        if (ready < 0) {
            return make_error("waiting to send to {} failed: {}", where, errno_text(errno));
        }
    }

    response_reader reader(iequals(method, "HEAD"));
    char buf[read_chunk];
    while (true) {
        int ready = wait_for(fd.get(), POLLIN, deadline);
        if (ready == 0) {
            return send_error ? std::move(*send_error)
                              : make_error("timed out after {} ms waiting for the response from {}",
                                           timeout.count(), where);
        }
        if (ready < 0) {
            return make_error("waiting for the response from {} failed: {}", where,
                              errno_text(errno));
        }
        ssize_t n = ::recv(fd.get(), buf, sizeof(buf), 0);
        if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) {
            continue;
        }
        if (n < 0) {
            if (send_error) {
                return std::move(*send_error);
            }
            return make_error("reading the response from {} failed: {}", where, errno_text(errno));
        }
        auto progress = n == 0 ? reader.eof() : reader.feed(buf, static_cast<size_t>(n));
        if (!progress) {
            if (send_error) {
                return std::move(*send_error);
            }
            return make_error("bad response from {}: {}", where, progress.error().message);
        }
        if (*progress) {
            return reader.take();
        }
    }
}

result<client_response> get(std::string_view host, uint16_t port, std::string_view target,
                            std::chrono::milliseconds timeout) {
    return send_request("GET", host, port, target, {}, {}, timeout);
}

result<client_response> post(std::string_view host, uint16_t port, std::string_view target,
                             std::string_view body, std::string_view content_type,
                             std::chrono::milliseconds timeout) {
    return send_request("POST", host, port, target, body, content_type, timeout);
}

}  // namespace obsrv::http
