#include "api/jsonpointer.h"

#include <QCoreApplication>
#include <QJsonArray>
#include <QJsonObject>
#include <algorithm>

namespace streams::jsonpointer {

std::optional<QStringList> parse(QStringView pointer, QString *error)
{
    QStringList tokens;
    if (pointer.isEmpty())
        return tokens;
    if (pointer.front() != u'/') {
        if (error)
            *error = QCoreApplication::translate("JsonPointer", "A JSON Pointer starts with '/'");
        return std::nullopt;
    }
    QString token;
    for (qsizetype i = 1; i <= pointer.size(); ++i) {
        if (i == pointer.size() || pointer[i] == u'/') {
            tokens.append(token);
            token.clear();
            continue;
        }
        if (pointer[i] != u'~') {
            token.append(pointer[i]);
            continue;
        }
        // Decoding left to right is RFC 6901's "~1 first, then ~0" rule: "~01" is "~1".
        const QChar next = i + 1 < pointer.size() ? pointer[i + 1] : QChar();
        if (next == u'0') {
            token.append(u'~');
        } else if (next == u'1') {
            token.append(u'/');
        } else {
            if (error)
                *error = QCoreApplication::translate(
                    "JsonPointer", "'~' must be followed by 0 or 1 (at character %1)")
                             .arg(i + 1);
            return std::nullopt;
        }
        ++i;
    }
    return tokens;
}

QString escapeToken(QString key)
{
    // Order matters: escaping '~' first keeps the '~' introduced for '/' from being doubled.
    key.replace(u'~', QLatin1StringView("~0"));
    key.replace(u'/', QLatin1StringView("~1"));
    return key;
}

QString format(const QStringList &tokens)
{
    QString pointer;
    for (const QString &token : tokens)
        pointer += u'/' + escapeToken(token);
    return pointer;
}

QJsonValue resolve(const QJsonValue &root, const QStringList &tokens)
{
    QJsonValue value = root;
    for (const QString &token : tokens) {
        if (value.isObject()) {
            const QJsonObject object = value.toObject();
            const auto it = object.constFind(token);
            value = it == object.constEnd() ? QJsonValue(QJsonValue::Undefined) : it.value();
        } else if (value.isArray()) {
            bool ok = false;
            const qsizetype index = token.toLongLong(&ok);
            const bool canonical = !token.isEmpty() && (token == u"0" || !token.startsWith(u'0'))
                && std::all_of(token.begin(), token.end(), [](QChar c) { return c.isDigit(); });
            const QJsonArray array = value.toArray();
            value = ok && canonical && index < array.size() ? array.at(index)
                                                            : QJsonValue(QJsonValue::Undefined);
        } else {
            value = QJsonValue(QJsonValue::Undefined);
        }
        if (value.isUndefined())
            break;
    }
    return value;
}

} // namespace streams::jsonpointer
