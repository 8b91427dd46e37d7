/*
 * MerkleSync native AES-256-GCM sealing: a Node-API addon that encrypts with the OpenSSL already
 * linked into the running node binary, keeping one OpenSSL cipher context per data key.
 *
 * Why this exists: ingest seals every row it sends. Through node:crypto each seal builds a Cipheriv
 * object (createCipheriv, setAAD, update, final, getAuthTag, Buffer.concat): about 9 us per
 * 300-byte row, of which the cipher itself is well under 1 us. Here the key schedule is set once
 * per key and one call does the whole seal into a caller-owned array (see ../README.md, "Native
 * AES-GCM").
 *
 * Same cipher, same code: the functions are OpenSSL's EVP AES-256-GCM (constant-time AES-NI and
 * CLMUL GHASH where the CPU has them), so the bytes and the side-channel properties are node:crypto's.
 * OpenSSL is not linked here: the EVP functions are looked up with dlsym when the addon loads, so
 * the addon always uses the node binary's own libcrypto, and a missing symbol fails the load
 * cleanly (the JS loader then keeps node:crypto) instead of crashing on first call.
 *
 * Every argument is validated before any memory is touched: wrong types throw TypeError, bad
 * lengths or overlapping buffers throw RangeError, with the argument's name in the message.
 * Single-threaded per key: a key handle belongs to the thread (Node-API environment) that made it.
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include "ms_napi.h"

#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Opaque OpenSSL types and the EVP functions used (stable since OpenSSL 1.1.0). */
typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;
typedef struct evp_cipher_st EVP_CIPHER;
typedef struct engine_st ENGINE;

#define MS_EVP_CTRL_GCM_GET_TAG 0x10
#define MS_GCM_NONCE_BYTES 12
#define MS_GCM_TAG_BYTES 16
#define MS_GCM_KEY_BYTES 32

static EVP_CIPHER_CTX *(*p_ctx_new)(void);
static void (*p_ctx_free)(EVP_CIPHER_CTX *ctx);
static const EVP_CIPHER *(*p_aes_256_gcm)(void);
static int (*p_init)(EVP_CIPHER_CTX *ctx, const EVP_CIPHER *type, ENGINE *impl, const unsigned char *key,
                     const unsigned char *iv);
static int (*p_update)(EVP_CIPHER_CTX *ctx, unsigned char *out, int *outl, const unsigned char *in, int inl);
static int (*p_final)(EVP_CIPHER_CTX *ctx, unsigned char *out, int *outl);
static int (*p_ctrl)(EVP_CIPHER_CTX *ctx, int type, int arg, void *ptr);
static void (*p_cleanse)(void *ptr, size_t len);

static int g_ready;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void ms_resolve(void) {
  p_ctx_new = (EVP_CIPHER_CTX * (*)(void)) dlsym(RTLD_DEFAULT, "EVP_CIPHER_CTX_new");
  p_ctx_free = (void (*)(EVP_CIPHER_CTX *))dlsym(RTLD_DEFAULT, "EVP_CIPHER_CTX_free");
  p_aes_256_gcm = (const EVP_CIPHER *(*)(void))dlsym(RTLD_DEFAULT, "EVP_aes_256_gcm");
  p_init = (int (*)(EVP_CIPHER_CTX *, const EVP_CIPHER *, ENGINE *, const unsigned char *, const unsigned char *))dlsym(
      RTLD_DEFAULT, "EVP_EncryptInit_ex");
  p_update = (int (*)(EVP_CIPHER_CTX *, unsigned char *, int *, const unsigned char *, int))dlsym(RTLD_DEFAULT,
                                                                                                 "EVP_EncryptUpdate");
  p_final = (int (*)(EVP_CIPHER_CTX *, unsigned char *, int *))dlsym(RTLD_DEFAULT, "EVP_EncryptFinal_ex");
  p_ctrl = (int (*)(EVP_CIPHER_CTX *, int, int, void *))dlsym(RTLD_DEFAULT, "EVP_CIPHER_CTX_ctrl");
  p_cleanse = (void (*)(void *, size_t))dlsym(RTLD_DEFAULT, "OPENSSL_cleanse");
  g_ready = p_ctx_new && p_ctx_free && p_aes_256_gcm && p_init && p_update && p_final && p_ctrl && p_cleanse;
}

/* ms_throw_type, ms_throw_range, ms_bytes, ms_overlap: tools/native/ms_napi.h */

/* ---------------------------------------------------------------- key handles */

/* A key handle: one encryption context with the key schedule set; the IV is set per seal. */
typedef struct {
  EVP_CIPHER_CTX *ctx;
} ms_gcm_key;

static void ms_gcm_key_free(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  ms_gcm_key *k = (ms_gcm_key *)data;
  if (k->ctx) p_ctx_free(k->ctx); /* EVP_CIPHER_CTX_free cleanses the key schedule */
  k->ctx = NULL;
  free(k);
}

/* gcmKey(key): a handle for AES-256-GCM sealing under the 32-byte key (the bytes are not kept). */
static napi_value ms_gcm_key_new(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  const unsigned char *key;
  size_t key_len;
  if (!ms_bytes(env, argv[0], "key must be a Uint8Array", &key, &key_len)) return NULL;
  if (key_len != MS_GCM_KEY_BYTES) return ms_throw_range(env, "key must be 32 bytes");
  ms_gcm_key *k = (ms_gcm_key *)calloc(1, sizeof *k);
  if (!k) {
    napi_throw_error(env, "ERR_MEMORY_ALLOCATION_FAILED", "crypto_native: out of memory");
    return NULL;
  }
  k->ctx = p_ctx_new();
  if (!k->ctx || p_init(k->ctx, p_aes_256_gcm(), NULL, key, NULL) != 1) {
    if (k->ctx) p_ctx_free(k->ctx);
    free(k);
    napi_throw_error(env, "ERR_CRYPTO_NATIVE", "crypto_native: AES-256-GCM key setup failed");
    return NULL;
  }
  napi_value handle;
  if (napi_create_external(env, k, ms_gcm_key_free, NULL, &handle) != napi_ok) {
    p_ctx_free(k->ctx);
    free(k);
    return NULL;
  }
  return handle;
}

/*
 * gcmSeal(handle, nonce, plaintext, aad, out): out = AES-256-GCM ciphertext || 16-byte tag of plaintext under
 * the handle's key, the 12-byte nonce and aad. out must be exactly plaintext.length + 16 bytes and must not
 * overlap the inputs. On any OpenSSL failure out is zeroed and an Error is thrown.
 */
static napi_value ms_gcm_seal(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  ms_gcm_key *k = NULL;
  napi_valuetype vt;
  if (napi_typeof(env, argv[0], &vt) != napi_ok) return NULL;
  if (vt != napi_external || napi_get_value_external(env, argv[0], (void **)&k) != napi_ok || !k || !k->ctx)
    return ms_throw_type(env, "key must be a handle from gcmKey");
  const unsigned char *nonce, *pt, *aad, *out_bytes;
  size_t nonce_len, pt_len, aad_len, out_len;
  if (!ms_bytes(env, argv[1], "nonce must be a Uint8Array", &nonce, &nonce_len)) return NULL;
  if (!ms_bytes(env, argv[2], "plaintext must be a Uint8Array", &pt, &pt_len)) return NULL;
  if (!ms_bytes(env, argv[3], "aad must be a Uint8Array", &aad, &aad_len)) return NULL;
  if (!ms_bytes(env, argv[4], "out must be a Uint8Array", &out_bytes, &out_len)) return NULL;
  unsigned char *out = (unsigned char *)out_bytes; /* the caller's array, written below */
  if (nonce_len != MS_GCM_NONCE_BYTES) return ms_throw_range(env, "nonce must be 12 bytes");
  if (pt_len > (size_t)INT_MAX - MS_GCM_TAG_BYTES) return ms_throw_range(env, "plaintext is too long");
  if (aad_len > (size_t)INT_MAX) return ms_throw_range(env, "aad is too long");
  if (out_len != pt_len + MS_GCM_TAG_BYTES) return ms_throw_range(env, "out must be plaintext.length + 16 bytes");
  if (ms_overlap(out, out_len, pt, pt_len) || ms_overlap(out, out_len, aad, aad_len) ||
      ms_overlap(out, out_len, nonce, nonce_len))
    return ms_throw_range(env, "out must not overlap nonce, plaintext or aad");

  EVP_CIPHER_CTX *c = k->ctx;
  int n = 0, fin = 0;
  /* NULL cipher and key: keep the key schedule, restart GCM with this IV (12 bytes is GCM's default IV length). */
  int ok = p_init(c, NULL, NULL, NULL, nonce) == 1;
  if (ok && aad_len) ok = p_update(c, NULL, &n, aad, (int)aad_len) == 1;
  if (ok && pt_len) ok = p_update(c, out, &n, pt, (int)pt_len) == 1 && (size_t)n == pt_len;
  if (ok) ok = p_final(c, out + pt_len, &fin) == 1 && fin == 0;
  if (ok) ok = p_ctrl(c, MS_EVP_CTRL_GCM_GET_TAG, MS_GCM_TAG_BYTES, out + pt_len) == 1;
  if (!ok) {
    p_cleanse(out, out_len);
    napi_throw_error(env, "ERR_CRYPTO_NATIVE", "crypto_native: AES-256-GCM seal failed");
  }
  return NULL;
}

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  pthread_once(&g_once, ms_resolve);
  if (!g_ready) {
    napi_throw_error(env, "ERR_CRYPTO_NATIVE_UNAVAILABLE",
                     "crypto_native: the EVP AES-256-GCM functions were not found in the running node binary");
    return NULL;
  }
  napi_property_descriptor props[] = {
      {"gcmKey", NULL, ms_gcm_key_new, NULL, NULL, NULL, napi_enumerable, NULL},
      {"gcmSeal", NULL, ms_gcm_seal, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}
