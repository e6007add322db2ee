#include "common/admin_http_server.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <ctime>
#include <exception>
#include <iterator>
#include <map>
#include <netdb.h>
#include <optional>
#include <poll.h>
#include <set>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <utility>

#include <climits>
#include <fmt/format.h>

#include "common/assert.h"
#include "common/thread_name.h"

namespace obsrv::http {

namespace {

using steady = std::chrono::steady_clock;

constexpr std::string_view interim_continue = "HTTP/1.1 100 Continue\r\n\r\n";
// Accept failures such as EMFILE leave the listening socket readable; pausing keeps
// the loop from spinning on them while the process is out of descriptors.
constexpr auto accept_pause = std::chrono::milliseconds(100);
// After the response we keep draining what the client still sends for a short while
// before closing: closing a socket with unread input makes the kernel send a RST,
// which can destroy the response (a 413 or 431 sent while the client still writes).
constexpr auto max_linger = std::chrono::seconds(2);
constexpr size_t read_chunk = 16 * 1024;
constexpr int accepts_per_wakeup = 64;

class unique_fd {
  public:
    unique_fd() = default;
    explicit unique_fd(int fd) : _fd(fd) {}
    ~unique_fd() { reset(); }
    unique_fd(unique_fd&& other) noexcept : _fd(std::exchange(other._fd, -1)) {}
    unique_fd& operator=(unique_fd&& other) noexcept {
        if (this != &other) {
            reset(std::exchange(other._fd, -1));
        }
        return *this;
    }
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;

    int get() const { return _fd; }
    explicit operator bool() const { return _fd >= 0; }
    void reset(int fd = -1) {
        if (_fd >= 0) {
            ::close(_fd);
        }
        _fd = fd;
    }

  private:
    int _fd = -1;
};

std::string errno_text(int err) {
    return std::system_category().message(err);
}

char ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
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

// RFC 9110 IMF-fixdate, built by hand because strftime's names follow the locale.
std::string http_date() {
    static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                             "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    ::gmtime_r(&now, &tm);
    return fmt::format("{}, {:02} {} {} {:02}:{:02}:{:02} GMT", days[tm.tm_wday % 7], tm.tm_mday,
                       months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

// Headers the server owns: a handler setting them could break the framing.
bool is_reserved_response_header(std::string_view name) {
    return iequals(name, "content-length") || iequals(name, "transfer-encoding") ||
           iequals(name, "connection") || iequals(name, "content-type") || iequals(name, "date");
}

struct http_failure {
    int status;
    std::string message;
};

// Parses `head` (request line and header lines, each ending in CRLF, without the
// empty line that ends the head) into `req` and the declared body length.
std::optional<http_failure> parse_head(std::string_view head, request& req,
                                       size_t& content_length) {
    auto next_line = [&head]() {
        size_t eol = head.find("\r\n");
        std::string_view line = head.substr(0, eol);
        head.remove_prefix(eol == std::string_view::npos ? head.size() : eol + 2);
        return line;
    };

    std::string_view line = next_line();
    size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos) {
        return http_failure{400, "malformed request line"};
    }
    size_t sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) {
        return http_failure{400, "missing HTTP version in request line"};
    }
    if (line.find(' ', sp2 + 1) != std::string_view::npos) {
        return http_failure{400, "malformed request line"};
    }
    std::string_view method = line.substr(0, sp1);
    std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);
    if (!detail::is_token(method)) {
        return http_failure{400, "malformed method"};
    }
    // Only origin-form targets: this server is never a proxy.
    bool target_ok = !target.empty() && target.front() == '/' &&
                     std::none_of(target.begin(), target.end(), [](char c) {
                         auto u = static_cast<unsigned char>(c);
                         return u <= 0x20 || u == 0x7f;
                     });
    if (!target_ok) {
        return http_failure{400, "malformed request target"};
    }
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || !is_digit(version[5]) ||
        version[6] != '.' || !is_digit(version[7])) {
        return http_failure{400, "malformed HTTP version"};
    }
    if (version[5] != '1') {
        return http_failure{505, "only HTTP/1.x is supported"};
    }

    req.method = method;
    size_t query_start = target.find('?');
    req.path = target.substr(0, query_start);
    req.query = query_start == std::string_view::npos ? "" : target.substr(query_start + 1);

    while (!head.empty()) {
        line = next_line();
        if (line.empty()) {
            return http_failure{400, "malformed header section"};
        }
        if (line.front() == ' ' || line.front() == '\t') {
            return http_failure{400, "obsolete header line folding"};
        }
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            return http_failure{400, "header line without a colon"};
        }
        std::string_view name = line.substr(0, colon);
        std::string_view value = detail::trim_ows(line.substr(colon + 1));
        // A space or tab before the colon fails here too (RFC 9112 section 5.1).
        if (!detail::is_token(name)) {
            return http_failure{400, "malformed header name"};
        }
        if (!detail::is_field_value(value)) {
            return http_failure{400, "malformed header value"};
        }
        req.headers.push_back(header{std::string(name), std::string(value)});
    }

    std::optional<size_t> length;
    bool chunked_or_other_coding = false;
    for (const header& h : req.headers) {
        if (iequals(h.name, "transfer-encoding")) {
            chunked_or_other_coding = true;
        } else if (iequals(h.name, "content-length")) {
            // Any repetition is refused, even with equal values: disagreeing
            // parsers on the framing is how request smuggling starts.
            if (length) {
                return http_failure{400, "duplicate Content-Length"};
            }
            if (h.value.empty() || !std::all_of(h.value.begin(), h.value.end(), is_digit)) {
                return http_failure{400, "malformed Content-Length"};
            }
            size_t n = 0;
            for (char c : h.value) {
                auto digit = static_cast<size_t>(c - '0');
                n = n > (SIZE_MAX - digit) / 10 ? SIZE_MAX : n * 10 + digit;  // saturates
            }
            length = n;
        }
    }
    if (chunked_or_other_coding && length) {
        return http_failure{400, "both Transfer-Encoding and Content-Length"};
    }
    if (chunked_or_other_coding) {
        return http_failure{501, "Transfer-Encoding in requests is not supported"};
    }
    content_length = length.value_or(0);
    return std::nullopt;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) {
            return false;
        }
    }
    return true;
}

std::string_view find_header(const std::vector<header>& headers, std::string_view name) {
    for (const header& h : headers) {
        if (iequals(h.name, name)) {
            return h.value;
        }
    }
    return {};
}

namespace detail {

bool is_token(std::string_view s) {
    static constexpr std::string_view specials = "!#$%&'*+-.^_`|~";
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               specials.find(c) != std::string_view::npos;
    });
}

bool is_field_value(std::string_view s) {
    return std::none_of(s.begin(), s.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return (u < 0x20 && c != '\t') || u == 0x7f;
    });
}

std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

}  // namespace detail

const char* reason_phrase(int status) {
    switch (status) {
        case 100:
            return "Continue";
        case 101:
            return "Switching Protocols";
        case 200:
            return "OK";
        case 201:
            return "Created";
        case 202:
            return "Accepted";
        case 204:
            return "No Content";
        case 206:
            return "Partial Content";
        case 301:
            return "Moved Permanently";
        case 302:
            return "Found";
        case 303:
            return "See Other";
        case 304:
            return "Not Modified";
        case 307:
            return "Temporary Redirect";
        case 308:
            return "Permanent Redirect";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 406:
            return "Not Acceptable";
        case 408:
            return "Request Timeout";
        case 409:
            return "Conflict";
        case 410:
            return "Gone";
        case 411:
            return "Length Required";
        case 412:
            return "Precondition Failed";
        case 413:
            return "Content Too Large";
        case 414:
            return "URI Too Long";
        case 415:
            return "Unsupported Media Type";
        case 416:
            return "Range Not Satisfiable";
        case 417:
            return "Expectation Failed";
        case 422:
            return "Unprocessable Content";
        case 425:
            return "Too Early";
        case 426:
            return "Upgrade Required";
        case 428:
            return "Precondition Required";
        case 429:
            return "Too Many Requests";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        case 501:
            return "Not Implemented";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        case 505:
            return "HTTP Version Not Supported";
        default:
            return "Unknown";
    }
}

class admin_server::impl {
  public:
    explicit impl(options opts) : _opts(std::move(opts)) {}

    void route(std::string method, std::string path, handler h) {
        OBSRV_RELEASE_ASSERT(_state == lifecycle::idle, "admin_server::route() after start()");
        OBSRV_RELEASE_ASSERT(detail::is_token(method), "invalid HTTP method '{}'", method);
        OBSRV_RELEASE_ASSERT(
            !path.empty() && path.front() == '/' && path.find('?') == std::string::npos,
            "route path '{}' must start with '/' and have no query", path);
        OBSRV_RELEASE_ASSERT(h != nullptr, "null handler for {} {}", method, path);
        auto [it, inserted] = _routes[path].emplace(method, std::move(h));
        OBSRV_RELEASE_ASSERT(inserted, "route {} {} registered twice", method, path);
    }

    status start() {
        if (_state != lifecycle::idle) {
            return make_error(
                "admin server: start() called twice (a stopped server cannot be "
                "restarted)");
        }
        if (_opts.bind_address.empty()) {
            return make_error("admin server: bind_address is empty");
        }
        if (_opts.max_connections == 0 || _opts.max_header_bytes == 0 ||
            _opts.io_timeout <= std::chrono::milliseconds::zero()) {
            return make_error(
                "admin server: max_connections, max_header_bytes and io_timeout must be positive");
        }

        addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
        addrinfo* found = nullptr;
        std::string service = std::to_string(_opts.port);
        int rc = ::getaddrinfo(_opts.bind_address.c_str(), service.c_str(), &hints, &found);
        if (rc != 0) {
            return make_error("admin server: cannot resolve bind address '{}': {}",
                              _opts.bind_address, ::gai_strerror(rc));
        }
        std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, &::freeaddrinfo);

        std::string last_error = "no usable address";
        for (const addrinfo* ai = addresses.get(); ai != nullptr; ai = ai->ai_next) {
            unique_fd fd(
                ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
            if (!fd) {
                last_error = fmt::format("socket: {}", errno_text(errno));
                continue;
            }
            // Lets a restarted daemon bind while old connections sit in TIME_WAIT.
            int one = 1;
            if (::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0) {
                last_error = fmt::format("SO_REUSEADDR: {}", errno_text(errno));
                continue;
            }
            if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0) {
                last_error = fmt::format("bind: {}", errno_text(errno));
                continue;
            }
            if (::listen(fd.get(), 128) != 0) {
                last_error = fmt::format("listen: {}", errno_text(errno));
                continue;
            }
            _listen_fd = std::move(fd);
            break;
        }
        if (!_listen_fd) {
            return make_error("admin server: cannot listen on {}: {}",
                              host_port(_opts.bind_address, _opts.port), last_error);
        }

        sockaddr_storage bound{};
        socklen_t bound_len = sizeof(bound);
        if (::getsockname(_listen_fd.get(), reinterpret_cast<sockaddr*>(&bound), &bound_len) != 0) {
            int err = errno;
            _listen_fd.reset();
            return make_error("admin server: getsockname: {}", errno_text(err));
        }
        uint16_t port_be = bound.ss_family == AF_INET6
                               ? reinterpret_cast<const sockaddr_in6*>(&bound)->sin6_port
                               : reinterpret_cast<const sockaddr_in*>(&bound)->sin_port;
        _port.store(ntohs(port_be), std::memory_order_relaxed);

        _wake_fd.reset(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
        if (!_wake_fd) {
            int err = errno;
            _listen_fd.reset();
            return make_error("admin server: eventfd: {}", errno_text(err));
        }

        try {
            _thread = std::thread([this] { run(); });
        } catch (const std::system_error& e) {
            _listen_fd.reset();
            _wake_fd.reset();
            return make_error("admin server: cannot start thread: {}", e.what());
        }
        _state = lifecycle::running;
        return {};
    }

    void stop() {
        if (std::this_thread::get_id() == _admin_thread_id.load()) {
            // A handler asked: joining ourselves would deadlock, so only end the loop
            // and leave the join to the owner's stop() or the destructor.
            wake();
            return;
        }
        if (!_thread.joinable()) {
            return;
        }
        wake();
        _thread.join();
        _admin_thread_id.store(std::thread::id());
        _wake_fd.reset();
        _state = lifecycle::stopped;
    }

    uint16_t port() const { return _port.load(std::memory_order_relaxed); }

  private:
    enum class lifecycle { idle, running, stopped };
    enum class phase { head, body, writing, lingering };

    struct connection {
        unique_fd fd;
        phase state = phase::head;
        bool counted = true;  // toward max_connections; false for the 503-and-close ones
        bool done = false;    // close at the end of this loop iteration
        std::string in;
        size_t scanned = 0;   // bytes of `in` checked for bare LF and the end of the head
        size_t head_end = 0;  // length of the head including the empty line, once known
        size_t content_length = 0;
        request req;
        std::string out;
        size_t out_pos = 0;
        steady::time_point deadline;
    };

    void wake() {
        uint64_t one = 1;
        // Cannot fail short of counter overflow, which would leave the fd readable anyway.
        [[maybe_unused]] ssize_t n = ::write(_wake_fd.get(), &one, sizeof(one));
    }

    void report(std::string_view message) {
        if (!_opts.on_error) {
            return;
        }
        try {
            _opts.on_error(message);
        } catch (...) {  // NOLINT(bugprone-empty-catch): a broken logger must not stop serving
        }
    }

    void run() {
        set_thread_name("admin");
        _admin_thread_id.store(std::this_thread::get_id());
        std::vector<pollfd> fds;
        while (true) {
            steady::time_point now = steady::now();
            bool accepting = now >= _accept_paused_until;
            auto next_deadline = accepting ? steady::time_point::max() : _accept_paused_until;
            fds.clear();
            fds.push_back(pollfd{_wake_fd.get(), POLLIN, 0});
            // poll() ignores negative descriptors: that is how accepting pauses.
            fds.push_back(pollfd{accepting ? _listen_fd.get() : -1, POLLIN, 0});
            for (const auto& conn : _connections) {
                short events = 0;
                if (conn->state != phase::writing) {
                    events |= POLLIN;
                }
                if (conn->out_pos < conn->out.size()) {
                    events |= POLLOUT;
                }
                fds.push_back(pollfd{conn->fd.get(), events, 0});
                next_deadline = std::min(next_deadline, conn->deadline);
            }
            int timeout_ms = -1;
            if (next_deadline != steady::time_point::max()) {
                auto left =
                    std::chrono::ceil<std::chrono::milliseconds>(next_deadline - now).count();
                timeout_ms = static_cast<int>(std::clamp<decltype(left)>(left, 0, INT_MAX));
            }

            int ready = ::poll(fds.data(), fds.size(), timeout_ms);
            if (ready < 0) {
                if (errno != EINTR) {
                    report(fmt::format("admin http: poll failed: {}", errno_text(errno)));
                    std::this_thread::sleep_for(accept_pause);
                }
                continue;
            }
            if (fds[0].revents != 0) {
                break;  // stop()
            }

            now = steady::now();
            // Only the connections that existed when fds was built: accept_new appends.
            for (size_t i = 0; i < _connections.size(); ++i) {
                short revents = fds[i + 2].revents;
                if (revents != 0) {
                    on_io(*_connections[i], revents, now);
                }
            }
            for (const auto& conn : _connections) {
                if (!conn->done && now >= conn->deadline) {
                    on_timeout(*conn, now);
                }
            }
            if ((fds[1].revents & POLLIN) != 0) {
                accept_new(now);
            }
            std::erase_if(_connections, [this](const std::unique_ptr<connection>& conn) {
                if (!conn->done) {
                    return false;
                }
                --(conn->counted ? _active : _rejecting);
                return true;
            });
        }
        _connections.clear();
        _active = 0;
        _rejecting = 0;
        _listen_fd.reset();  // frees the port as soon as the loop ends
    }

    void accept_new(steady::time_point now) {
        for (int i = 0; i < accepts_per_wakeup; ++i) {
            int fd = ::accept4(_listen_fd.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                int err = errno;
                switch (err) {
                    case EAGAIN:
#if EAGAIN != EWOULDBLOCK
                    case EWOULDBLOCK:
#endif
                        return;
                    // The client went away before we got to it, or a transient network
                    // error that accept(2) passes on: nothing to do for this one.
                    case EINTR:
                    case ECONNABORTED:
                    case EPROTO:
                    case ENETDOWN:
                    case ENOPROTOOPT:
                    case EHOSTDOWN:
                    case ENONET:
                    case EHOSTUNREACH:
                    case EOPNOTSUPP:
                    case ENETUNREACH:
                        continue;
                    default:
                        report(
                            fmt::format("admin http: accept failed: {}; pausing accepts for {} ms",
                                        errno_text(err), accept_pause.count()));
                        _accept_paused_until = now + accept_pause;
                        return;
                }
            }
            auto conn = std::make_unique<connection>();
            conn->fd.reset(fd);
            conn->deadline = now + _opts.io_timeout;
            if (_active < _opts.max_connections) {
                ++_active;
            } else if (_rejecting < _opts.max_connections) {
                // Told why instead of silently dropped, but bounded as well.
                ++_rejecting;
                conn->counted = false;
                report(
                    fmt::format("admin http: rejecting a connection: max_connections ({}) "
                                "reached",
                                _opts.max_connections));
                respond_error(*conn, 503, "too many connections", now);
            } else {
                continue;  // closes it
            }
            _connections.push_back(std::move(conn));
        }
    }

    void on_io(connection& conn, short revents, steady::time_point now) {
        if (conn.out_pos < conn.out.size() && (revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
            flush(conn, now);
        }
        if (!conn.done && conn.state != phase::writing &&
            (revents & (POLLIN | POLLERR | POLLHUP)) != 0) {
            receive(conn, now);
        }
    }

    void on_timeout(connection& conn, steady::time_point now) {
        if (conn.state == phase::head && conn.in.empty()) {
            conn.done = true;  // never said anything: nothing to answer
        } else if (conn.state == phase::head || conn.state == phase::body) {
            respond_error(conn, 408, "request timeout", now);
        } else {
            conn.done = true;  // the client does not read the response, or lingered enough
        }
    }

    void receive(connection& conn, steady::time_point now) {
        char buf[read_chunk];
        size_t want = sizeof(buf);
        if (conn.state == phase::body) {
            // Never read past the body: whatever follows is not ours to consume yet.
            want = std::min(want, conn.head_end + conn.content_length - conn.in.size());
        }
        ssize_t n = ::recv(conn.fd.get(), buf, want, 0);
        if (n < 0) {
            if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
                conn.done = true;
            }
            return;
        }
        if (n == 0) {
            // The client closed its side before sending a whole request (or we are done
            // lingering): there is nobody to answer.
            conn.done = true;
            return;
        }
        if (conn.state == phase::lingering) {
            return;  // discard; the linger deadline is not extended
        }
        conn.in.append(buf, static_cast<size_t>(n));
        conn.deadline = now + _opts.io_timeout;
        process_input(conn, now);
    }

    void process_input(connection& conn, steady::time_point now) {
        if (conn.state == phase::head) {
            // Lines must end in CRLF; a bare LF is refused as soon as it shows up
            // rather than guessed at, so the head always ends in CRLF CRLF.
            const std::string& in = conn.in;
            size_t i = conn.scanned;
            for (; i < in.size(); ++i) {
                if (in[i] != '\n') {
                    continue;
                }
                if (i == 0 || in[i - 1] != '\r') {
                    respond_error(conn, 400, "bare LF in request head", now);
                    return;
                }
                if (i >= 3 && in[i - 2] == '\n' && in[i - 3] == '\r') {
                    conn.head_end = i + 1;
                    break;
                }
            }
            conn.scanned = i;
            if (conn.head_end == 0) {
                if (in.size() > _opts.max_header_bytes) {
                    respond_error(conn, 431, "request header too large", now);
                }
                return;
            }
            if (conn.head_end > _opts.max_header_bytes) {
                respond_error(conn, 431, "request header too large", now);
                return;
            }
            size_t length = 0;
            std::string_view head(in.data(), conn.head_end - 2);
            if (auto failure = parse_head(head, conn.req, length)) {
                respond_error(conn, failure->status, failure->message, now);
                return;
            }
            if (length > _opts.max_body_bytes) {
                respond_error(conn, 413, "request body too large", now);
                return;
            }
            conn.content_length = length;
            conn.state = phase::body;
            if (conn.in.size() < conn.head_end + length &&
                iequals(conn.req.header_value("expect"), "100-continue")) {
                conn.out.append(interim_continue);  // curl waits for this before a body
                flush(conn, now);
            }
        }
        if (conn.state == phase::body && !conn.done) {
            if (conn.in.size() < conn.head_end + conn.content_length) {
                return;
            }
            conn.req.body.assign(conn.in, conn.head_end, conn.content_length);
            conn.in = std::string();
            response resp = dispatch(conn.req);
            respond(conn, resp, conn.req.method == "HEAD", now);
        }
    }

    response dispatch(const request& req) {
        auto path_it = _routes.find(req.path);
        if (path_it == _routes.end()) {
            return response{.status = 404, .body = "not found\n"};
        }
        const auto& methods = path_it->second;
        auto it = methods.find(req.method);
        if (it == methods.end() && req.method == "HEAD") {
            it = methods.find("GET");
        }
        if (it == methods.end()) {
            std::set<std::string> allowed;
            for (const auto& [method, h] : methods) {
                allowed.insert(method);
                if (method == "GET") {
                    allowed.insert("HEAD");
                }
            }
            std::string allow;
            for (const std::string& method : allowed) {
                allow += allow.empty() ? method : ", " + method;
            }
            return response{.status = 405,
                            .body = "method not allowed\n",
                            .headers = {header{"Allow", std::move(allow)}}};
        }
        // Handlers are control-plane code; one that throws must not take the
        // daemon's admin surface down with it.
        try {
            return it->second(req);
        } catch (const std::exception& e) {
            report(fmt::format("admin http: handler for {} {} threw: {}", req.method, req.path,
                               e.what()));
        } catch (...) {
            report(fmt::format("admin http: handler for {} {} threw a non-exception", req.method,
                               req.path));
        }
        return response{.status = 500, .body = "internal server error\n"};
    }

    void respond_error(connection& conn, int status, std::string_view message,
                       steady::time_point now) {
        response resp{.status = status, .body = fmt::format("{}\n", message)};
        respond(conn, resp, conn.req.method == "HEAD", now);
    }

    void respond(connection& conn, const response& resp, bool head_request,
                 steady::time_point now) {
        conn.out.append(serialize(resp, head_request));
        conn.state = phase::writing;
        conn.deadline = now + _opts.io_timeout;
        flush(conn, now);  // usually completes right away, saving a poll round trip
    }

    std::string serialize(const response& resp, bool head_request) {
        if (resp.status < 200 || resp.status > 599) {
            report(fmt::format("admin http: handler returned invalid status {}", resp.status));
            return serialize(response{.status = 500, .body = "internal server error\n"},
                             head_request);
        }
        std::string out;
        out.reserve(256 + resp.body.size());
        auto sink = std::back_inserter(out);
        fmt::format_to(sink, "HTTP/1.1 {} {}\r\nDate: {}\r\n", resp.status,
                       reason_phrase(resp.status), http_date());
        // RFC 9110 forbids a body and Content-Length on these two.
        bool bodyless = resp.status == 204 || resp.status == 304;
        if (!bodyless) {
            std::string_view type = resp.content_type;
            if (type.empty() || !detail::is_field_value(type)) {
                if (!type.empty()) {
                    report("admin http: dropped an invalid Content-Type from a handler");
                }
                type = "application/octet-stream";
            }
            fmt::format_to(sink, "Content-Type: {}\r\nContent-Length: {}\r\n", type,
                           resp.body.size());
        }
        out += "Connection: close\r\n";
        for (const header& h : resp.headers) {
            if (!detail::is_token(h.name) || !detail::is_field_value(h.value) ||
                is_reserved_response_header(h.name)) {
                report(fmt::format("admin http: dropped response header '{}' from a handler",
                                   detail::is_field_value(h.name) ? h.name : "<invalid>"));
                continue;
            }
            fmt::format_to(sink, "{}: {}\r\n", h.name, h.value);
        }
        out += "\r\n";
        if (!bodyless && !head_request) {
            out += resp.body;
        }
        return out;
    }

    // Writes as much of conn.out as the socket takes; once a final response is out,
    // half-closes and lingers.
    void flush(connection& conn, steady::time_point now) {
        while (conn.out_pos < conn.out.size()) {
            ssize_t n = ::send(conn.fd.get(), conn.out.data() + conn.out_pos,
                               conn.out.size() - conn.out_pos, MSG_NOSIGNAL);
            if (n > 0) {
                conn.out_pos += static_cast<size_t>(n);
                conn.deadline = now + _opts.io_timeout;
                continue;
            }
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                return;
            }
            conn.done = true;  // the peer is gone
            return;
        }
        conn.out = std::string();
        conn.out_pos = 0;
        if (conn.state == phase::writing) {
            ::shutdown(conn.fd.get(), SHUT_WR);
            conn.state = phase::lingering;
            conn.deadline = now + std::min<std::chrono::milliseconds>(_opts.io_timeout, max_linger);
        }
    }

    const options _opts;
    std::map<std::string, std::map<std::string, handler>> _routes;  // path -> method -> handler
    lifecycle _state = lifecycle::idle;                             // owner thread only
    unique_fd _listen_fd;
    unique_fd _wake_fd;
    std::thread _thread;
    std::atomic<std::thread::id> _admin_thread_id{};
    std::atomic<uint16_t> _port{0};

    // Admin thread only.
    std::vector<std::unique_ptr<connection>> _connections;
    size_t _active = 0;     // connections that count toward max_connections
    size_t _rejecting = 0;  // connections being sent a 503
    steady::time_point _accept_paused_until{};
};

admin_server::admin_server(options opts) : _impl(std::make_unique<impl>(std::move(opts))) {}

admin_server::~admin_server() {
    stop();
}

void admin_server::route(std::string method, std::string path, handler h) {
    _impl->route(std::move(method), std::move(path), std::move(h));
}

status admin_server::start() {
    return _impl->start();
}

void admin_server::stop() {
    _impl->stop();
}

uint16_t admin_server::port() const {
    return _impl->port();
}

}  // namespace obsrv::http
