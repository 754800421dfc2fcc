#pragma once

#include "api/apierror.h"
#include "api/service.h"
#include "api/stream.h"

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <expected>

namespace streams {

/// Everything an engine holds that a test would seed or keep: its services and their streams,
/// in creation order, with every field. The control plane's `GET`/`PUT /_engine/state`, and
/// the engine's --state and --export-state-on-exit, speak it as JSON (format 1).
struct EngineSnapshot
{
    static constexpr int kFormat = 1;

    QList<Service> services;
    QList<Stream> streams; // of all services, in creation order

    /// `{"format":1,"engine_version":…,"exported_at":…,"services":[{…,"streams":[…]}]}`.
    QJsonObject toJson(const QString &engineVersion, qint64 exportedAtSeconds) const;
    QByteArray toJsonBytes(const QString &engineVersion, qint64 exportedAtSeconds) const;

    /// Reads a snapshot, checking every field: SIDs of the right kind and unique, unique names
    /// valid and unique where they must be, dates in Twilio's form. A missing field takes the
    /// default a create would give it (dates: `nowSeconds`, account: `accountSid`). Errors are
    /// 400/20400 naming the field, e.g. "services[0].streams[2].sid".
    static std::expected<EngineSnapshot, ApiError> fromJson(
        const QJsonObject &json, const QString &accountSid, qint64 nowSeconds);
    /// The same from bytes; JSON syntax errors say where (line and column).
    static std::expected<EngineSnapshot, ApiError> fromJsonBytes(
        QByteArrayView bytes, const QString &accountSid, qint64 nowSeconds);
};

/// A JSON object from `bytes`, or 400/20400 "Invalid JSON: … at line L, column C".
std::expected<QJsonObject, ApiError> parseJsonObject(QByteArrayView bytes);

} // namespace streams
