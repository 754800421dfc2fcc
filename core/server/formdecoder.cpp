#include "server/formdecoder.h"

#include "api/hexdigit.h"

#include <QStringDecoder>

namespace streams {

std::expected<QString, ApiError> FormDecoder::decodeComponent(
    QByteArrayView encoded, bool plusIsSpace)
{
    QByteArray bytes;
    bytes.reserve(encoded.size());
    for (qsizetype i = 0; i < encoded.size(); ++i) {
        const char c = encoded[i];
        if (c == '%') {
            const int high = i + 1 < encoded.size() ? hexDigitValue(encoded[i + 1]) : -1;
            const int low = i + 2 < encoded.size() ? hexDigitValue(encoded[i + 2]) : -1;
            if (high < 0 || low < 0)
                return std::unexpected(ApiError::badRequest(
                    QStringLiteral("Malformed percent-encoding at byte %1").arg(i)));
            bytes.append(char(high * 16 + low));
            i += 2;
        } else if (c == '+' && plusIsSpace) {
            bytes.append(' ');
        } else {
            bytes.append(c);
        }
    }
    // ConvertInitialBom: by default the decoder drops a leading U+FEFF, so "%EF%BB%BFa" would
    // decode to "a" and two spellings would name one object (found by fuzz_formdecoder).
    QStringDecoder utf8(QStringDecoder::Utf8,
        QStringDecoder::Flag::Stateless | QStringDecoder::Flag::ConvertInitialBom);
    QString text = utf8.decode(bytes);
    if (utf8.hasError())
        return std::unexpected(ApiError::badRequest(QStringLiteral("Invalid UTF-8 in request")));
    return text;
}

std::expected<FormDecoder::Fields, ApiError> FormDecoder::decode(QByteArrayView encoded)
{
    Fields fields;
    qsizetype start = 0;
    while (start <= encoded.size()) {
        qsizetype end = encoded.indexOf('&', start);
        if (end < 0)
            end = encoded.size();
        const QByteArrayView pair = encoded.sliced(start, end - start);
        if (!pair.isEmpty()) {
            const qsizetype equals = pair.indexOf('=');
            const QByteArrayView rawName = equals < 0 ? pair : pair.first(equals);
            const QByteArrayView rawValue = equals < 0 ? QByteArrayView() : pair.sliced(equals + 1);
            auto name = decodeComponent(rawName, true);
            if (!name)
                return std::unexpected(name.error());
            auto value = decodeComponent(rawValue, true);
            if (!value)
                return std::unexpected(ApiError::badRequest(
                    QStringLiteral("Parameter %1: %2").arg(*name, value.error().message())));
            if (!fields.contains(*name))
                fields.insert(*name, *value);
        }
        start = end + 1;
    }
    return fields;
}

} // namespace streams
