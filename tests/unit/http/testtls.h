// SPDX-License-Identifier: MIT
// A throwaway TLS identity for loopback test servers: a self-signed P-256 certificate for
// IP 127.0.0.1 / DNS localhost, made in-process with OpenSSL (no files, no openssl CLI).
#pragma once

#include <QtNetwork/QSslCertificate>
#include <QtNetwork/QSslConfiguration>
#include <QtNetwork/QSslKey>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace KeyloopHttpTest {

struct TestTls
{
    QSslCertificate certificate; ///< trust this one (TransportOptions::setExtraCaCertificates)
    QSslConfiguration server;    ///< for FakeServer::listenTls()

    bool isValid() const { return !certificate.isNull(); }

    static TestTls create()
    {
        TestTls out;
        EVP_PKEY *key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
        X509 *cert = X509_new();
        if (!key || !cert) {
            EVP_PKEY_free(key);
            X509_free(cert);
            return out;
        }
        X509_set_version(cert, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
        X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
        X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
        X509_set_pubkey(cert, key);
        X509_NAME *name = X509_get_subject_name(cert);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char *>("keyloop test"), -1, -1, 0);
        X509_set_issuer_name(cert, name);
        X509V3_CTX ctx;
        X509V3_set_ctx_nodb(&ctx);
        X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
        for (const auto &[nid, value] : {std::pair<int, const char *>{NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost"},
                                         {NID_basic_constraints, "critical,CA:TRUE"},
                                         {NID_key_usage, "critical,digitalSignature,keyCertSign"},
                                         {NID_ext_key_usage, "serverAuth"}}) {
            if (X509_EXTENSION *ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value)) {
                X509_add_ext(cert, ext, -1);
                X509_EXTENSION_free(ext);
            }
        }
        if (X509_sign(cert, key, EVP_sha256()) > 0) {
            BIO *certPem = BIO_new(BIO_s_mem());
            BIO *keyPem = BIO_new(BIO_s_mem());
            PEM_write_bio_X509(certPem, cert);
            PEM_write_bio_PrivateKey(keyPem, key, nullptr, nullptr, 0, nullptr, nullptr);
            const QByteArray certText = readAll(certPem);
            const QByteArray keyText = readAll(keyPem);
            BIO_free(certPem);
            BIO_free(keyPem);
            out.certificate = QSslCertificate(certText, QSsl::Pem);
            out.server = QSslConfiguration::defaultConfiguration();
            out.server.setLocalCertificate(out.certificate);
            out.server.setPrivateKey(QSslKey(keyText, QSsl::Ec, QSsl::Pem));
            out.server.setPeerVerifyMode(QSslSocket::VerifyNone); // no client certificate
        }
        X509_free(cert);
        EVP_PKEY_free(key);
        return out;
    }

private:
    static QByteArray readAll(BIO *bio)
    {
        char *data = nullptr;
        const long size = BIO_get_mem_data(bio, &data);
        return QByteArray(data, int(size));
    }
};

} // namespace KeyloopHttpTest
