#pragma once

#include <memory>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

namespace streams::openssl {

/// Frees an OpenSSL object with its own free function, for std::unique_ptr: every OpenSSL object
/// the code makes is held by one, so no early return can leak it.
template<auto Free>
struct Freer
{
    template<typename T>
    void operator()(T *object) const
    {
        Free(object);
    }
};

using Key = std::unique_ptr<EVP_PKEY, Freer<EVP_PKEY_free>>;
using Certificate = std::unique_ptr<X509, Freer<X509_free>>;
using Bio = std::unique_ptr<BIO, Freer<BIO_free>>;
using Extension = std::unique_ptr<X509_EXTENSION, Freer<X509_EXTENSION_free>>;
using BigNumber = std::unique_ptr<BIGNUM, Freer<BN_free>>;
using Store = std::unique_ptr<X509_STORE, Freer<X509_STORE_free>>;
using StoreContext = std::unique_ptr<X509_STORE_CTX, Freer<X509_STORE_CTX_free>>;

} // namespace streams::openssl
