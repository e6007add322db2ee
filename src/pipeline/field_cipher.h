#pragma once

// Obsrv's `encrypt` transformation (CipherUtil): Java's Cipher.getInstance("AES"), which is AES
// in ECB mode with PKCS#5 padding, keyed with the UTF-8 bytes of system_settings'
// encryptionSecretKey (16, 24 or 32 bytes: AES-128, -192 or -256), the cipher text in standard
// Base64 with padding (java.util.Base64.getEncoder()). Empty text stays empty.
//
// Holds an OpenSSL context keyed once: one per worker (not thread-safe).

#include <memory>
#include <string>
#include <string_view>

#include "common/result.h"

struct evp_cipher_ctx_st;
struct evp_cipher_st;

namespace obsrv::pipeline {

class field_cipher {
  public:
    /// Whether `key` has a length AES accepts (16, 24 or 32 bytes).
    static bool valid_key(std::string_view key) {
        return key.size() == 16 || key.size() == 24 || key.size() == 32;
    }

    static result<field_cipher> create(std::string_view key);

    /// Appends the Base64 of the encrypted UTF-8 bytes of `plain` to `out`; false when OpenSSL
    /// fails (nothing appended).
    bool encrypt(std::string_view plain, std::string& out);

    const std::string& key() const { return _key; }

  private:
    struct ctx_free {
        void operator()(evp_cipher_ctx_st* ctx) const;
    };
    struct cipher_free {
        void operator()(evp_cipher_st* cipher) const;
    };

    field_cipher() = default;

    std::string _key;
    std::unique_ptr<evp_cipher_st, cipher_free> _cipher;
    std::unique_ptr<evp_cipher_ctx_st, ctx_free> _ctx;
    std::string _buffer;
};

}  // namespace obsrv::pipeline
