// The io_uring HTTP server against a real socket client: framing, pipelining,
// ordering of deferred responses, limits, timeouts and graceful stop.

#include "ingress/http_server.h"

#include <atomic>
#include <mutex>
#include <random>
#include <sys/eventfd.h>
#include <thread>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "raw_http_client.h"
#include "test_env.h"

namespace obsrv::ingress {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using testing::raw_http_client;

std::string post(std::string_view path, std::string_view body, std::string_view extra = {}) {
    return fmt::format("POST {} HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n{}\r\n{}", path,
                       body.size(), extra, body);
}

/// Echoes "<method> <path> <body length> <body checksum>"; paths starting
/// with /later are answered from on_wakeup(), in reverse order of arrival.
class test_handler final : public request_handler {
  public:
    explicit test_handler(std::atomic<int>* pending_total) : _pending_total(pending_total) {
        _fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    }
    ~test_handler() override { ::close(_fd); }

    handled on_request(const request& req, response& out) override {
        uint64_t sum = 0;
        for (unsigned char ch : req.body) {
            sum = sum * 31 + ch;
        }
        std::string text =
            fmt::format("{} {} {} {}", req.head.method_text, req.head.path, req.body.size(), sum);
        if (req.head.path.starts_with("/later")) {
            std::lock_guard lock(_mutex);
            _deferred.push_back({req.token, std::move(text)});
            ++*_pending_total;
            return handled::later;
        }
        out.content_type = "text/plain";
        out.body = std::move(text);
        return handled::now;
    }
    int wakeup_fd() override { return _fd; }
    void on_wakeup() override {
        uint64_t v;
        [[maybe_unused]] auto n = ::read(_fd, &v, sizeof v);
        std::vector<std::pair<request_token, std::string>> batch;
        {
            std::lock_guard lock(_mutex);
            batch.swap(_deferred);
        }
        // Reverse order: the server must still answer in request order.
        for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
            response r;
            r.content_type = "text/plain";
            r.body = it->second;
            sink().complete(it->first, std::move(r));
            --*_pending_total;
        }
    }
    size_t pending() const override {
        std::lock_guard lock(_mutex);
        return _deferred.size();
    }
    void on_stop_begin() override { release(); }
    /// Any thread: answer the deferred requests now.
    void release() {
        uint64_t one = 1;
        [[maybe_unused]] auto w = ::write(_fd, &one, sizeof one);
    }

  private:
    int _fd;
    mutable std::mutex _mutex;
    std::vector<std::pair<request_token, std::string>> _deferred;
    std::atomic<int>* _pending_total;
};

class http_server_test : public ::testing::Test {
  protected:
    void start(server_options options = {}) {
        options.bind_address = "127.0.0.1";
        if (options.limits.http.max_body_bytes == http_limits{}.max_body_bytes) {
            options.limits.http.max_body_bytes = 1 << 20;
        }
        _server = std::make_unique<http_server>(
            options,
            [this](unsigned) {
                auto h = std::make_unique<test_handler>(&_pending);
                _handlers.push_back(h.get());
                return h;
            },
            _registry);
        auto st = _server->start();
        ASSERT_TRUE(st) << st.error().message;
    }
    void release_all() {
        for (auto* h : _handlers) {
            h->release();
        }
    }
    void TearDown() override {
        if (_server) {
            _server->stop(std::chrono::steady_clock::now() + 2s);
        }
    }
    uint16_t port() const { return _server->port(); }

    metrics::registry _registry;
    std::atomic<int> _pending{0};
    std::vector<test_handler*> _handlers;
    std::unique_ptr<http_server> _server;
};

TEST_F(http_server_test, keep_alive_serves_many_requests_on_one_connection) {
    start();
    raw_http_client c(port());
    ASSERT_TRUE(c.connected());
    for (int i = 0; i < 50; ++i) {
        ASSERT_TRUE(c.send(post("/x", std::string(static_cast<size_t>(i), 'a'))));
        auto r = c.read_response();
        ASSERT_TRUE(r) << i;
        EXPECT_EQ(r->status, 200);
        EXPECT_THAT(r->body, ::testing::StartsWith(fmt::format("POST /x {} ", i)));
        EXPECT_EQ(r->header("Connection"), "");
    }
    EXPECT_THAT(_registry.render(), HasSubstr("obsrv_gateway_connections 1"));
}

TEST_F(http_server_test, pipelined_requests_are_answered_in_order_even_when_deferred) {
    start();
    raw_http_client c(port());
    std::string batch;
    for (int i = 0; i < 10; ++i) {
        batch += post(i % 2 ? "/later" : "/now", std::to_string(i));
    }
    ASSERT_TRUE(c.send(batch));
    ASSERT_TRUE(testing::wait_until([&] { return _pending.load() == 5; }, 5s));
    release_all();
    for (int i = 0; i < 10; ++i) {
        auto r = c.read_response();
        ASSERT_TRUE(r) << i;
        EXPECT_THAT(r->body, ::testing::StartsWith(
                                 fmt::format("POST {} 1 {}", i % 2 ? "/later" : "/now", '0' + i)));
    }
}

TEST_F(http_server_test, body_split_across_sends_and_buffers_is_reassembled) {
    server_options options;
    options.buffer_size = 4096;  // force bodies across several receive buffers
    options.buffer_count = 16;
    start(options);
    std::mt19937 rng(7);
    std::string body(300 * 1024, 'x');
    for (auto& ch : body) {
        ch = static_cast<char>('a' + rng() % 26);
    }
    uint64_t sum = 0;
    for (unsigned char ch : body) {
        sum = sum * 31 + ch;
    }
    std::string request = post("/big", body) + post("/small", "tail");
    raw_http_client c(port());
    // Irregular pieces, with pauses, as a slow network would deliver them.
    size_t pos = 0;
    while (pos < request.size()) {
        size_t n = std::min<size_t>(request.size() - pos, 1 + rng() % 50000);
        ASSERT_TRUE(c.send(std::string_view(request).substr(pos, n)));
        pos += n;
        if (rng() % 4 == 0) {
            std::this_thread::sleep_for(1ms);
        }
    }
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->body, fmt::format("POST /big {} {}", body.size(), sum));
    auto r2 = c.read_response();
    ASSERT_TRUE(r2);
    EXPECT_THAT(r2->body, ::testing::StartsWith("POST /small 4 "));
}

TEST_F(http_server_test, chunked_body_is_decoded) {
    start();
    raw_http_client c(port());
    ASSERT_TRUE(
        c.send("POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
               "5\r\nhello\r\n"));
    std::this_thread::sleep_for(20ms);
    ASSERT_TRUE(c.send("6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_THAT(r->body, ::testing::StartsWith("POST /c 11 "));
    ASSERT_TRUE(c.send(post("/after", "ok")));
    auto r2 = c.read_response();
    ASSERT_TRUE(r2);
    EXPECT_THAT(r2->body, ::testing::StartsWith("POST /after 2 "));
}

TEST_F(http_server_test, expect_100_continue_is_answered_before_the_body) {
    start();
    raw_http_client c(port());
    ASSERT_TRUE(
        c.send("POST /e HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
               "Expect: 100-continue\r\n\r\n"));
    EXPECT_EQ(c.read_some(5s), "HTTP/1.1 100 Continue\r\n\r\n");
    ASSERT_TRUE(c.send("abc"));
    auto r = c.read_response();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_THAT(r->body, ::testing::StartsWith("POST /e 3 "));
}

TEST_F(http_server_test, head_response_has_no_body_and_http10_closes) {
    start();
    raw_http_client c(port());
    ASSERT_TRUE(c.send("HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n"));
    auto r = c.read_response(5s, /*head_request=*/true);
    ASSERT_TRUE(r);
    EXPECT_NE(r->header("Content-Length"), "0");
    ASSERT_TRUE(c.send("GET /g HTTP/1.0\r\n\r\n"));
    auto r2 = c.read_response();
    ASSERT_TRUE(r2);
    EXPECT_THAT(r2->body, ::testing::StartsWith("GET /g 0"));
    EXPECT_EQ(r2->header("Connection"), "close");
    EXPECT_TRUE(c.closed_by_peer(5s));
}

struct refusal {
    const char* name;
    std::string request;
    int status;
};

class http_server_refusals : public http_server_test,
                             public ::testing::WithParamInterface<refusal> {};

TEST_P(http_server_refusals, answers_and_closes) {
    server_options options;
    options.limits.http.max_head_bytes = 2048;
    options.limits.http.max_header_count = 20;
    options.limits.http.max_body_bytes = 1000;
    start(options);
    raw_http_client c(port());
    ASSERT_TRUE(c.send(GetParam().request));
    auto r = c.read_response();
    ASSERT_TRUE(r) << GetParam().name;
    EXPECT_EQ(r->status, GetParam().status) << GetParam().name;
    EXPECT_EQ(r->header("Connection"), "close");
    EXPECT_TRUE(c.closed_by_peer(5s));
    // The server keeps serving others.
    raw_http_client other(port());
    ASSERT_TRUE(other.send(post("/ok", "1")));
    auto ok = other.read_response();
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
}

INSTANTIATE_TEST_SUITE_P(
    limits, http_server_refusals,
    ::testing::Values(
        refusal{"head_too_large", "GET / HTTP/1.1\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n",
                431},
        refusal{"uri_too_long", "GET /" + std::string(4000, 'a') + " HTTP/1.1\r\n\r\n", 414},
        refusal{"too_many_headers",
                [] {
                    std::string r = "GET / HTTP/1.1\r\n";
                    for (int i = 0; i < 30; ++i) {
                        r += fmt::format("X-H{}: v\r\n", i);
                    }
                    return r + "\r\n";
                }(),
                431},
        refusal{"body_too_large", "POST / HTTP/1.1\r\nContent-Length: 1001\r\n\r\n", 413},
        refusal{"cl_and_te",
                "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        refusal{"duplicate_cl",
                "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400},
        refusal{"garbage", "HELLO\r\n\r\n", 400},
        refusal{"http2_preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505},
        refusal{"chunked_too_large",
                "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3e9\r\n" +
                    std::string(1001, 'a') + "\r\n0\r\n\r\n",
                413}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST_F(http_server_test, slow_client_gets_408) {
    server_options options;
    options.limits.request_timeout = 300ms;
    start(options);
    raw_http_client c(port());
    ASSERT_TRUE(c.send("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc"));
    auto r = c.read_response(5s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 408);
    EXPECT_TRUE(c.closed_by_peer(5s));
    EXPECT_THAT(_registry.render(), HasSubstr("obsrv_gateway_request_timeouts_total 1"));
}

TEST_F(http_server_test, idle_keep_alive_connection_is_closed) {
    server_options options;
    options.limits.idle_timeout = 300ms;
    start(options);
    raw_http_client c(port());
    ASSERT_TRUE(c.send(post("/x", "1")));
    ASSERT_TRUE(c.read_response());
    EXPECT_TRUE(c.closed_by_peer(5s));
    EXPECT_THAT(_registry.render(), HasSubstr("obsrv_gateway_idle_timeouts_total 1"));
}

TEST_F(http_server_test, connections_beyond_the_limit_are_refused) {
    server_options options;
    options.limits.max_connections = 2;
    start(options);
    raw_http_client a(port());
    raw_http_client b(port());
    ASSERT_TRUE(a.send(post("/a", "1")));
    ASSERT_TRUE(b.send(post("/b", "1")));
    ASSERT_TRUE(a.read_response());
    ASSERT_TRUE(b.read_response());
    raw_http_client extra(port());
    EXPECT_TRUE(extra.closed_by_peer(5s));
    EXPECT_THAT(_registry.render(), HasSubstr("obsrv_gateway_connections_rejected_total 1"));
}

TEST_F(http_server_test, client_that_half_closes_still_gets_its_deferred_response) {
    start();
    raw_http_client c(port());
    ASSERT_TRUE(c.send(post("/later", "x")));
    ASSERT_TRUE(testing::wait_until([&] { return _pending.load() == 1; }, 5s));
    c.shutdown_write();
    std::this_thread::sleep_for(50ms);  // the server sees the EOF first
    release_all();
    auto r = c.read_response(5s);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("Connection"), "close");
    EXPECT_TRUE(c.closed_by_peer(5s));
}

TEST_F(http_server_test, response_for_a_reset_connection_is_dropped_and_counted) {
    start();
    {
        raw_http_client c(port());
        ASSERT_TRUE(c.send(post("/later", "x")));
        ASSERT_TRUE(testing::wait_until([&] { return _pending.load() == 1; }, 5s));
        c.reset();
    }
    ASSERT_TRUE(testing::wait_until(
        [&] { return _registry.render().find("obsrv_gateway_connections 0") != std::string::npos; },
        5s));
    release_all();
    EXPECT_TRUE(testing::wait_until(
        [&] {
            return _registry.render().find("obsrv_gateway_responses_dropped_total 1") !=
                   std::string::npos;
        },
        5s));
}

TEST_F(http_server_test, stop_finishes_in_flight_requests) {
    start();
    raw_http_client c(port());
    ASSERT_TRUE(c.send(post("/later", "abc")));
    ASSERT_TRUE(testing::wait_until([&] { return _pending.load() == 1; }, 5s));
    std::thread stopper([&] { _server->stop(std::chrono::steady_clock::now() + 5s); });
    auto r = c.read_response(5s);
    stopper.join();
    ASSERT_TRUE(r) << "the deferred request was answered before the stop completed";
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->header("Connection"), "close");
    EXPECT_TRUE(c.closed_by_peer(5s));
    raw_http_client after(port());
    EXPECT_FALSE(after.connected() && after.send(post("/x", "1")) && after.read_response(1s));
}

TEST_F(http_server_test, many_concurrent_clients_with_random_requests) {
    server_options options;
    options.workers = 2;
    options.buffer_size = 8192;
    options.buffer_count = 64;
    start(options);
    std::atomic<int> failures{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < 8; ++t) {
        clients.emplace_back([&, t] {
            std::mt19937 rng(static_cast<unsigned>(t));
            raw_http_client c(port());
            for (int i = 0; i < 40; ++i) {
                int n = 1 + static_cast<int>(rng() % 4);
                std::string batch;
                std::vector<size_t> sizes;
                for (int k = 0; k < n; ++k) {
                    size_t size = rng() % 30000;
                    sizes.push_back(size);
                    batch += post(rng() % 3 == 0 ? "/later" : "/now", std::string(size, 'q'));
                }
                if (!c.send(batch)) {
                    ++failures;
                    return;
                }
                for (size_t size : sizes) {
                    auto r = c.read_response(20s);
                    if (!r || r->body.find(fmt::format(" {} ", size)) == std::string::npos) {
                        ++failures;
                        return;
                    }
                }
            }
        });
    }
    std::atomic<bool> done{false};
    std::thread releaser([&] {
        while (!done) {
            release_all();
            std::this_thread::sleep_for(2ms);
        }
    });
    for (auto& t : clients) {
        t.join();
    }
    done = true;
    releaser.join();
    EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace obsrv::ingress
