// ErrorOr<T>: a value or an Error, with TRY() to propagate the error.
#pragma once

#include "base/Error.h"
#include "base/Verify.h"

#include <optional>
#include <utility>
#include <variant>

namespace signet {

template<typename T>
class [[nodiscard]] ErrorOr {
public:
    ErrorOr(T value)
        : m_storage(std::in_place_index<0>, std::move(value))
    {
    }
    ErrorOr(Error error)
        : m_storage(std::in_place_index<1>, std::move(error))
    {
    }
    template<typename U>
        requires(std::is_convertible_v<U, T> && !std::is_same_v<std::decay_t<U>, Error> && !std::is_same_v<std::decay_t<U>, T>)
    ErrorOr(U&& value)
        : m_storage(std::in_place_index<0>, T(std::forward<U>(value)))
    {
    }

    bool is_error() const { return m_storage.index() == 1; }
    explicit operator bool() const { return !is_error(); }

    T& value()
    {
        VERIFY(!is_error());
        return std::get<0>(m_storage);
    }
    T const& value() const
    {
        VERIFY(!is_error());
        return std::get<0>(m_storage);
    }
    T release_value() { return std::move(value()); }

    Error const& error() const
    {
        VERIFY(is_error());
        return std::get<1>(m_storage);
    }
    Error release_error() { return std::move(std::get<1>(m_storage)); }

    T* operator->() { return &value(); }
    T& operator*() { return value(); }

private:
    std::variant<T, Error> m_storage;
};

template<>
class [[nodiscard]] ErrorOr<void> {
public:
    ErrorOr() = default;
    ErrorOr(Error error)
        : m_error(std::move(error))
    {
    }

    bool is_error() const { return m_error.has_value(); }
    explicit operator bool() const { return !is_error(); }
    Error const& error() const
    {
        VERIFY(is_error());
        return *m_error;
    }
    Error release_error() { return std::move(*m_error); }
    void release_value() { }

private:
    std::optional<Error> m_error;
};

} // namespace signet

// TRY(expr): evaluate an ErrorOr; return its error from the enclosing function,
// or yield its value. Uses a GNU statement expression, as Serenity's AK does.
#define TRY(expression)                                  \
    ({                                                   \
        auto&& _signet_try = (expression);               \
        if (_signet_try.is_error()) [[unlikely]]         \
            return _signet_try.release_error();          \
        _signet_try.release_value();                     \
    })
