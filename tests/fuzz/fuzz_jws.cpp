// SPDX-License-Identifier: MIT
// libFuzzer target for JWS compact parsing and ID token validation (jose). Needs the sdk
// modules: core, network, jose.
// The input is used as a token against a fixed key set (RSA, P-256, Ed25519): no input may
// crash, leak or validate (the fuzzer cannot forge a signature).
#include <keyloop/idtokenvalidator.h>

#include "jose/jws_p.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>

#include <cstddef>
#include <cstdint>
#include <cstdlib>

using namespace Keyloop;

namespace {

// Public keys only (RFC 7520 §3.3 RSA, RFC 7515 A.3 P-256, RFC 8037 A.2 Ed25519).
const char kJwks[] = R"({"keys":[
 {"kty":"RSA","kid":"bilbo.baggins@hobbiton.example","use":"sig","e":"AQAB",
  "n":"n4EPtAOCc9AlkeQHPzHStgAbgs7bTZLwUBZdR8_KuKPEHLd4rHVTeT-O-XV2jRojdNhxJWTDvNd7nqQ0VEiZQHz_AJmSCpMaJMRBSFKrKb2wqVwGU_NsYOYL-QtiWN2lbzcEe6XC0dApr5ydQLrHqkHHig3RBordaZ6Aj-oBHqFEHYpPe7Tpe-OfVfHd1E6cS6M1FZcD1NNLYD5lFHpPI9bTwJlsde3uhGqC0ZCuEHg8lhzwOHrtIQbS0FVbb9k3-tVTU4fg_3L_vniUFAKwuCLqKnS2BYwdq_mzSnbLY7h_qixoR7jig3__kRhuaxwUkRz5iaiQkqgc5gHdrNP5zw"},
 {"kty":"EC","crv":"P-256","kid":"ec","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
 {"kty":"OKP","crv":"Ed25519","kid":"ed","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]})";

const JsonWebKeySet &keys()
{
    static const JsonWebKeySet set = *JsonWebKeySet::fromJson(QByteArrayView(kJwks));
    return set;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView token(reinterpret_cast<const char *>(data), qsizetype(size));

    Error error;
    if (auto jws = JwsCompact::parse(token, &error)) {
        (void)jws->decodePayload(&error);
        (void)jws->header();
    }

    static IdTokenValidator validator(QStringLiteral("joe"), QStringLiteral("client"));
    IdTokenExpectations expect;
    expect.setNonce(QStringLiteral("n"));
    expect.setAccessToken("at");
    expect.setMaxAge(std::chrono::seconds(60));
    if (validator.validate(token, keys(), expect, &error))
        std::abort(); // nothing random may pass signature verification
    if (error.isNull())
        std::abort();
    return 0;
}
