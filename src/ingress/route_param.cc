#include "ingress/route_param.h"

#include <simdjson.h>

#include "common/hex.h"

namespace obsrv::ingress {

bool decode_route_param(std::string_view raw, std::string& out) {
    out.clear();
    for (size_t i = 0; i < raw.size(); ++i) {
        if (raw[i] != '%') {
            out.push_back(raw[i]);
            continue;
        }
        if (i + 2 >= raw.size()) {
            return false;
        }
        const int high = hex_digit_value(raw[i + 1]);
        const int low = hex_digit_value(raw[i + 2]);
        if (high < 0 || low < 0) {
            return false;
        }
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
    }
    return simdjson::validate_utf8(out.data(), out.size());
}

}  // namespace obsrv::ingress
