#include "common/utf8.h"

namespace obsrv {

std::string replace_invalid_utf8(std::string_view bytes) {
    constexpr std::string_view k_replacement = "\xEF\xBF\xBD";  // U+FFFD
    std::string out;
    out.reserve(bytes.size());
    const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
    const size_t n = bytes.size();
    size_t i = 0;
    while (i < n) {
        const unsigned char lead = b[i];
        if (lead < 0x80) {
            out.push_back(static_cast<char>(lead));
            ++i;
            continue;
        }
        // Unicode Table 3-7: how many continuation bytes follow each lead, and the range of the
        // first one (it excludes overlongs, surrogates and code points past U+10FFFF).
        size_t continuation = 0;
        unsigned char first_low = 0x80;
        unsigned char first_high = 0xBF;
        if (lead >= 0xC2 && lead <= 0xDF) {
            continuation = 1;
        } else if (lead == 0xE0) {
            continuation = 2;
            first_low = 0xA0;
        } else if ((lead >= 0xE1 && lead <= 0xEC) || lead == 0xEE || lead == 0xEF) {
            continuation = 2;
        } else if (lead == 0xED) {
            // Unicode would stop at a second byte from 0xA0 (a surrogate); Java's decoder reads
            // the sequence on and replaces it whole (below), and Obsrv's output is Java's.
            continuation = 2;
        } else if (lead == 0xF0) {
            continuation = 3;
            first_low = 0x90;
        } else if (lead >= 0xF1 && lead <= 0xF3) {
            continuation = 3;
        } else if (lead == 0xF4) {
            continuation = 3;
            first_high = 0x8F;
        } else {  // a continuation byte without a lead, C0, C1, F5..FF
            out.append(k_replacement);
            ++i;
            continue;
        }
        // The longest prefix that could still start a well-formed sequence is one maximal
        // subpart: one U+FFFD for all of it, and the byte that broke it starts afresh.
        size_t end = i + 1;
        size_t taken = 0;
        while (taken < continuation && end < n) {
            const unsigned char c = b[end];
            const bool fits =
                taken == 0 ? c >= first_low && c <= first_high : c >= 0x80 && c <= 0xBF;
            if (!fits) {
                break;
            }
            ++taken;
            ++end;
        }
        const bool surrogate = lead == 0xED && taken > 0 && b[i + 1] >= 0xA0;
        if (taken == continuation && !surrogate) {
            out.append(bytes.substr(i, end - i));
        } else {
            out.append(k_replacement);
        }
        i = end;
    }
    return out;
}

}  // namespace obsrv
