#include "redis/client.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>

namespace obsrv::redis {
namespace {

timeval to_timeval(std::chrono::milliseconds ms) {
    const auto count = std::max<int64_t>(1, ms.count());
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(count / 1000);
    tv.tv_usec = static_cast<suseconds_t>((count % 1000) * 1000);
    return tv;
}

void append_decimal(std::string& out, int64_t value) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    (void)ec;  // 24 bytes hold any int64_t
    out.append(buf, end);
}

void append_header(std::string& out, char kind, size_t n) {
    out.push_back(kind);
    append_decimal(out, static_cast<int64_t>(n));
    out.append("\r\n", 2);
}

reply convert(const redisReply& r) {
    reply out;
    switch (r.type) {
        case REDIS_REPLY_STATUS:
            out.type = reply_type::status;
            out.text.assign(r.str, static_cast<size_t>(r.len));
            break;
        case REDIS_REPLY_ERROR:
            out.type = reply_type::error;
            out.text.assign(r.str, static_cast<size_t>(r.len));
            break;
        case REDIS_REPLY_STRING:
            out.type = reply_type::string;
            out.text.assign(r.str, static_cast<size_t>(r.len));
            break;
        case REDIS_REPLY_INTEGER:
            out.type = reply_type::integer;
            out.integer = r.integer;
            break;
        case REDIS_REPLY_ARRAY:
            out.type = reply_type::array;
            out.elements.reserve(r.elements);
            for (size_t i = 0; i < r.elements; ++i) {
                out.elements.push_back(convert(*r.element[i]));
            }
            break;
        default:
            out.type = reply_type::nil;
            break;
    }
    return out;
}

}  // namespace

// ---- pipeline ----------------------------------------------------------------------------

pipeline& pipeline::add(std::initializer_list<std::string_view> args) {
    begin(args.size());
    for (std::string_view a : args) {
        arg(a);
    }
    return *this;
}

pipeline& pipeline::begin(size_t argc) {
    append_header(_bytes, '*', argc);
    ++_commands;
    _missing_args += argc;
    return *this;
}

pipeline& pipeline::arg(std::string_view value) {
    append_header(_bytes, '$', value.size());
    _bytes.append(value);
    _bytes.append("\r\n", 2);
    --_missing_args;
    return *this;
}

pipeline& pipeline::arg(int64_t value) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    (void)ec;
    return arg(std::string_view(buf, static_cast<size_t>(end - buf)));
}

pipeline& pipeline::arg_parts(std::initializer_list<std::string_view> parts) {
    size_t total = 0;
    for (std::string_view p : parts) {
        total += p.size();
    }
    append_header(_bytes, '$', total);
    for (std::string_view p : parts) {
        _bytes.append(p);
    }
    _bytes.append("\r\n", 2);
    --_missing_args;
    return *this;
}

void pipeline::clear() {
    _bytes.clear();
    _commands = 0;
    _missing_args = 0;
}

// ---- client ------------------------------------------------------------------------------

client::client(client_options options) : _options(std::move(options)) {}

client::~client() {
    disconnect();
}

std::string client::endpoint() const {
    return fmt::format("redis {}:{} db {}", _options.host, _options.port, _options.db);
}

void client::disconnect() {
    if (_context) {
        redisFree(_context);
        _context = nullptr;
    }
    _healthy.store(false, std::memory_order_relaxed);
}

error client::fail(std::string what) {
    disconnect();
    // The first failure after a working connection gets an immediate reconnect on the next
    // call (a restarted server, an idle connection closed by the server); further ones back
    // off, doubling.
    if (_failures == 0) {
        _next_attempt = {};
    } else {
        auto backoff = _options.reconnect_backoff;
        for (uint32_t i = 1; i < _failures && backoff < _options.reconnect_backoff_max; ++i) {
            backoff *= 2;
        }
        backoff = std::min(backoff, _options.reconnect_backoff_max);
        _next_attempt = std::chrono::steady_clock::now() + backoff;
    }
    ++_failures;
    _last_error = std::move(what);
    return make_error("{}: {}", endpoint(), _last_error);
}

status client::ensure_connected() {
    if (_context) {
        // A connection closed by the server while idle (restart, `timeout` setting) shows as
        // readable or hung up; RESP2 never sends unrequested data. Reconnecting now saves the
        // caller a failed call.
        pollfd p{_context->fd, POLLIN | POLLRDHUP, 0};
        if (::poll(&p, 1, 0) == 0) {
            return {};
        }
        disconnect();
    }
    const auto now = std::chrono::steady_clock::now();
    if (now < _next_attempt) {
        const auto wait =
            std::chrono::duration_cast<std::chrono::milliseconds>(_next_attempt - now).count();
        return make_error("{}: unavailable, next connect attempt in {} ms (last error: {})",
                          endpoint(), wait, _last_error);
    }
    redisContext* c = redisConnectWithTimeout(_options.host.c_str(), _options.port,
                                              to_timeval(_options.connect_timeout));
    if (c == nullptr) {
        return fail("connect: cannot allocate a context");
    }
    if (c->err != 0) {
        std::string message = c->errstr;
        redisFree(c);
        return fail("connect: " + message);
    }
    _context = c;
    ++_connects;
    if (redisSetTimeout(c, to_timeval(_options.command_timeout)) != REDIS_OK) {
        return fail("connect: cannot set the command timeout");
    }
    // Detects a peer that vanished without closing (host down) on an idle connection.
    (void)redisEnableKeepAlive(c);
    if (_options.db != 0) {
        pipeline select;
        select.begin(2).arg("SELECT").arg(int64_t{_options.db});
        if (auto sent = send_all(select.bytes()); !sent) {
            return sent;
        }
        auto r = read_reply();
        if (!r) {
            return r.error();
        }
        if (!r->is_ok()) {
            return fail(fmt::format("SELECT {}: {}", _options.db, r->text));
        }
    }
    return {};
}

status client::send_all(std::string_view bytes) {
    const char* p = bytes.data();
    size_t left = bytes.size();
    while (left > 0) {
        // MSG_NOSIGNAL: a peer that went away is an error value, not a SIGPIPE.
        ssize_t n = ::send(_context->fd, p, left, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                return fail(
                    fmt::format("send timed out after {} ms", _options.command_timeout.count()));
            }
            return fail(fmt::format("send: {}", std::strerror(errno)));
        }
        _wrote = true;
        p += n;
        left -= static_cast<size_t>(n);
    }
    return {};
}

result<reply> client::read_reply() {
    void* raw = nullptr;
    if (redisGetReply(_context, &raw) != REDIS_OK || raw == nullptr) {
        const int saved_errno = errno;
        if (_context->err == REDIS_ERR_IO &&
            (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK)) {
            return fail(
                fmt::format("reply timed out after {} ms", _options.command_timeout.count()));
        }
        if (_context->err == REDIS_ERR_EOF) {
            return fail("connection closed by the server");
        }
        return fail(fmt::format("read: {}", _context->errstr));
    }
    reply out = convert(*static_cast<const redisReply*>(raw));
    freeReplyObject(raw);
    return out;
}

status client::connect() {
    return ensure_connected();
}

status client::execute(const pipeline& commands, std::vector<reply>& replies) {
    replies.clear();
    _wrote = false;
    if (!commands.complete()) {
        return make_error("{}: a pipelined command lacks arguments", endpoint());
    }
    if (commands.empty()) {
        return {};
    }
    if (auto connected = ensure_connected(); !connected) {
        _wrote = false;  // a SELECT may have been written, none of `commands`
        return connected;
    }
    _wrote = false;
    if (auto sent = send_all(commands.bytes()); !sent) {
        return sent;
    }
    replies.reserve(commands.size());
    for (size_t i = 0; i < commands.size(); ++i) {
        auto r = read_reply();
        if (!r) {
            return std::move(r).error();
        }
        replies.push_back(std::move(*r));
    }
    _failures = 0;
    _healthy.store(true, std::memory_order_relaxed);
    return {};
}

result<std::vector<reply>> client::execute(const pipeline& commands) {
    std::vector<reply> replies;
    if (auto s = execute(commands, replies); !s) {
        return s.error();
    }
    return replies;
}

result<reply> client::command(std::initializer_list<std::string_view> args) {
    _scratch.clear();
    _scratch.add(args);
    if (auto s = execute(_scratch, _scratch_replies); !s) {
        return s.error();
    }
    reply r = std::move(_scratch_replies.front());
    if (r.is_error()) {
        return make_error("{}: {}", endpoint(), r.text);
    }
    return r;
}

status client::ping() {
    auto r = command({"PING"});
    if (!r) {
        return r.error();
    }
    return {};
}

}  // namespace obsrv::redis
