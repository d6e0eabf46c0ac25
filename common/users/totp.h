/* totp.h - time-based one-time passwords (RFC 6238 over RFC 4226 HOTP) and the base32
 * and otpauth:// forms authenticator apps read. Pure functions of their inputs. */
#ifndef HERALD_TOTP_H
#define HERALD_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define H_TOTP_PERIOD_S 30
#define H_TOTP_DIGITS 6
#define H_TOTP_SECRET_BYTES 20 /* 160 bits, RFC 4226's recommendation */

enum h_totp_hash { H_TOTP_SHA1, H_TOTP_SHA256, H_TOTP_SHA512 };

/* The time step of unix time t (T = floor(t / 30)). */
uint64_t h_totp_step(long long t);

/* HOTP(key, counter) truncated to digits (6..8) decimal digits; -1 on a bad argument. */
long h_totp_code(enum h_totp_hash hash, const unsigned char *key, size_t keylen,
                 uint64_t counter, int digits);

/* Checks a 6-digit SHA-1 code against the steps now-window .. now+window. A step at or
 * below not_after (the last accepted one) never matches, so a code works once. On a
 * match *step receives the matching step. Codes that are not exactly 6 digits fail. */
bool h_totp_verify(const unsigned char *key, size_t keylen, const char *code, uint64_t now_step,
                   int window, uint64_t not_after, uint64_t *step);

/* RFC 4648 base32 without padding: encode n bytes into out (H_BASE32_LEN(n) bytes with
 * the NUL); decode returns the byte count or -1 (case-insensitive; spaces, '-' and '='
 * ignored). */
#define H_BASE32_LEN(n) (((n) * 8 + 4) / 5 + 1)
void h_base32_encode(const unsigned char *in, size_t n, char *out);
int h_base32_decode(const char *in, unsigned char *out, size_t cap);

/* otpauth://totp/<issuer>:<account>?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30
 * with issuer and account percent-encoded, in a new string the caller frees. */
char *h_totp_uri(const char *issuer, const char *account, const char *secret_b32);

#endif
