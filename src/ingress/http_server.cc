#include "ingress/http_server.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <future>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace obsrv::ingress {
namespace {

result<int> listen_on(const std::string& address, uint16_t port, int backlog) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return make_error("socket: {}", std::strerror(errno));
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    // Every worker listens on the same port; the kernel balances accepts.
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (::inet_pton(AF_INET, address.c_str(), &addr.sin_addr) != 1) {
        ::close(fd);
        return make_error("'{}' is not an IPv4 address", address);
    }
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd, backlog) != 0) {
        int saved = errno;
        ::close(fd);
        return make_error("cannot listen on {}:{}: {}", address, port, std::strerror(saved));
    }
    return fd;
}

uint16_t bound_port(int fd) {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    return ntohs(addr.sin_port);
}

}  // namespace

http_server::http_server(server_options options, handler_factory factory,
                         metrics::registry& registry)
    : _options(std::move(options)), _factory(std::move(factory)), _metrics(registry) {}

http_server::~http_server() {
    stop(std::chrono::steady_clock::now());
}

status http_server::start() {
    unsigned count = std::max(1u, _options.workers);
    uint16_t port = _options.port;
    for (unsigned i = 0; i < count; ++i) {
        auto fd = listen_on(_options.bind_address, port, _options.listen_backlog);
        if (!fd) {
            return fd.error();
        }
        _listeners.push_back(*fd);
        port = bound_port(*fd);  // port 0: the others join the port the first got
    }
    _port = port;
    server_limits limits = _options.limits;
    limits.max_connections = std::max<size_t>(1, limits.max_connections / count);
    for (unsigned i = 0; i < count; ++i) {
        _handlers.push_back(_factory(i));
        worker_options wo;
        wo.index = i;
        wo.listen_fd = _listeners[i];
        wo.ring_entries = _options.ring_entries;
        wo.buffer_count = _options.buffer_count;
        wo.buffer_size = _options.buffer_size;
        wo.completion_batch = _options.completion_batch;
        wo.completion_wait = _options.completion_wait;
        wo.limits = limits;
        _workers.push_back(std::make_unique<server_worker>(wo, *_handlers.back(), _metrics));
    }
    for (unsigned i = 0; i < count; ++i) {
        std::promise<status> ready;
        auto result = ready.get_future();
        _threads.emplace_back([worker = _workers[i].get(), p = std::move(ready)]() mutable {
            worker->run(std::move(p));
        });
        auto st = result.get();
        if (!st) {
            stop(std::chrono::steady_clock::now());
            return make_error("gateway worker io-{}: {}", i, st.error().message);
        }
    }
    return {};
}

void http_server::stop(std::chrono::steady_clock::time_point deadline) {
    if (_stopped) {
        return;
    }
    _stopped = true;
    for (auto& worker : _workers) {
        worker->stop(deadline);
    }
    for (auto& thread : _threads) {
        if (thread.joinable()) {
            thread.join();
        }
    }
    for (int fd : _listeners) {
        ::close(fd);
    }
    _listeners.clear();
}

}  // namespace obsrv::ingress
