/*
 * Argument helpers shared by the project's Node-API addons (libs/merkle/native, libs/crypto/native); built in by
 * tools/build-native.mjs (-I tools/native). Every argument is checked before any memory is touched: the wrong type
 * throws TypeError (code ERR_INVALID_ARG_TYPE), a bad length or offset RangeError (ERR_OUT_OF_RANGE).
 */
#ifndef MS_NAPI_H
#define MS_NAPI_H

#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

static inline napi_value ms_throw_type(napi_env env, const char *msg) {
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", msg);
  return NULL;
}

static inline napi_value ms_throw_range(napi_env env, const char *msg) {
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
  return NULL;
}

/* Reads a Uint8Array argument (Buffers included); 0 and a pending TypeError otherwise. */
static inline int ms_bytes(napi_env env, napi_value v, const char *type_msg, const unsigned char **data, size_t *len) {
  napi_typedarray_type t;
  void *d = NULL;
  size_t n = 0;
  if (napi_get_typedarray_info(env, v, &t, &n, &d, NULL, NULL) != napi_ok || t != napi_uint8_array) {
    ms_throw_type(env, type_msg);
    return 0;
  }
  *data = (const unsigned char *)d;
  *len = n;
  return 1;
}

/* Whether the byte ranges [a, a+an) and [b, b+bn) share a byte. */
static inline int ms_overlap(const void *a, size_t an, const void *b, size_t bn) {
  uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
  return an && bn && x < y + bn && y < x + an;
}

#endif
