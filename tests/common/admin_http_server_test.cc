#include "common/admin_http_server.h"

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/http_client.h"

namespace {

namespace http = obsrv::http;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using steady = std::chrono::steady_clock;

constexpr const char* localhost = "127.0.0.1";

sockaddr_in loopback(uint16_t port) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return addr;
}

// A blocking client socket for the cases the real client would hide: malformed
// requests, partial requests, requests that never finish.
class raw_socket {
  public:
    explicit raw_socket(uint16_t port) : _fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
        EXPECT_GE(_fd, 0);
        sockaddr_in addr = loopback(port);
        EXPECT_EQ(::connect(_fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0)
            << std::strerror(errno);
        timeval tv{5, 0};  // a hung server fails the test instead of hanging it
        ::setsockopt(_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    }
    ~raw_socket() { close(); }
    raw_socket(const raw_socket&) = delete;
    raw_socket& operator=(const raw_socket&) = delete;

    void send(std::string_view data) {
        while (!data.empty()) {
            ssize_t n = ::send(_fd, data.data(), data.size(), MSG_NOSIGNAL);
            if (n <= 0) {
                return;  // the server may have answered and closed already
            }
            data.remove_prefix(static_cast<size_t>(n));
        }
    }

    void shutdown_write() { ::shutdown(_fd, SHUT_WR); }

    // Everything the server sends until it closes (or 5 s pass).
    std::string read_until_close() {
        std::string all;
        char buf[4096];
        while (true) {
            ssize_t n = ::recv(_fd, buf, sizeof(buf), 0);
            if (n <= 0) {
                return all;
            }
            all.append(buf, static_cast<size_t>(n));
        }
    }

    // Exactly `n` bytes, or fewer if the server closes or 5 s pass.
    std::string read_exact(size_t n) {
        std::string all(n, '\0');
        size_t got = 0;
        while (got < n) {
            ssize_t r = ::recv(_fd, all.data() + got, n - got, 0);
            if (r <= 0) {
                break;
            }
            got += static_cast<size_t>(r);
        }
        all.resize(got);
        return all;
    }

    // True if the server closed the connection within `limit` without sending anything.
    bool closed_silently_within(std::chrono::milliseconds limit) {
        pollfd pfd{_fd, POLLIN, 0};
        if (::poll(&pfd, 1, static_cast<int>(limit.count())) != 1) {
            return false;
        }
        char c;
        return ::recv(_fd, &c, 1, 0) == 0;
    }

    void close() {
        if (_fd >= 0) {
            ::close(_fd);
            _fd = -1;
        }
    }

  private:
    int _fd;
};

std::string exchange(uint16_t port, std::string_view raw_request) {
    raw_socket s(port);
    s.send(raw_request);
    return s.read_until_close();
}

int status_of(std::string_view raw_response) {
    if (raw_response.size() < 12 || raw_response.substr(0, 9) != "HTTP/1.1 ") {
        return -1;
    }
    return std::stoi(std::string(raw_response.substr(9, 3)));
}

std::string body_of(const std::string& raw_response) {
    size_t end = raw_response.find("\r\n\r\n");
    return end == std::string::npos ? "" : raw_response.substr(end + 4);
}

// A server with the routes the tests use, plus a record of on_error reports.
class server_fixture {
  public:
    explicit server_fixture(http::admin_server::options opts = {}) {
        opts.on_error = [this](std::string_view message) {
            std::lock_guard lock(_mutex);
            _errors.emplace_back(message);
        };
        server = std::make_unique<http::admin_server>(std::move(opts));
        server->route("GET", "/hello",
                      [](const http::request&) { return http::response{.body = "hello\n"}; });
        server->route("POST", "/echo", [](const http::request& req) {
            return http::response{.content_type = std::string(req.header_value("content-type")),
                                  .body = req.body};
        });
        server->route("GET", "/multi", [](const http::request&) { return http::response{}; });
        server->route("DELETE", "/multi", [](const http::request&) { return http::response{}; });
        server->route("GET", "/header", [](const http::request& req) {
            return http::response{.body = std::string(req.header_value("x-custom-THING"))};
        });
        server->route("GET", "/query", [](const http::request& req) {
            return http::response{.body = "path=" + req.path + " query=" + req.query};
        });
        server->route("GET", "/throw", [](const http::request&) -> http::response {
            throw std::runtime_error("boom");
        });
        server->route("GET", "/big", [](const http::request&) {
            std::string body(8 << 20, '\0');
            for (size_t i = 0; i < body.size(); ++i) {
                body[i] = static_cast<char>('a' + i % 26);
            }
            return http::response{.content_type = "application/octet-stream",
                                  .body = std::move(body)};
        });
        server->route("GET", "/custom", [](const http::request&) {
            return http::response{.status = 503,
                                  .content_type = "application/json",
                                  .body = R"({"ready":false})",
                                  .headers = {{"X-Why", "warming up"},
                                              {"Content-Length", "999"},
                                              {"X-Evil", "a\r\nInjected: yes"}}};
        });
        server->route("GET", "/quit", [this](const http::request&) {
            server->stop();  // from the admin thread: must not deadlock
            return http::response{.body = "bye\n"};
        });
        auto started = server->start();
        EXPECT_TRUE(started.has_value()) << (started ? "" : started.error().message);
    }

    uint16_t port() const { return server->port(); }

    std::vector<std::string> errors() {
        std::lock_guard lock(_mutex);
        return _errors;
    }

    std::unique_ptr<http::admin_server> server;

  private:
    std::mutex _mutex;
    std::vector<std::string> _errors;
};

// A one-shot server that sends canned bytes, for exercising the client.
class canned_server {
  public:
    // Sends `pieces` one at a time (so the client sees partial data), then closes
    // if `close_after`, or otherwise waits for the client to close first.
    canned_server(std::vector<std::string> pieces, bool close_after)
        : _listen(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
        sockaddr_in addr = loopback(0);
        EXPECT_EQ(::bind(_listen, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
        EXPECT_EQ(::listen(_listen, 4), 0);
        socklen_t len = sizeof(addr);
        ::getsockname(_listen, reinterpret_cast<sockaddr*>(&addr), &len);
        _port = ntohs(addr.sin_port);
        _thread = std::thread(
            [this, pieces = std::move(pieces), close_after] { serve(pieces, close_after); });
    }
    ~canned_server() {
        join();
        ::close(_listen);
    }
    canned_server(const canned_server&) = delete;
    canned_server& operator=(const canned_server&) = delete;

    uint16_t port() const { return _port; }

    std::string received_request() {
        join();
        return _request;
    }

  private:
    void join() {
        if (_thread.joinable()) {
            _thread.join();
        }
    }

    void serve(const std::vector<std::string>& pieces, bool close_after) {
        pollfd pfd{_listen, POLLIN, 0};
        if (::poll(&pfd, 1, 5000) != 1) {
            return;
        }
        int fd = ::accept(_listen, nullptr, nullptr);
        if (fd < 0) {
            return;
        }
        timeval tv{5, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        char buf[4096];
        while (true) {  // read the head and a Content-Length body
            size_t head_end = _request.find("\r\n\r\n");
            if (head_end != std::string::npos) {
                size_t length = 0;
                if (size_t at = _request.find("Content-Length: "); at != std::string::npos) {
                    length = std::stoul(_request.substr(at + 16));
                }
                if (_request.size() >= head_end + 4 + length) {
                    break;
                }
            }
            ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
            if (n <= 0) {
                break;
            }
            _request.append(buf, static_cast<size_t>(n));
        }
        for (const std::string& piece : pieces) {
            ::send(fd, piece.data(), piece.size(), MSG_NOSIGNAL);
            std::this_thread::sleep_for(2ms);
        }
        if (!close_after) {
            while (::recv(fd, buf, sizeof(buf), 0) > 0) {
            }
        }
        ::close(fd);
    }

    int _listen;
    uint16_t _port = 0;
    std::string _request;
    std::thread _thread;
};

// Splits `text` into pieces of `size` bytes.
std::vector<std::string> split(std::string_view text, size_t size) {
    std::vector<std::string> pieces;
    for (size_t i = 0; i < text.size(); i += size) {
        pieces.emplace_back(text.substr(i, size));
    }
    return pieces;
}

// ---------------------------------------------------------------------------
// Server

TEST(admin_http_server, port_zero_binds_a_real_port_and_a_taken_port_is_an_error) {
    server_fixture f;
    ASSERT_NE(f.port(), 0);
    raw_socket connectable(f.port());

    http::admin_server second(http::admin_server::options{.port = f.port()});
    auto started = second.start();
    ASSERT_FALSE(started.has_value());
    EXPECT_THAT(started.error().message, HasSubstr("cannot listen on 127.0.0.1:"));
    EXPECT_THAT(started.error().message, HasSubstr("in use"));
}

TEST(admin_http_server, start_twice_and_bad_bind_address_are_errors) {
    server_fixture f;
    auto again = f.server->start();
    ASSERT_FALSE(again.has_value());
    EXPECT_THAT(again.error().message, HasSubstr("twice"));

    // TEST-NET-1: a valid address that is not ours, so bind fails without any DNS.
    http::admin_server bad(http::admin_server::options{.bind_address = "192.0.2.1"});
    auto started = bad.start();
    ASSERT_FALSE(started.has_value());
    EXPECT_THAT(started.error().message, HasSubstr("cannot listen on 192.0.2.1:0: bind: "));
}

TEST(admin_http_server, get_returns_body_with_framing_headers) {
    server_fixture f;
    auto r = http::get(localhost, f.port(), "/hello");
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->reason, "OK");
    EXPECT_EQ(r->body, "hello\n");
    EXPECT_EQ(r->header_value("Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(r->header_value("Content-Length"), "6");
    EXPECT_EQ(r->header_value("Connection"), "close");
    EXPECT_THAT(std::string(r->header_value("Date")), HasSubstr(" GMT"));
}

TEST(admin_http_server, head_sends_get_headers_without_body) {
    server_fixture f;
    std::string raw = exchange(f.port(), "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(status_of(raw), 200);
    EXPECT_THAT(raw, HasSubstr("\r\nContent-Length: 6\r\n"));
    EXPECT_EQ(raw.find("\r\n\r\n") + 4, raw.size()) << raw;  // nothing after the head

    auto r = http::send_request("HEAD", localhost, f.port(), "/hello");
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header_value("content-length"), "6");
    EXPECT_EQ(r->body, "");
}

TEST(admin_http_server, post_body_and_content_type_reach_the_handler) {
    server_fixture f;
    auto r = http::post(localhost, f.port(), "/echo", R"({"a":1})", "application/json");
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, R"({"a":1})");
    EXPECT_EQ(r->header_value("content-type"), "application/json");

    // Larger than one read, with every byte value.
    std::string body(300 * 1024, '\0');
    for (size_t i = 0; i < body.size(); ++i) {
        body[i] = static_cast<char>(i * 7);
    }
    r = http::post(localhost, f.port(), "/echo", body, "application/octet-stream");
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->body, body);

    r = http::post(localhost, f.port(), "/echo", "", "text/plain");
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "");
}

TEST(admin_http_server, unknown_path_is_404) {
    server_fixture f;
    for (const char* target : {"/nope", "/hello/", "/HELLO", "/nope?x=1"}) {
        auto r = http::get(localhost, f.port(), target);
        ASSERT_TRUE(r.has_value()) << r.error().message;
        EXPECT_EQ(r->status, 404) << target;
        EXPECT_EQ(r->body, "not found\n");
    }
}

TEST(admin_http_server, wrong_method_is_405_with_allow) {
    server_fixture f;
    auto r = http::post(localhost, f.port(), "/hello", "x", "text/plain");
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->status, 405);
    EXPECT_EQ(r->header_value("allow"), "GET, HEAD");

    r = http::get(localhost, f.port(), "/echo");
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->status, 405);
    EXPECT_EQ(r->header_value("allow"), "POST");

    r = http::send_request("PUT", localhost, f.port(), "/multi");
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->status, 405);
    EXPECT_EQ(r->header_value("allow"), "DELETE, GET, HEAD");

    r = http::send_request("DELETE", localhost, f.port(), "/multi");
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->status, 200);
}

TEST(admin_http_server, query_string_is_split_from_the_path) {
    server_fixture f;
    auto r = http::get(localhost, f.port(), "/query?a=1&b=%20?c");
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "path=/query query=a=1&b=%20?c");

    r = http::get(localhost, f.port(), "/query");
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->body, "path=/query query=");
}

TEST(admin_http_server, header_lookup_is_case_insensitive_and_trims_whitespace) {
    server_fixture f;
    std::string raw = exchange(
        f.port(), "GET /header HTTP/1.1\r\nHost: x\r\nX-CUSTOM-thing: \t v a l \t\r\n\r\n");
    EXPECT_EQ(status_of(raw), 200) << raw;
    EXPECT_EQ(body_of(raw), "v a l");

    http::request req;
    req.headers = {{"Content-Type", "a"}, {"content-type", "b"}, {"X-Y", ""}};
    EXPECT_EQ(req.header_value("CONTENT-TYPE"), "a");  // the first one wins
    EXPECT_EQ(req.header_value("x-y"), "");
    EXPECT_EQ(req.header_value("missing"), "");
    EXPECT_EQ(req.header_value("Content-Typ"), "");
}

TEST(admin_http_server, head_over_max_header_bytes_is_431) {
    http::admin_server::options opts;
    opts.max_header_bytes = 1024;
    server_fixture f(opts);

    // A head of exactly the limit is fine; one byte more is not.
    auto padded = [](size_t total) {
        std::string prefix = "GET /hello HTTP/1.1\r\nX-Pad: ";
        std::string suffix = "\r\n\r\n";
        return prefix + std::string(total - prefix.size() - suffix.size(), 'p') + suffix;
    };
    EXPECT_EQ(status_of(exchange(f.port(), padded(1024))), 200);
    std::string raw = exchange(f.port(), padded(1025));
    EXPECT_EQ(status_of(raw), 431) << raw;
    EXPECT_EQ(body_of(raw), "request header too large\n");

    // Never terminated: refused as soon as the limit is passed, not at the idle timeout.
    std::string unterminated = padded(1025);
    unterminated.resize(1025 - 4);  // no empty line
    unterminated += "pppp";
    raw_socket s(f.port());
    s.send(unterminated);
    EXPECT_EQ(status_of(s.read_until_close()), 431);
    raw_socket huge(f.port());
    huge.send("GET /hello HTTP/1.1\r\nX-Pad: " + std::string(256 * 1024, 'p'));
    EXPECT_EQ(status_of(huge.read_until_close()), 431);
}

TEST(admin_http_server, body_over_max_body_bytes_is_413) {
    http::admin_server::options opts;
    opts.max_body_bytes = 1000;
    server_fixture f(opts);

    // Refused from the head alone: the client never sends the gigabyte.
    std::string raw =
        exchange(f.port(), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n");
    EXPECT_EQ(status_of(raw), 413) << raw;
    raw = exchange(f.port(),
                   "POST /echo HTTP/1.1\r\nContent-Length: 99999999999999999999999999\r\n\r\n");
    EXPECT_EQ(status_of(raw), 413) << raw;

    auto r = http::post(localhost, f.port(), "/echo", std::string(1000, 'b'), "text/plain");
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body.size(), 1000U);
    r = http::post(localhost, f.port(), "/echo", std::string(1001, 'b'), "text/plain");
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->status, 413);
}

TEST(admin_http_server, malformed_requests_are_400) {
    server_fixture f;
    const char* cases[] = {
        "GARBAGE\r\n\r\n",
        "GET /hello\r\n\r\n",                              // no version
        "GET /hello FTP/1.1\r\n\r\n",                      // not HTTP
        "GET /hello HTTP/1.1 extra\r\n\r\n",               // too many parts
        "GET  /hello HTTP/1.1\r\n\r\n",                    // double space
        "GET hello HTTP/1.1\r\n\r\n",                      // not origin-form
        "G(T /hello HTTP/1.1\r\n\r\n",                     // method is not a token
        "GET /hel\x01lo HTTP/1.1\r\n\r\n",                 // control character in the target
        "GET /hello HTTP/1.1\r\nNoColon\r\n\r\n",          // header without a colon
        "GET /hello HTTP/1.1\r\nHost : x\r\n\r\n",         // whitespace before the colon
        "GET /hello HTTP/1.1\r\n: x\r\n\r\n",              // empty header name
        "GET /hello HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",  // obsolete line folding
        "GET /hello HTTP/1.1\r\nA: b\x7f\r\n\r\n",         // control character in a value
        "GET /hello HTTP/1.1\r\nA: b\rc\r\n\r\n",          // bare CR
        "GET /hello HTTP/1.1\n\n",                         // bare LF
        "GET /hello HTTP/1.1\r\nHost: x\n\r\n",            // bare LF mid-head
        "\r\n\r\n",                                        // empty request line
        "POST /echo HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nab",
        "POST /echo HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
        "POST /echo HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\na",
        "POST /echo HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
        "POST /echo HTTP/1.1\r\nContent-Length: +1\r\n\r\na",
        "POST /echo HTTP/1.1\r\nContent-Length: \r\n\r\n",
        "POST /echo HTTP/1.1\r\nContent-Length: 0x1\r\n\r\na",
        "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\na",
    };
    for (const char* request : cases) {
        std::string raw = exchange(f.port(), request);
        EXPECT_EQ(status_of(raw), 400) << "request: " << request << "\nresponse: " << raw;
        EXPECT_THAT(raw, HasSubstr("Connection: close\r\n"));
        EXPECT_FALSE(body_of(raw).empty());
    }
    // The server is still fine afterwards.
    auto r = http::get(localhost, f.port(), "/hello");
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->status, 200);
}

TEST(admin_http_server, other_versions_are_505_and_transfer_encoding_is_501) {
    server_fixture f;
    EXPECT_EQ(status_of(exchange(f.port(), "GET /hello HTTP/2.0\r\n\r\n")), 505);
    std::string raw = exchange(
        f.port(), "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n");
    EXPECT_EQ(status_of(raw), 501) << raw;
    // HTTP/1.0 is answered (with an HTTP/1.1 status line, as RFC 9110 allows).
    EXPECT_EQ(status_of(exchange(f.port(), "GET /hello HTTP/1.0\r\n\r\n")), 200);
}

TEST(admin_http_server, throwing_handler_is_500_and_the_server_keeps_serving) {
    server_fixture f;
    auto r = http::get(localhost, f.port(), "/throw");
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->status, 500);
    EXPECT_EQ(r->body, "internal server error\n");
    auto errors = f.errors();
    ASSERT_EQ(errors.size(), 1U);
    EXPECT_THAT(errors[0], HasSubstr("GET /throw"));
    EXPECT_THAT(errors[0], HasSubstr("boom"));

    r = http::get(localhost, f.port(), "/hello");
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->status, 200);
}

TEST(admin_http_server, handler_status_and_headers_pass_but_framing_headers_do_not) {
    server_fixture f;
    std::string raw = exchange(f.port(), "GET /custom HTTP/1.1\r\n\r\n");
    EXPECT_EQ(status_of(raw), 503) << raw;
    EXPECT_THAT(raw, StartsWith("HTTP/1.1 503 Service Unavailable\r\n"));
    EXPECT_THAT(raw, HasSubstr("\r\nX-Why: warming up\r\n"));
    EXPECT_THAT(raw, HasSubstr("\r\nContent-Type: application/json\r\n"));
    EXPECT_THAT(raw, HasSubstr("\r\nContent-Length: 15\r\n"));
    EXPECT_THAT(raw, ::testing::Not(HasSubstr("999")));
    EXPECT_THAT(raw, ::testing::Not(HasSubstr("Injected")));
    EXPECT_EQ(body_of(raw), R"({"ready":false})");
    EXPECT_EQ(f.errors().size(), 2U);
}

TEST(admin_http_server, half_request_does_not_block_other_clients) {
    server_fixture f;
    raw_socket slow(f.port());
    slow.send("GET /hello HTTP/1.1\r\nHost: x\r\n");  // and then nothing, for now

    // A reader that never reads its large response must not block anyone either.
    raw_socket not_reading(f.port());
    not_reading.send("GET /big HTTP/1.1\r\n\r\n");

    auto r = http::get(localhost, f.port(), "/hello", 2s);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->status, 200);

    slow.send("\r\n");
    EXPECT_EQ(body_of(slow.read_until_close()), "hello\n");
}

TEST(admin_http_server, large_response_is_written_completely) {
    server_fixture f;
    auto r = http::get(localhost, f.port(), "/big");
    ASSERT_TRUE(r.has_value()) << r.error().message;
    ASSERT_EQ(r->body.size(), size_t{8} << 20);
    for (size_t i = 0; i < r->body.size(); i += 4099) {
        ASSERT_EQ(r->body[i], static_cast<char>('a' + i % 26)) << i;
    }
}

TEST(admin_http_server, half_closed_client_still_gets_its_response) {
    server_fixture f;
    raw_socket s(f.port());
    s.send("GET /hello HTTP/1.1\r\n\r\n");
    s.shutdown_write();
    EXPECT_EQ(body_of(s.read_until_close()), "hello\n");
}

TEST(admin_http_server, expect_100_continue_gets_an_interim_response) {
    server_fixture f;
    raw_socket s(f.port());
    s.send("POST /echo HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n");
    // The interim response comes before the body is sent.
    EXPECT_EQ(s.read_exact(25), "HTTP/1.1 100 Continue\r\n\r\n");
    s.send("abc");
    std::string raw = s.read_until_close();
    EXPECT_THAT(raw, StartsWith("HTTP/1.1 200 OK\r\n"));
    EXPECT_THAT(raw, ::testing::EndsWith("\r\n\r\nabc"));
}

TEST(admin_http_server, idle_connections_time_out) {
    http::admin_server::options opts;
    opts.io_timeout = 200ms;
    server_fixture f(opts);

    auto start = steady::now();
    raw_socket silent(f.port());
    EXPECT_TRUE(silent.closed_silently_within(3s));
    EXPECT_GE(steady::now() - start, 150ms);

    raw_socket partial(f.port());
    partial.send("GET /hello HTTP/1.1\r\n");
    std::string raw = partial.read_until_close();
    EXPECT_EQ(status_of(raw), 408) << raw;
    EXPECT_LT(steady::now() - start, 3s);
}

TEST(admin_http_server, connections_beyond_max_connections_get_503) {
    http::admin_server::options opts;
    opts.max_connections = 2;
    server_fixture f(opts);

    auto first = std::make_unique<raw_socket>(f.port());
    raw_socket second(f.port());
    // Accepted in order, so these two hold both slots by the time the third arrives.
    auto r = http::get(localhost, f.port(), "/hello");
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->status, 503);
    EXPECT_EQ(r->body, "too many connections\n");
    auto errors = f.errors();
    ASSERT_FALSE(errors.empty());
    EXPECT_THAT(errors[0], HasSubstr("max_connections (2)"));

    first.reset();  // frees a slot once the server notices
    auto deadline = steady::now() + 3s;
    int status = 0;
    while (status != 200 && steady::now() < deadline) {
        r = http::get(localhost, f.port(), "/hello");
        ASSERT_TRUE(r.has_value()) << r.error().message;
        status = r->status;
        if (status != 200) {
            std::this_thread::sleep_for(10ms);
        }
    }
    EXPECT_EQ(status, 200);
}

TEST(admin_http_server, stop_is_prompt_with_open_connections_and_idempotent) {
    server_fixture f;  // default 10 s io_timeout
    raw_socket idle(f.port());
    raw_socket partial(f.port());
    partial.send("GET /hello HTTP/1.1\r\n");
    auto r = http::get(localhost, f.port(), "/hello");  // the loop is running
    ASSERT_TRUE(r.has_value()) << r.error().message;

    auto start = steady::now();
    f.server->stop();
    EXPECT_LT(steady::now() - start, 1s);
    EXPECT_TRUE(idle.closed_silently_within(1s));
    EXPECT_TRUE(partial.closed_silently_within(1s));
    f.server->stop();

    r = http::get(localhost, f.port(), "/hello", 1s);
    EXPECT_FALSE(r.has_value());
}

TEST(admin_http_server, handler_may_stop_the_server) {
    server_fixture f;
    auto r = http::get(localhost, f.port(), "/quit");
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->body, "bye\n");
    auto start = steady::now();
    f.server->stop();  // joins the thread that already left its loop
    EXPECT_LT(steady::now() - start, 1s);
    EXPECT_FALSE(http::get(localhost, f.port(), "/hello", 1s).has_value());
}

TEST(admin_http_server, reason_phrases) {
    EXPECT_STREQ(http::reason_phrase(200), "OK");
    EXPECT_STREQ(http::reason_phrase(404), "Not Found");
    EXPECT_STREQ(http::reason_phrase(431), "Request Header Fields Too Large");
    EXPECT_STREQ(http::reason_phrase(299), "Unknown");
}

// ---------------------------------------------------------------------------
// Client

TEST(http_client, reads_chunked_responses_without_waiting_for_close) {
    canned_server server(split("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "5;name=value\r\nhello\r\nA\r\n, world!!!\r\n0\r\n"
                               "Trailer-Field: x\r\n\r\n",
                               3),
                         /*close_after=*/false);
    auto r = http::get(localhost, server.port(), "/chunked", 3s);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "hello, world!!!");
}

TEST(http_client, content_length_frames_the_body_without_waiting_for_close) {
    canned_server server(split("HTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nabcde", 4),
                         /*close_after=*/false);
    auto r = http::get(localhost, server.port(), "/", 3s);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->status, 201);
    EXPECT_EQ(r->reason, "Created");
    EXPECT_EQ(r->body, "abcde");
}

TEST(http_client, reads_until_close_without_framing_and_skips_interim_responses) {
    canned_server server({"HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.0 200 OK\r\n",
                          "X-A: 1\r\n\r\npart one, ", "part two"},
                         /*close_after=*/true);
    auto r = http::get(localhost, server.port(), "/");
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header_value("x-a"), "1");
    EXPECT_EQ(r->body, "part one, part two");
}

TEST(http_client, sends_a_well_formed_request) {
    canned_server server({"HTTP/1.1 204 No Content\r\n\r\n"}, /*close_after=*/false);
    auto r = http::post(localhost, server.port(), "/p?q=1", "abc", "text/plain", 3s);
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_EQ(r->status, 204);
    std::string request = server.received_request();
    EXPECT_THAT(request, StartsWith("POST /p?q=1 HTTP/1.1\r\n"));
    EXPECT_THAT(request, HasSubstr(fmt::format("\r\nHost: 127.0.0.1:{}\r\n", server.port())));
    EXPECT_THAT(request, HasSubstr("\r\nContent-Type: text/plain\r\n"));
    EXPECT_THAT(request, HasSubstr("\r\nContent-Length: 3\r\n"));
    EXPECT_THAT(request, HasSubstr("\r\nConnection: close\r\n"));
    EXPECT_THAT(request, ::testing::EndsWith("\r\n\r\nabc"));
}

TEST(http_client, truncated_and_garbage_responses_are_errors) {
    {
        canned_server server({"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"}, true);
        auto r = http::get(localhost, server.port(), "/");
        ASSERT_FALSE(r.has_value());
        EXPECT_THAT(r.error().message, HasSubstr("closed before the response was complete"));
    }
    {
        canned_server server({"SSH-2.0-OpenSSH_9.2\r\n"}, true);
        auto r = http::get(localhost, server.port(), "/");
        ASSERT_FALSE(r.has_value());
        EXPECT_THAT(r.error().message, HasSubstr("malformed status line"));
    }
    {
        canned_server server({}, true);
        auto r = http::get(localhost, server.port(), "/");
        ASSERT_FALSE(r.has_value());
        EXPECT_THAT(r.error().message, HasSubstr("closed without a response"));
    }
}

TEST(http_client, silent_server_times_out) {
    canned_server server({}, /*close_after=*/false);
    auto start = steady::now();
    auto r = http::get(localhost, server.port(), "/", 300ms);
    auto elapsed = steady::now() - start;
    ASSERT_FALSE(r.has_value());
    EXPECT_THAT(r.error().message, HasSubstr("timed out after 300 ms"));
    EXPECT_GE(elapsed, 250ms);
    EXPECT_LT(elapsed, 2s);
}

TEST(http_client, connection_refused_is_a_clear_error) {
    // A port that was free a moment ago and has no listener.
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr = loopback(0);
    ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr)), 0);
    socklen_t len = sizeof(addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    uint16_t port = ntohs(addr.sin_port);
    ::close(fd);

    auto r = http::get(localhost, port, "/");
    ASSERT_FALSE(r.has_value());
    EXPECT_EQ(r.error().message,
              fmt::format("connect to 127.0.0.1:{} failed: Connection refused", port));
}

TEST(http_client, rejects_invalid_arguments) {
    EXPECT_THAT(http::get(localhost, 1, "no-slash").error().message, HasSubstr("target"));
    EXPECT_THAT(http::get(localhost, 1, "/a b").error().message, HasSubstr("target"));
    EXPECT_THAT(http::send_request("GE T", localhost, 1, "/").error().message, HasSubstr("method"));
    EXPECT_THAT(http::get("evil\r\nhost", 1, "/").error().message, HasSubstr("host"));
}

TEST(http_client, parse_endpoint_accepts_host_port_and_http_urls) {
    struct expected {
        const char* text;
        const char* host;
        uint16_t port;
    };
    for (const expected& e : {
             expected{"localhost:9100", "localhost", 9100},
             expected{"127.0.0.1:1", "127.0.0.1", 1},
             expected{"http://127.0.0.1:9100", "127.0.0.1", 9100},
             expected{"http://obsrv-0.obsrv.svc:65535/", "obsrv-0.obsrv.svc", 65535},
             expected{"HTTP://host:80", "host", 80},
             expected{"http://host", "host", 80},
             expected{"[::1]:9100", "::1", 9100},
             expected{"http://[fe80::1%eth0]:8080", "fe80::1%eth0", 8080},
         }) {
        auto ep = http::parse_endpoint(e.text);
        ASSERT_TRUE(ep.has_value()) << e.text << ": " << ep.error().message;
        EXPECT_EQ(ep->host, e.host) << e.text;
        EXPECT_EQ(ep->port, e.port) << e.text;
    }
    for (const char* bad : {"", "host", "host:", ":80", "host:0", "host:65536", "host:80x",
                            "host:+80", "https://host:443", "http://host:80/metrics", "::1:80",
                            "[::1", "[::1]80", "http://user@host:80", "http://:80"}) {
        auto ep = http::parse_endpoint(bad);
        EXPECT_FALSE(ep.has_value()) << "'" << bad << "' parsed as " << ep->host << ":" << ep->port;
    }
    EXPECT_THAT(http::parse_endpoint("host").error().message, HasSubstr("missing port"));
    EXPECT_THAT(http::parse_endpoint("https://h:1").error().message, HasSubstr("scheme"));
}

}  // namespace
