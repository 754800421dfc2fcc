#pragma once

namespace streams {

/// The value of one hexadecimal digit in either case, or -1 for any other byte. Shared by the
/// percent-decoder, the JSON \u-escape reader and the SID shape check.
constexpr int hexDigitValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

} // namespace streams
