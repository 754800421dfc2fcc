#pragma once

#include "api/apierror.h"

#include <QString>

namespace streams {

/// streams-cli's exit codes; scripts rely on them, so they never change meaning.
enum class ExitCode : int {
    Ok = 0,
    ApiFailure = 1, // the service answered with an error (or a line/argument broke its rules)
    Usage = 2, // the command line is wrong or incomplete
    ConnectionFailure = 3 // no answer from the service, or no usable secret (keychain trouble)
};

/// Why a command stopped, with the exit code it maps to. The message is for stderr and never
/// holds a secret.
struct CliFailure
{
    ExitCode exitCode = ExitCode::ApiFailure;
    QString message;

    static CliFailure usage(const QString &message) { return {ExitCode::Usage, message}; }
    static CliFailure connection(const QString &message)
    {
        return {ExitCode::ConnectionFailure, message};
    }
    /// "error 20404: …" for an answer from the service (exit 1); the connection failure's own
    /// message for no answer at all (exit 3).
    static CliFailure fromApiError(const ApiError &error);
    /// How an ApiError reads on stderr: "error 20404: The requested resource … was not found".
    static QString describe(const ApiError &error);
};

} // namespace streams
