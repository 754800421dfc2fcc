#include "host/enginehost.h"

#include "host/secretredactor.h"
#include "host/shellexports.h"
#include "server/restserver.h"
#include "server/twilsockserver.h"
#include "tls/certificateauthority.h"

#include <QCoreApplication>
#include <QLoggingCategory>
#include <QMetaObject>
#include <QSemaphore>

Q_LOGGING_CATEGORY(lcEngineHost, "streams.server.host", QtInfoMsg)

namespace streams {

QString EngineHost::Listening::baseUrl() const
{
    const QString host = address.protocol() == QAbstractSocket::IPv6Protocol
        ? QStringLiteral("[%1]").arg(address.toString())
        : address.toString();
    return QStringLiteral("http://%1:%2").arg(host).arg(port);
}

std::expected<std::unique_ptr<EngineHost>, QString> EngineHost::start(const EngineOptions &options,
    const QHostAddress &address, quint16 port, const TwilsockOptions &twilsockOptions)
{
    std::unique_ptr<EngineHost> host(new EngineHost);
    host->m_thread.setObjectName(QStringLiteral("engine"));
    host->m_context = new QObject; // owned by the thread, deleted with it
    host->m_context->moveToThread(&host->m_thread);
    connect(&host->m_thread, &QThread::finished, host->m_context, &QObject::deleteLater);
    host->m_thread.start();

    // Open on the engine thread so every QObject (timers, sockets, SQLite connection) has the
    // thread affinity it will be used with.
    QString error;
    QSemaphore done;
    EngineHost *raw = host.get();
    QMetaObject::invokeMethod(
        host->m_context,
        [&] {
            auto engine = Engine::open(options);
            if (!engine) {
                error = engine.error();
                done.release();
                return;
            }
            raw->m_engine = std::move(*engine);
            raw->m_server = new RestServer(*raw->m_engine);
            // A child of the REST server: it goes first when the server is deleted, before
            // the engine its connections subscribe to.
            auto *twilsock = new TwilsockServer(*raw->m_engine, twilsockOptions, raw->m_server);
            twilsock->attachTo(*raw->m_server);
            QString listenError;
            const quint16 bound = raw->m_server->start(address, port, &listenError);
            if (bound == 0) {
                error = QStringLiteral("cannot listen on %1:%2: %3")
                            .arg(address.toString())
                            .arg(port)
                            .arg(listenError);
                delete raw->m_server;
                raw->m_server = nullptr;
                raw->m_engine.reset();
            } else {
                raw->m_listening = {address, bound};
                raw->m_credentials = raw->m_engine->credentials();
                SecretRedactor::install(raw->m_credentials);
                raw->m_publishRate = raw->m_engine->publishRatePerSecond();
                raw->m_dataDir = raw->m_engine->dataDir();
                raw->m_twilsockOptions = twilsockOptions;
                connect(raw->m_engine.get(), &Engine::streamRemoved, raw,
                    &EngineHost::streamRemoved, Qt::DirectConnection);
                connect(raw->m_engine.get(), &Engine::clockAdvanced, raw,
                    &EngineHost::clockAdvanced, Qt::DirectConnection);
                connect(&raw->m_engine->faults(), &FaultRules::rulesChanged, raw,
                    &EngineHost::faultRulesChanged, Qt::DirectConnection);
            }
            done.release();
        },
        Qt::QueuedConnection);
    done.acquire();
    if (!error.isEmpty())
        return std::unexpected(error);
    if (!address.isLoopback())
        qCWarning(lcEngineHost).noquote()
            << QStringLiteral("listening on %1, reachable from other machines: anyone who can "
                              "reach it and holds the credentials gets in")
                   .arg(host->m_listening.baseUrl());
    return host;
}

EngineHost::~EngineHost()
{
    if (m_thread.isRunning()) {
        // Tear down on the engine thread, where the objects live.
        QSemaphore done;
        QMetaObject::invokeMethod(
            m_context,
            [this, &done] {
                delete m_server;
                m_server = nullptr;
                m_engine.reset();
                done.release();
            },
            Qt::QueuedConnection);
        done.acquire();
        m_thread.quit();
        m_thread.wait();
    }
}

QObject *EngineHost::engineContext() const
{
    return m_context;
}

void EngineHost::runControl(const QByteArray &method, const QByteArray &path,
    const QByteArray &query, const QByteArray &body,
    std::function<void(int status, const QByteArray &body)> done)
{
    QMetaObject::invokeMethod(
        m_context,
        [server = m_server, method, path, query, body, done = std::move(done)] {
            const RestReply reply = server->controlPlane().answer(method, path, query, body);
            done(reply.status, reply.body);
        },
        Qt::QueuedConnection);
}

void EngineHost::run(std::function<void(Engine &)> work)
{
    QMetaObject::invokeMethod(
        m_context, [engine = m_engine.get(), work = std::move(work)] { work(*engine); },
        Qt::QueuedConnection);
}

void EngineHost::proxyEnvironment(std::function<void(std::expected<QStringList, QString>)> done)
{
    QMetaObject::invokeMethod(
        m_context,
        [this, done = std::move(done)] {
            auto authority = m_server->certificateAuthority();
            if (!authority) {
                done(std::unexpected(authority.error()));
                return;
            }
            // This process is the engine using the data directory, listening where it says.
            const ShellExports::ProxySetup setup{m_listening.address, m_listening.port,
                ShellExports::ProxySetup::Source::Recorded, QCoreApplication::applicationPid(),
                m_dataDir, (*authority)->caCertificatePath()};
            done(ShellExports::proxy(setup, m_credentials));
        },
        Qt::QueuedConnection);
}

} // namespace streams
