#pragma once

// Errors as values for start-up and control paths: a result<T> holds either a
// T or an error with a one-line, human-readable message. Hot paths use small
// enum status codes instead (see the stage and ingress headers).

#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace obsrv {

struct error {
    std::string message;
};

template <typename... Args>
[[nodiscard]] error make_error(fmt::format_string<Args...> format, Args&&... args) {
    return error{fmt::format(format, std::forward<Args>(args)...)};
}

template <typename T>
class [[nodiscard]] result {
  public:
    result(T value) : _state(std::in_place_index<0>, std::move(value)) {}     // NOLINT: implicit
    result(obsrv::error e) : _state(std::in_place_index<1>, std::move(e)) {}  // NOLINT: implicit

    bool has_value() const noexcept { return _state.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    T& value() & { return std::get<0>(_state); }
    const T& value() const& { return std::get<0>(_state); }
    T&& value() && { return std::get<0>(std::move(_state)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const obsrv::error& error() const& { return std::get<1>(_state); }
    obsrv::error&& error() && { return std::get<1>(std::move(_state)); }

  private:
    std::variant<T, obsrv::error> _state;
};

template <>
class [[nodiscard]] result<void> {
  public:
    result() = default;
    result(obsrv::error e) : _error(std::move(e)), _failed(true) {}  // NOLINT: implicit

    bool has_value() const noexcept { return !_failed; }
    explicit operator bool() const noexcept { return has_value(); }
    const obsrv::error& error() const& { return _error; }

  private:
    obsrv::error _error;
    bool _failed = false;
};

using status = result<void>;

}  // namespace obsrv
