/*
 * secret — store credentials encrypted at rest (libsodium secretbox).
 *
 * The key is 32 bytes, given as 64 hex characters (config key secret.key,
 * environment OMNISYNC_SECRET_KEY; the caller passes it in).
 * Each sealed value has its own random nonce.  Nothing here ever prints a
 * key or a plaintext, not in error messages either.
 */
#ifndef OMNI_SECRET_H
#define OMNI_SECRET_H

#include <sodium.h>
#include <stddef.h>

#define SECRET_KEY_BYTES crypto_secretbox_KEYBYTES     /* 32 */
#define SECRET_NONCE_BYTES crypto_secretbox_NONCEBYTES /* 24 */
#define SECRET_MAC_BYTES crypto_secretbox_MACBYTES     /* 16 */
#define SECRET_KEY_ENV "OMNISYNC_SECRET_KEY"           /* named in messages */

/**
 * @brief Initialise libsodium (idempotent, thread-safe).
 * @returns 0, or -1 with errstr.
 */
int secret_init(char *errstr, size_t errstr_size);

/**
 * @brief Parse a key given as exactly 64 hex characters; a weak key
 *        (secret_key_weak()) is refused.
 * @param hex  the text (may be NULL: "not set").
 * @param key  receives the 32 key bytes (zeroed on failure).
 * @returns 0, or -1 with a reason that never quotes the text.
 */
int secret_key_parse(const char *hex, unsigned char key[SECRET_KEY_BYTES],
                     char *errstr, size_t errstr_size);

/**
 * @brief Tell whether a key is weak: one byte repeated (all zero), fewer
 *        than 16 distinct bytes (a short pattern repeated), a counting
 *        sequence (00 01 02 ...) or two equal halves.  A generated random
 *        key is none of these except with negligible probability.
 * @returns 1 with a reason in errstr (never the key's bytes), else 0.
 */
int secret_key_weak(const unsigned char key[SECRET_KEY_BYTES], char *errstr,
                    size_t errstr_size);

/**
 * @brief Check the text of a key the way every binary does at boot (the
 *        secret.key row of lib/cfg): 64 hex characters, not weak.  Does
 *        not need secret_init().
 * @param hex the text (may be NULL: "not set").
 * @returns 0, or -1 with a reason that never quotes the text and says how
 *          to generate a key.
 */
int secret_key_check(const char *hex, char *errstr, size_t errstr_size);

/**
 * @brief secret_init(), then secret_key_parse() of the configured key
 *        (key secret.key, environment OMNISYNC_SECRET_KEY); errors name
 *        the variable ("OMNISYNC_SECRET_KEY is not set", "... must be 64
 *        hex characters").
 * @param hex the configured text (may be NULL or "": not set).
 */
int secret_key_load(const char *hex, unsigned char key[SECRET_KEY_BYTES],
                    char *errstr, size_t errstr_size);

/**
 * @brief Encrypt @p len bytes of @p plain under @p key with a fresh
 *        random nonce.
 * @param nonce   receives the nonce.
 * @param box     receives a malloc()ed ciphertext of @p len +
 *                SECRET_MAC_BYTES bytes (caller frees).
 * @param box_len receives its length.
 * @returns 0, or -1 with errstr.
 */
int secret_seal(const unsigned char key[SECRET_KEY_BYTES], const void *plain,
                size_t len, unsigned char nonce[SECRET_NONCE_BYTES],
                unsigned char **box, size_t *box_len, char *errstr,
                size_t errstr_size);

/**
 * @brief Decrypt and authenticate a box made by secret_seal().
 * @param plain  receives a malloc()ed NUL-terminated plaintext; release
 *               it with secret_str_free() (which zeroes it).
 * @returns 0, or -1 when the key is wrong or the box was tampered with.
 */
int secret_open(const unsigned char key[SECRET_KEY_BYTES],
                const unsigned char nonce[SECRET_NONCE_BYTES],
                const unsigned char *box, size_t box_len, char **plain,
                char *errstr, size_t errstr_size);

/** @brief Zero and free a string from secret_open().  NULL-safe. */
void secret_str_free(char *s);

/**
 * @brief Fill @p out with @p nbytes random bytes as 2 * @p nbytes lowercase
 *        hex characters plus NUL (@p out_size >= 2 * nbytes + 1).
 * @returns 0, or -1 when @p out is too small.
 */
int secret_random_hex(char *out, size_t out_size, size_t nbytes);

#endif
