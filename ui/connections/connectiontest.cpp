#include "ui/connections/connectiontest.h"

#include "backend/remotebackend.h"
#include "ui/stream/pagebanner.h"

#include <QPointer>

namespace streams {

namespace {
// A connection test answers in seconds, not after the long retry budget an open connection
// gets: a person is waiting for it.
constexpr int kTestTimeoutMs = 10000;
constexpr int kTestAttempts = 2;
// Enough to say "3 services" without listing a big account.
constexpr int kServiceCountPage = 100;
} // namespace

ConnectionTest::ConnectionTest(QObject *parent) : QObject(parent) { }

ConnectionTest::~ConnectionTest()
{
    // The backend settles its requests as it goes; their continuations must find this test
    // already over.
    ++m_generation;
    m_backend.reset();
}

void ConnectionTest::finish(quint64 generation, bool ok, const QString &message)
{
    if (generation != m_generation)
        return;
    m_running = false;
    m_result = message;
    Q_EMIT finished(ok, message);
}

void ConnectionTest::start(const ConnectionProfile &profile, const QString &secret)
{
    const quint64 generation = ++m_generation;
    m_running = true;
    // A previous run may still be waiting for its answer: let it end quietly (its continuations
    // see an old generation) rather than destroy it under its own callback.
    if (m_backend)
        m_backend.release()->deleteLater();
    if (secret.isEmpty()) {
        finish(generation, false,
            tr("Enter the %1 to test the connection.")
                .arg(profile.authMethod == ConnectionProfile::AuthMethod::ApiKey
                        ? tr("API key secret")
                        : tr("Auth Token")));
        return;
    }
    RemoteConnection connection = RemoteConnection::fromProfile(profile, secret);
    connection.rest.timeoutMs = kTestTimeoutMs;
    connection.rest.maxAttempts = kTestAttempts;
    m_backend = std::make_unique<RemoteBackend>(std::move(connection));
    QPointer<RemoteBackend> backend = m_backend.get();
    // No context object: a backend let go by a newer run (or by this test's destruction) settles
    // its futures after this object may be gone, and Qt 6.4 asserts on a dead context. The
    // futures finish on this thread; the guard and the generation say whether anyone listens.
    m_backend->checkConnection().then([this, guard = QPointer(this), generation, backend](
                                          const ApiResult<void> &checked) {
        if (!guard || generation != m_generation || !backend)
            return;
        if (!checked) {
            finish(generation, false, tr("Failed: %1").arg(PageBanner::errorText(checked.error())));
            return;
        }
        PageRequest request;
        request.pageSize = kServiceCountPage;
        backend->listServices(request).then(
            [this, guard, generation, backend](const ApiResult<Page<Service>> &page) {
                if (!guard || generation != m_generation || !backend)
                    return;
                if (!page) {
                    finish(generation, false,
                        tr("Failed: %1").arg(PageBanner::errorText(page.error())));
                    return;
                }
                const qsizetype count = page->items.size();
                QString text = page->nextPageToken ? tr("OK: more than %1 services.").arg(count)
                    : count == 1                   ? tr("OK: 1 service.")
                                                   : tr("OK: %1 services.").arg(count);
                const QString live = backend->liveUnavailableReason();
                if (!live.isEmpty())
                    text += u' ' + tr("Live subscriptions unavailable: %1").arg(live);
                finish(generation, true, text);
            });
    });
}

} // namespace streams
