// SPDX-License-Identifier: MIT
#include "network/httpfreshness_p.h"

#include <QtCore/QDateTime>
#include <QtCore/QList>
#include <QtCore/QString>

#include <algorithm>
#include <optional>

namespace Keyloop::HttpFreshness {

std::chrono::seconds lifetime(const QByteArray &cacheControl, const QByteArray &expires,
                              std::chrono::system_clock::time_point now, std::chrono::seconds defaultLifetime,
                              std::chrono::seconds minimum, std::chrono::seconds maximum, bool *noStore)
{
    // RFC 9111 §5.2.2: response directives; §4.2.1: max-age wins over Expires.
    std::optional<qint64> seconds;
    bool store = true;
    const QList<QByteArray> directives = cacheControl.split(',');
    for (const QByteArray &raw : directives) {
        const QByteArray directive = raw.trimmed().toLower();
        if (directive == "no-store") {
            store = false;
        } else if (directive == "no-cache") {
            seconds = 0; // we cannot revalidate: treat as stale at once (then bounded below)
        } else if (directive.startsWith("max-age=") && !seconds) {
            bool ok = false;
            const qint64 v = directive.mid(8).toLongLong(&ok);
            if (ok && v >= 0)
                seconds = v;
        }
    }
    if (!seconds && !expires.isEmpty()) {
        // RFC 9110 §5.6.7 IMF-fixdate, e.g. "Sun, 06 Nov 1994 08:49:37 GMT".
        const QDateTime when = QDateTime::fromString(QString::fromLatin1(expires.trimmed()), Qt::RFC2822Date);
        if (when.isValid()) {
            const qint64 nowMs = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
            seconds = std::max<qint64>(0, (when.toMSecsSinceEpoch() - nowMs) / 1000);
        } else {
            seconds = 0; // RFC 9111 §5.3: an invalid Expires means already expired
        }
    }
    if (noStore)
        *noStore = !store;
    const qint64 value = seconds.value_or(defaultLifetime.count());
    return std::chrono::seconds(std::clamp<qint64>(value, minimum.count(), std::max(minimum, maximum).count()));
}

} // namespace Keyloop::HttpFreshness
