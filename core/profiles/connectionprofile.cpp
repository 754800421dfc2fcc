#include "profiles/connectionprofile.h"

#include "api/sid.h"

namespace streams {

namespace {

constexpr qsizetype kMaxNameLength = 64;
// Region and edge become one DNS label of a Twilio host name (sync.{edge}.{region}.twilio.com).
constexpr qsizetype kMaxLabelLength = 63;

using Problem = ConnectionProfile::Problem;

/// Why `text` is not a SID of `kind`, in words that point at the mistake; empty when it is one.
/// Echoes at most the prefix and one offending character: a user may paste a secret here.
QString sidProblem(QStringView text, SidKind kind, const QString &label)
{
    const QString prefix = sid::prefix(kind);
    if (text.isEmpty())
        return QStringLiteral("%1 is required").arg(label);
    if (sid::isValid(text, kind))
        return {};
    const QString expected =
        QStringLiteral("%1 must be %2 followed by 32 hexadecimal digits").arg(label, prefix);
    if (text.size() != 34)
        return QStringLiteral("%1 (got %2 characters)").arg(expected).arg(text.size());
    if (!text.startsWith(prefix))
        return QStringLiteral("%1 (it starts with \"%2\")").arg(expected, text.first(2));
    for (qsizetype i = 2; i < text.size(); ++i) {
        const char16_t c = text[i].unicode();
        const bool hex =
            (c >= u'0' && c <= u'9') || (c >= u'a' && c <= u'f') || (c >= u'A' && c <= u'F');
        if (!hex)
            return QStringLiteral("%1 (character %2, \"%3\", is not hexadecimal)")
                .arg(expected)
                .arg(i + 1)
                .arg(text[i]);
    }
    return expected; // not reached: isValid() would have accepted it
}

/// Region and edge identifiers as Twilio spells them ("us1", "ie1", "sydney", "dublin").
QString labelProblem(const QString &text, const QString &label)
{
    if (text.isEmpty())
        return {};
    for (const QChar c : text) {
        const char16_t u = c.unicode();
        if (!((u >= u'a' && u <= u'z') || (u >= u'0' && u <= u'9') || u == u'-'))
            return QStringLiteral(
                "%1 may contain only lowercase letters, digits and hyphens (got \"%2\")")
                .arg(label, text);
    }
    if (text.startsWith(u'-') || text.endsWith(u'-'))
        return QStringLiteral("%1 must not start or end with a hyphen (got \"%2\")")
            .arg(label, text);
    if (text.size() > kMaxLabelLength)
        return QStringLiteral("%1 must be at most %2 characters (got %3)")
            .arg(label)
            .arg(kMaxLabelLength)
            .arg(text.size());
    return {};
}

/// The engine URL is only an address: scheme, host and port. Anything else is refused, above all
/// user info, since a password typed into the URL would be saved in plain text with the profile.
QString engineUrlProblem(const QUrl &url)
{
    if (url.isEmpty())
        return QStringLiteral("Engine URL is required");
    if (!url.isValid())
        return QStringLiteral("Engine URL is not a valid URL: %1").arg(url.errorString());
    const QString scheme = url.scheme().toLower();
    if (scheme != u"http" && scheme != u"https") {
        if (scheme.isEmpty())
            return QStringLiteral("Engine URL must start with http:// or https://");
        return QStringLiteral("Engine URL must start with http:// or https:// (got \"%1:\")")
            .arg(url.scheme());
    }
    if (!url.userInfo().isEmpty())
        return QStringLiteral("Engine URL must not contain a user name or password: credentials "
                              "go in the profile's fields, and its secret in the keychain");
    if (url.host().isEmpty())
        return QStringLiteral("Engine URL must name a host (e.g. http://127.0.0.1:8080)");
    if (!url.path().isEmpty() && url.path() != u"/")
        return QStringLiteral("Engine URL must not have a path (got \"%1\"); the engine answers "
                              "at the root of its address")
            .arg(url.path());
    if (url.hasQuery())
        return QStringLiteral("Engine URL must not have a query (\"?…\")");
    if (url.hasFragment())
        return QStringLiteral("Engine URL must not have a fragment (\"#…\")");
    return {};
}

} // namespace

QString ConnectionProfile::secretKey() const
{
    return QStringLiteral("profile/%1").arg(id);
}

RemoteEndpoints ConnectionProfile::endpoints() const
{
    switch (kind) {
    case Kind::TwilioAccount: return RemoteEndpoints::twilio(region, edge);
    case Kind::EngineAtUrl: return RemoteEndpoints::engine(engineUrl);
    case Kind::LocalEngine: break; // the embedded engine is reached in-process, not by address
    }
    return {};
}

RemoteCredentials ConnectionProfile::credentials(const QString &secret) const
{
    RemoteCredentials credentials;
    credentials.accountSid = accountSid;
    if (authMethod == AuthMethod::ApiKey) {
        credentials.apiKeySid = apiKeySid;
        credentials.apiKeySecret = secret;
    } else {
        credentials.authToken = secret;
    }
    return credentials;
}

QList<ConnectionProfile::Problem> ConnectionProfile::problems() const
{
    QList<Problem> found;
    const auto add = [&found](Problem::Field field, const QString &message) {
        if (!message.isEmpty())
            found.append(Problem{field, message});
    };

    if (name.trimmed().isEmpty())
        add(Problem::Field::Name, QStringLiteral("Name is required"));
    else if (name.size() > kMaxNameLength)
        add(Problem::Field::Name,
            QStringLiteral("Name must be at most %1 characters (got %2)")
                .arg(kMaxNameLength)
                .arg(name.size()));
    else if (name != name.trimmed())
        add(Problem::Field::Name, QStringLiteral("Name must not start or end with spaces"));

    if (kind == Kind::LocalEngine)
        return found;

    if (kind == Kind::EngineAtUrl)
        add(Problem::Field::EngineUrl, engineUrlProblem(engineUrl));

    // An engine checks credentials just as Twilio does, so both remote kinds need them.
    add(Problem::Field::AccountSid,
        sidProblem(accountSid, SidKind::Account, QStringLiteral("Account SID")));
    if (authMethod == AuthMethod::ApiKey)
        add(Problem::Field::ApiKeySid,
            sidProblem(apiKeySid, SidKind::ApiKey, QStringLiteral("API Key SID")));

    if (kind == Kind::TwilioAccount) {
        add(Problem::Field::Region, labelProblem(region, QStringLiteral("Region")));
        add(Problem::Field::Edge, labelProblem(edge, QStringLiteral("Edge")));
    }
    return found;
}

ConnectionProfile ConnectionProfile::localEngine()
{
    ConnectionProfile profile;
    profile.id = QStringLiteral("local");
    profile.name = QStringLiteral("Local engine");
    profile.kind = Kind::LocalEngine;
    return profile;
}

QString ConnectionProfile::kindName(Kind kind)
{
    switch (kind) {
    case Kind::LocalEngine: return QStringLiteral("Local engine");
    case Kind::EngineAtUrl: return QStringLiteral("Engine at URL");
    case Kind::TwilioAccount: return QStringLiteral("Twilio account");
    }
    return {};
}

} // namespace streams
