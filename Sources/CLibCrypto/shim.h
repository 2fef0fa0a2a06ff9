// The system OpenSSL's libcrypto (libssl-dev), as a Swift module for the security module alone:
// ciphers, MACs, random numbers and memory wiping. TLS (libssl) is COpenSSL's, for Transport.
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/rand.h>
