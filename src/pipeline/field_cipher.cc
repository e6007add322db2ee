#include "pipeline/field_cipher.h"

#include <openssl/err.h>
#include <openssl/evp.h>

namespace obsrv::pipeline {

namespace {

std::string openssl_error() {
    const unsigned long code = ERR_get_error();
    if (code == 0) {
        return "unknown OpenSSL error";
    }
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    return text;
}

}  // namespace

void field_cipher::ctx_free::operator()(evp_cipher_ctx_st* ctx) const {
    EVP_CIPHER_CTX_free(ctx);
}

void field_cipher::cipher_free::operator()(evp_cipher_st* cipher) const {
    EVP_CIPHER_free(cipher);
}

result<field_cipher> field_cipher::create(std::string_view key) {
    if (!valid_key(key)) {
        return make_error("an AES key has 16, 24 or 32 bytes, not {}", key.size());
    }
    field_cipher c;
    c._key.assign(key);
    // Fetched once: OpenSSL 3 would otherwise look the algorithm up at every initialisation.
    const char* name = key.size() == 16   ? "AES-128-ECB"
                       : key.size() == 24 ? "AES-192-ECB"
                                          : "AES-256-ECB";
    c._cipher.reset(EVP_CIPHER_fetch(nullptr, name, nullptr));
    c._ctx.reset(EVP_CIPHER_CTX_new());
    if (!c._cipher || !c._ctx) {
        return make_error("{}: {}", name, openssl_error());
    }
    // PKCS padding is OpenSSL's default, as PKCS5Padding is Java's for "AES".
    if (EVP_EncryptInit_ex2(c._ctx.get(), c._cipher.get(),
                            reinterpret_cast<const unsigned char*>(c._key.data()), nullptr,
                            nullptr) != 1) {
        return make_error("{}: {}", name, openssl_error());
    }
    return c;
}

bool field_cipher::encrypt(std::string_view plain, std::string& out) {
    if (plain.empty()) {
        return true;
    }
    // Re-initialising without cipher or key keeps the key schedule and resets the state.
    if (EVP_EncryptInit_ex2(_ctx.get(), nullptr, nullptr, nullptr, nullptr) != 1) {
        ERR_clear_error();
        return false;
    }
    constexpr size_t k_block = 16;
    _buffer.resize((plain.size() / k_block + 1) * k_block);
    auto* cipher_text = reinterpret_cast<unsigned char*>(_buffer.data());
    int written = 0;
    int final_written = 0;
    if (EVP_EncryptUpdate(_ctx.get(), cipher_text, &written,
                          reinterpret_cast<const unsigned char*>(plain.data()),
                          static_cast<int>(plain.size())) != 1 ||
        EVP_EncryptFinal_ex(_ctx.get(), cipher_text + written, &final_written) != 1) {
        ERR_clear_error();
        return false;
    }
    const size_t length = static_cast<size_t>(written + final_written);
    const size_t start = out.size();
    out.resize(start + 4 * ((length + 2) / 3) + 1);  // EVP_EncodeBlock writes a NUL
    const int encoded = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + start),
                                        cipher_text, static_cast<int>(length));
    out.resize(start + static_cast<size_t>(encoded));
    return true;
}

}  // namespace obsrv::pipeline
