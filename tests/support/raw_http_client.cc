#include "raw_http_client.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>

namespace obsrv::testing {
namespace {

bool iequal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

}  // namespace

std::string parsed_response::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (iequal(k, name)) {
            return v;
        }
    }
    return {};
}

raw_http_client::raw_http_client(uint16_t port, const char* host) {
    _fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    ::inet_pton(AF_INET, host, &addr.sin_addr);
    if (::connect(_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        ::close(_fd);
        _fd = -1;
    }
}

raw_http_client::~raw_http_client() {
    if (_fd >= 0) {
        ::close(_fd);
    }
}

bool raw_http_client::send(std::string_view bytes) {
    while (!bytes.empty()) {
        ssize_t n = ::send(_fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
        if (n <= 0) {
            return false;
        }
        bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

void raw_http_client::shutdown_write() {
    ::shutdown(_fd, SHUT_WR);
}

void raw_http_client::reset() {
    linger hard{1, 0};
    ::setsockopt(_fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    ::close(_fd);
    _fd = -1;
}

bool raw_http_client::fill(std::chrono::steady_clock::time_point deadline) {
    if (_eof) {
        return false;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
        return false;
    }
    pollfd p{_fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
        return false;
    }
    char chunk[65536];
    ssize_t n = ::recv(_fd, chunk, sizeof chunk, 0);
    if (n <= 0) {
        _eof = true;
        return false;
    }
    _buffer.append(chunk, static_cast<size_t>(n));
    return true;
}

std::optional<parsed_response> raw_http_client::read_response(std::chrono::milliseconds timeout,
                                                              bool head_request) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        auto end = _buffer.find("\r\n\r\n");
        if (end != std::string::npos) {
            parsed_response r;
            std::string_view head(_buffer.data(), end);
            auto line_end = head.find("\r\n");
            std::string_view status_line = head.substr(0, line_end);
            auto sp = status_line.find(' ');
            r.status = std::atoi(std::string(status_line.substr(sp + 1, 3)).c_str());
            size_t pos = line_end == std::string_view::npos ? head.size() : line_end + 2;
            while (pos < head.size()) {
                auto next = head.find("\r\n", pos);
                if (next == std::string_view::npos) {
                    next = head.size();
                }
                std::string_view line = head.substr(pos, next - pos);
                auto colon = line.find(':');
                std::string_view value = line.substr(colon + 1);
                while (!value.empty() && value.front() == ' ') {
                    value.remove_prefix(1);
                }
                r.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
                pos = next + 2;
            }
            size_t length = 0;
            if (!head_request && r.status >= 200 && r.status != 204 && r.status != 304) {
                length = static_cast<size_t>(std::atoll(r.header("Content-Length").c_str()));
            }
            while (_buffer.size() < end + 4 + length) {
                if (!fill(deadline)) {
                    return std::nullopt;
                }
            }
            r.body = _buffer.substr(end + 4, length);
            _buffer.erase(0, end + 4 + length);
            return r;
        }
        if (!fill(deadline)) {
            return std::nullopt;
        }
    }
}

std::string raw_http_client::read_some(std::chrono::milliseconds timeout) {
    if (_buffer.empty()) {
        fill(std::chrono::steady_clock::now() + timeout);
    }
    return std::exchange(_buffer, std::string());
}

bool raw_http_client::closed_by_peer(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!_eof) {
        if (!fill(deadline) && !_eof) {
            return false;
        }
    }
    return true;
}

}  // namespace obsrv::testing
