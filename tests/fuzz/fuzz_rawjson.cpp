// libFuzzer target: rawjson::member, which reads a member's text out of JSON that came over the
// network (a twilsock notification in the CDS router and the remote live channel, a REST reply in
// the REST client). The input is "NAME\nJSON" (no newline: the name is "data"). Besides never
// crashing or reading outside the input, whenever the JSON is an object as Qt reads it:
// - a member it finds is a view into the input, and parses to the same value Qt's object holds
//   under that name (the last occurrence, as in QJsonObject);
// - it finds the member whenever the object has it, unless some key is written with an escape
//   (then callers fall back to the parsed value, and it may say nothing).
// It also runs rawjson::pointerAt (the live view's "chart this field") at one offset picked from
// the input (read safely, whatever it answers), and at one offset of Qt's rendering of the parsed
// object, as the Message pane shows it: a pointer it names there must resolve in Qt's parse.
#include "api/jsonpointer.h"
#include "api/rawjson.h"
#include "require.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>
#include <cstdint>

using namespace streams;

namespace {

// Whether any key of the object at the top of `json` is written with an escape. A coarse test
// is enough: a backslash anywhere before a colon outside nested values is rare in seeds, and a
// false "yes" only weakens the check for that input.
bool mayHaveEscapedKey(QByteArrayView json)
{
    return json.contains('\\');
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input(data, qsizetype(size));
    const qsizetype newline = input.indexOf('\n');
    const QByteArrayView name = newline < 0 ? QByteArrayView("data") : input.first(newline);
    const QByteArrayView json = newline < 0 ? input : input.sliced(newline + 1);

    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(json.toByteArray(), &error);
    // The contract: callers pass only text that parsed as an object. Anything else must still be
    // read safely (ASan checks that), whatever it answers.
    const auto found = rawjson::member(json, name);
    if (found) {
        require(found->data() >= json.data()
                && found->data() + found->size() <= json.data() + json.size(),
            "the member's text is a view into the input");
    }
    const qsizetype offset = json.isEmpty() ? 0 : qsizetype(size * 7919 % size_t(json.size()));
    const auto pointer = rawjson::pointerAt(json, offset);
    if (error.error != QJsonParseError::NoError || !document.isObject())
        return 0;
    // Qt's parser drops a raw U+FEFF that starts a string (docs/reliability.md), so a key
    // written that way is another key to Qt than its bytes say: no oracle for such text.
    if (json.contains("\"\xEF\xBB\xBF"))
        return 0;

    Q_UNUSED(pointer); // raw text may repeat a key, and Qt keeps the last: no oracle there
    // Where the console uses it: on Qt's own rendering of the message (the Message pane), in
    // which every key is there once, as Qt escapes it.
    const QByteArray pretty = document.toJson(QJsonDocument::Indented);
    const qsizetype at = qsizetype(size * 7919 % size_t(pretty.size()));
    if (const auto shown = rawjson::pointerAt(pretty, at))
        require(!jsonpointer::resolve(document.object(), *shown).isUndefined(),
            "a pointer found at an offset of the rendered message names a value");

    const QJsonObject object = document.object();
    const QString key = QString::fromUtf8(name);
    if (!found) {
        require(!object.contains(key) || mayHaveEscapedKey(json) || key.toUtf8() != name,
            "a member the object has is found");
        return 0;
    }
    require(object.contains(key), "only a member the object has is found");
    // Parse the text found on its own, wrapped in an array so scalars parse too.
    const QByteArray wrapped = '[' + found->toByteArray() + ']';
    const QJsonDocument alone = QJsonDocument::fromJson(wrapped, &error);
    require(error.error == QJsonParseError::NoError && alone.isArray() && alone.array().size() == 1,
        "the member's text is one JSON value");
    require(alone.array().at(0) == object.value(key), "the member's text is the member's value");
    return 0;
}
