#pragma once

// What /proc says about a process (Linux): open descriptors and resident memory.

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHostAddress>
#include <QRegularExpression>
#include <QSet>
#include <QTest>
#include <QtEndian>

namespace streams::testing {

inline int openDescriptors(qint64 pid)
{
    return int(QDir(QStringLiteral("/proc/%1/fd").arg(pid))
                   .entryList(QDir::AllEntries | QDir::System | QDir::NoDotAndDotDot)
                   .size());
}

/// What each open descriptor of `pid` is ("3 -> socket:[123]"), to say what a count that did not
/// go back down is made of.
inline QStringList describeDescriptors(qint64 pid)
{
    const QDir fds(QStringLiteral("/proc/%1/fd").arg(pid));
    QStringList out;
    for (const QString &fd : fds.entryList(QDir::AllEntries | QDir::System | QDir::NoDotAndDotDot))
        out.append(fd + QStringLiteral(" -> ") + QFileInfo(fds.filePath(fd)).symLinkTarget());
    return out;
}

/// A "VmRSS"/"VmHWM"-style field of /proc/<pid>/status, in KiB (-1 if unreadable).
inline qint64 statusKib(qint64 pid, const char *field)
{
    QFile status(QStringLiteral("/proc/%1/status").arg(pid));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    const QString text = QString::fromLatin1(status.readAll());
    const QRegularExpression line(QStringLiteral("^%1:\\s+(\\d+) kB").arg(QLatin1StringView(field)),
        QRegularExpression::MultilineOption);
    const auto match = line.match(text);
    return match.hasMatch() ? match.captured(1).toLongLong() : -1;
}

/// Whether process `pid` holds a TCP socket whose peer is `peer`:`port` (IPv4, via the socket
/// inodes in /proc/<pid>/fd and the connection table in /proc/net/tcp).
inline bool holdsConnectionTo(qint64 pid, const QHostAddress &peer, quint16 port)
{
    QSet<QString> inodes;
    const QDir fds(QStringLiteral("/proc/%1/fd").arg(pid));
    for (const QFileInfo &fd :
        fds.entryInfoList(QDir::AllEntries | QDir::System | QDir::NoDotAndDotDot)) {
        const QString target = fd.symLinkTarget().section(u'/', -1);
        if (target.startsWith(u"socket:["))
            inodes.insert(target.mid(8).chopped(1));
    }
    // rem_address is the IPv4 address in host (little-endian) byte order, then the port.
    const quint32 address = peer.toIPv4Address();
    const QString wanted = QStringLiteral("%1:%2")
                               .arg(qFromBigEndian(address), 8, 16, QLatin1Char('0'))
                               .arg(port, 4, 16, QLatin1Char('0'))
                               .toUpper();
    QFile table(QStringLiteral("/proc/net/tcp"));
    if (!table.open(QIODevice::ReadOnly))
        return false;
    const QList<QByteArray> lines = table.readAll().split('\n');
    for (qsizetype i = 1; i < lines.size(); ++i) {
        const QList<QByteArray> fields = lines[i].simplified().split(' ');
        if (fields.size() > 9 && QString::fromLatin1(fields[2]) == wanted
            && inodes.contains(QString::fromLatin1(fields[9])))
            return true;
    }
    return false;
}

inline qint64 residentKib(qint64 pid)
{
    return statusKib(pid, "VmRSS");
}

/// The resident size once it has stopped moving (what the process frees after its work, such as
/// deferred deletes of closed connections, is freed): the same figure three times in a row,
/// 50 ms apart, or the last one read after `timeoutMs`.
inline qint64 settledResidentKib(qint64 pid, int timeoutMs = 10000)
{
    const QDeadlineTimer deadline(timeoutMs);
    qint64 last = residentKib(pid);
    for (int same = 1; same < 3 && !deadline.hasExpired();) {
        QTest::qWait(50); // the interval between two readings, not a wait for a result
        const qint64 now = residentKib(pid);
        same = now == last ? same + 1 : 1;
        last = now;
    }
    return last;
}

inline qint64 peakResidentKib(qint64 pid)
{
    return statusKib(pid, "VmHWM");
}

} // namespace streams::testing
