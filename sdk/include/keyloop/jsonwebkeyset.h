// SPDX-License-Identifier: MIT
#pragma once

#include <keyloop/jsonwebkey.h>

#include <QtCore/QByteArrayView>
#include <QtCore/QList>
#include <QtCore/QSharedDataPointer>

namespace Keyloop {

class JsonWebKeySetPrivate;

/*!
 * \brief A JWK Set (RFC 7517 §5), such as an OpenID provider's `jwks_uri` document.
 *
 * Parsing is strict about the document (one JSON object without duplicate member names and
 * a `keys` array) and lenient about its members: a key that cannot be parsed or used (unknown
 * kty or curve, RSA below 2048 bits, `use` other than `sig`, a point not on its curve, …) is
 * skipped and counted in skippedKeyCount(), as RFC 7517 §5 asks. Every usable key holds its
 * ready OpenSSL key, so verification never re-parses.
 */
class KEYLOOP_EXPORT JsonWebKeySet
{
public:
    /// An empty set.
    JsonWebKeySet();
    /// Copies are cheap: they share the data (implicit sharing). A moved-from object may only
    /// be assigned to or destroyed.
    ///@{
    JsonWebKeySet(const JsonWebKeySet &other);
    JsonWebKeySet(JsonWebKeySet &&other) noexcept;
    JsonWebKeySet &operator=(const JsonWebKeySet &other);
    JsonWebKeySet &operator=(JsonWebKeySet &&other) noexcept;
    ///@}
    ~JsonWebKeySet();

    /// Parses a JWKS document. On a malformed document returns std::nullopt and sets \a error
    /// (JoseMalformed, DuplicateParameter or JoseTooLarge); unusable keys are skipped.
    static std::optional<JsonWebKeySet> fromJson(QByteArrayView json, Error *error = nullptr);
    /// Builds a set from a parsed `{"keys":[…]}` object (skipping unusable keys).
    static std::optional<JsonWebKeySet> fromJsonObject(const QJsonObject &jwks, Error *error = nullptr);
    /// A set of already parsed keys.
    static JsonWebKeySet fromKeys(const QList<JsonWebKey> &keys);

    /// The usable keys, in document order.
    QList<JsonWebKey> keys() const;
    /// The number of usable keys.
    int size() const;
    /// True when there is no usable key.
    bool isEmpty() const;
    /// How many entries of the document were skipped as unusable.
    int skippedKeyCount() const;
    /// The key with this `kid`, or a null key.
    JsonWebKey key(const QString &keyId) const;
    /// True when a usable key has this `kid`.
    bool containsKeyId(const QString &keyId) const;

private:
    friend class JsonWebKeySetPrivate;
    QSharedDataPointer<JsonWebKeySetPrivate> d;
};

} // namespace Keyloop

Q_DECLARE_METATYPE(Keyloop::JsonWebKeySet)
