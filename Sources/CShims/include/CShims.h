// C functions Swift cannot call directly: GNU extensions of libc, and OpenSSL "functions" that are
// macros. Named CShims_<the C name>. This header includes no libc or OpenSSL header on purpose: a C
// module that includes <sys/socket.h> takes those declarations away from Glibc's module for Swift.
#ifndef CSHIMS_H
#define CSHIMS_H

#include <stdint.h>

struct sockaddr;
struct ssl_st;
struct ssl_ctx_st;

/// accept4(2), which Glibc's Swift module hides behind _GNU_SOURCE.
int CShims_accept4(int fd, struct sockaddr *address, unsigned int *length, int flags);

/// SSL_set_tlsext_host_name: the SNI name a client sends.
long CShims_SSL_set_tlsext_host_name(struct ssl_st *ssl, const char *name);
/// SSL_CTX_set_min_proto_version / SSL_CTX_set_max_proto_version.
int CShims_SSL_CTX_set_min_proto_version(struct ssl_ctx_st *context, int version);
int CShims_SSL_CTX_set_max_proto_version(struct ssl_ctx_st *context, int version);
/// SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE.
uint64_t CShims_SSL_OP_hardening(void);
/// SSL_CTX_set_mode(context, SSL_MODE_RELEASE_BUFFERS): free idle connections' buffers.
void CShims_SSL_CTX_release_buffers(struct ssl_ctx_st *context);

#endif
