// libFuzzer target: FormDecoder on arbitrary request bodies, query strings and path segments.
// Besides never crashing, what it accepts must be exactly the percent-decoded bytes as text (a
// decoder that silently drops or replaces bytes lets two spellings name one object), and
// re-encoding the decoded fields must decode to the same fields.
#include "api/hexdigit.h"
#include "require.h"
#include "server/formdecoder.h"

#include <QStringDecoder>
#include <cstdint>
#include <optional>

using namespace streams;

namespace {

// The bytes a component stands for, or nullopt for a malformed escape: the reference the decoder
// is checked against, kept as plain as possible.
std::optional<QByteArray> percentDecoded(QByteArrayView encoded, bool plusIsSpace)
{
    QByteArray bytes;
    for (qsizetype i = 0; i < encoded.size(); ++i) {
        if (encoded[i] == '%') {
            if (i + 2 >= encoded.size())
                return std::nullopt;
            const int high = hexDigitValue(encoded[i + 1]);
            const int low = hexDigitValue(encoded[i + 2]);
            if (high < 0 || low < 0)
                return std::nullopt;
            bytes.append(char(high * 16 + low));
            i += 2;
        } else {
            bytes.append(encoded[i] == '+' && plusIsSpace ? ' ' : encoded[i]);
        }
    }
    return bytes;
}

void checkComponent(QByteArrayView encoded, bool plusIsSpace)
{
    const auto text = FormDecoder::decodeComponent(encoded, plusIsSpace);
    const auto bytes = percentDecoded(encoded, plusIsSpace);
    if (!text) {
        require(text.error().httpStatus() == 400, "a bad component is a 400");
        require(!text.error().message().isEmpty(), "every error is described");
        // Either the escapes are malformed or the bytes are not UTF-8; a strict reading of the
        // same bytes must agree that they are not.
        if (bytes) {
            QStringDecoder utf8(QStringDecoder::Utf8,
                QStringDecoder::Flag::Stateless | QStringDecoder::Flag::ConvertInitialBom);
            const QString decoded = utf8.decode(*bytes); // decode() is lazy: convert
            require(utf8.hasError(), "only malformed escapes or invalid UTF-8 are refused");
        }
        return;
    }
    require(bytes.has_value(), "malformed percent-encoding is refused");
    require(text->isValidUtf16(), "decoded text is valid UTF-16");
    require(text->toUtf8() == *bytes, "the text is exactly the percent-decoded bytes");
    const QByteArray reencoded = text->toUtf8().toPercentEncoding();
    const auto again = FormDecoder::decodeComponent(reencoded, plusIsSpace);
    require(again && *again == *text, "a percent-encoded component decodes to itself");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input(data, qsizetype(size));

    checkComponent(input, true);
    checkComponent(input, false);
    if (!input.contains('+')) {
        const auto form = FormDecoder::decodeComponent(input, true);
        const auto path = FormDecoder::decodeComponent(input, false);
        require(form.has_value() == path.has_value() && (!form || *form == *path),
            "without '+' form and path decoding agree");
    }

    const auto fields = FormDecoder::decode(input);
    if (!fields) {
        require(fields.error().httpStatus() == 400, "a bad form is a 400");
        require(!fields.error().message().isEmpty(), "every error is described");
        return 0;
    }
    require(fields->size() <= input.count('&') + 1, "no more fields than pairs");

    // The first pair's value wins for its name.
    const qsizetype firstEnd = input.indexOf('&');
    const QByteArrayView first = firstEnd < 0 ? input : input.first(firstEnd);
    if (!first.isEmpty()) {
        const qsizetype equals = first.indexOf('=');
        const auto name =
            FormDecoder::decodeComponent(equals < 0 ? first : first.first(equals), true);
        const auto value = FormDecoder::decodeComponent(
            equals < 0 ? QByteArrayView() : first.sliced(equals + 1), true);
        require(name && value, "the pairs of an accepted form decode");
        require(fields->value(*name) == *value && fields->contains(*name), "the first value wins");
    }

    // Encoding the fields again (in any order) gives back the same fields.
    QByteArray encoded;
    for (auto it = fields->cbegin(); it != fields->cend(); ++it) {
        if (!encoded.isEmpty())
            encoded += '&';
        encoded +=
            it.key().toUtf8().toPercentEncoding() + '=' + it.value().toUtf8().toPercentEncoding();
    }
    const auto again = FormDecoder::decode(encoded);
    require(again.has_value(), "re-encoded fields decode");
    require(*again == *fields, "fields survive encoding and decoding");
    return 0;
}
