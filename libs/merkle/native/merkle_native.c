/*
 * MerkleSync native SHA-256 suite: a Node-API addon that hashes with the OpenSSL already linked
 * into the running node binary and, on x86 CPUs with SHA-NI, with two small SHA-NI kernels of its
 * own that hash one or two messages at a time (enabled only after they match OpenSSL at load).
 *
 * Why this exists: per-call hashing from JS tops out near 1-2M hashes/s, and a tree build needs
 * ~2M hashes of 33-65 bytes in well under half a second. Most of that time is call overhead, so
 * the batch entry points (digestPairs, digestPrefixedMany) hash whole tree levels per call, and
 * the per-call methods pass their bytes through a scratch region instead of as typed arrays
 * (see "the scratch region" below and ../docs/native.md).
 *
 * OpenSSL is not linked here: the few functions used are looked up with dlsym at load time, so the
 * addon always uses the node binary's own libcrypto and a missing symbol fails the load cleanly
 * (the JS loader then falls back to the WebAssembly suite) instead of crashing on first call.
 *
 * Every argument is validated before any memory is touched: wrong types throw TypeError, bad
 * lengths/offsets throw RangeError, with the argument's name in the message. Single-threaded:
 * every call runs on the calling thread.
 */
#define NAPI_VERSION 8
#include <node_api.h>

#include "ms_napi.h"

#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * Mirrors OpenSSL's public SHA256_CTX (openssl/sha.h, unchanged since 0.9.8): state words first.
 * Over-allocated so a larger real struct could never overflow it; the fast path that reads `h`
 * directly is enabled only after a known-answer self-test passes.
 */
typedef union {
  struct {
    uint32_t h[8];
    uint32_t Nl, Nh;
    uint32_t data[16];
    uint32_t num, md_len;
  } s;
  unsigned char pad[256];
} ms_sha256_ctx;

typedef int (*ms_init_fn)(ms_sha256_ctx *c);
typedef int (*ms_update_fn)(ms_sha256_ctx *c, const void *data, size_t len);
typedef int (*ms_final_fn)(unsigned char *md, ms_sha256_ctx *c);

static ms_init_fn p_init;
static ms_update_fn p_update;
static ms_final_fn p_final;
/* A freshly initialised context, copied instead of calling SHA256_Init on the hot path. */
static ms_sha256_ctx g_fresh;
/* 1 when whole padded messages may be fed to SHA256_Update and the state read from ctx.h. */
static int g_fast;
static int g_ready;
/* 1 when the SHA-NI kernels (ms_x1 / ms_x2) passed their load-time self-test. */
static int g_shani;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

/* Messages whose padded form fits here are hashed in one SHA256_Update over whole blocks. */
#define MS_ONESHOT_MAX 1024

static void ms_store_be32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24);
  p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8);
  p[3] = (unsigned char)v;
}

/* Appends SHA-256 padding for a message of `len` bytes already in buf; returns the padded length. */
static size_t ms_pad(unsigned char *buf, size_t len) {
  size_t total = (len + 9 + 63) & ~(size_t)63;
  buf[len] = 0x80;
  memset(buf + len + 1, 0, total - len - 9);
  uint64_t bits = (uint64_t)len << 3;
  for (int i = 0; i < 8; i++) buf[total - 1 - i] = (unsigned char)(bits >> (8 * i));
  return total;
}

/* The one-lane SHA-NI kernel once it passed its self-test (ms_shani_enable), else NULL. */
static void (*g_x1)(const unsigned char *blocks, size_t nblocks, unsigned char out[32]);

/* Runs the SHA-NI self-test and sets g_shani / g_x1 (defined with the kernels below). */
static void ms_shani_enable(void);

/* Hashes already-padded whole blocks: one SHA-NI kernel or OpenSSL block-function call, no buffering. */
static void ms_blocks(const unsigned char *blocks, size_t padded_len, unsigned char out[32]) {
  ms_sha256_ctx c;
  if (g_x1) {
    g_x1(blocks, padded_len / 64, out);
    return;
  }
  memcpy(&c, &g_fresh, sizeof c.s);
  p_update(&c, blocks, padded_len);
  for (int i = 0; i < 8; i++) ms_store_be32(out + 4 * i, c.s.h[i]);
}

typedef struct {
  const unsigned char *p;
  size_t n;
} ms_part;

/* SHA-256 of the concatenation of parts. */
static void ms_digest_parts(const ms_part *parts, int count, unsigned char out[32]) {
  size_t total = 0;
  for (int i = 0; i < count; i++) total += parts[i].n;
  if (g_fast && total <= MS_ONESHOT_MAX - 72) {
    unsigned char buf[MS_ONESHOT_MAX];
    size_t at = 0;
    for (int i = 0; i < count; i++) {
      if (parts[i].n) memcpy(buf + at, parts[i].p, parts[i].n);
      at += parts[i].n;
    }
    ms_blocks(buf, ms_pad(buf, total), out);
    return;
  }
  ms_sha256_ctx c;
  p_init(&c);
  for (int i = 0; i < count; i++)
    if (parts[i].n) p_update(&c, parts[i].p, parts[i].n);
  p_final(out, &c);
}

static void ms_resolve(void) {
  p_init = (ms_init_fn)dlsym(RTLD_DEFAULT, "SHA256_Init");
  p_update = (ms_update_fn)dlsym(RTLD_DEFAULT, "SHA256_Update");
  p_final = (ms_final_fn)dlsym(RTLD_DEFAULT, "SHA256_Final");
  if (!p_init || !p_update || !p_final) return;

  static const unsigned char abc_sha256[32] = {
      0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
      0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
  unsigned char got[32];
  ms_part abc = {(const unsigned char *)"abc", 3};

  /* The streaming path must be right, or the addon refuses to load. */
  g_fast = 0;
  ms_digest_parts(&abc, 1, got);
  if (memcmp(got, abc_sha256, 32) != 0) return;

  p_init(&g_fresh);
  g_fast = 1;
  ms_digest_parts(&abc, 1, got);
  if (memcmp(got, abc_sha256, 32) != 0) g_fast = 0;
  if (g_fast) ms_shani_enable();
  g_ready = 1;
}

/* ---------------------------------------------------------------- two-lane SHA-NI compression */

/*
 * Why: OpenSSL hashes one message at a time, and one block is a chain of 32 dependent
 * sha256rnds2 instructions, so a lone block waits on their latency (~40 ns/block here).
 * The batch calls have many independent messages, so ms_x2 runs two of them interleaved and the
 * CPU overlaps the chains. It is the textbook SHA-NI round sequence (Intel's SHA extensions
 * white paper), written once and instantiated for 1 and 2 lanes. It is used only when CPUID
 * reports SHA + SSE4.1 and it matched OpenSSL on every length 0..300, 1 and 2 lanes, at load.
 */
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define MS_HAVE_SHANI 1
#include <cpuid.h>
#include <immintrin.h>

static const uint32_t ms_k256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};


#define MS_TARGET __attribute__((target("sha,sse4.1,ssse3")))

/*
 * Hashes L padded messages of `blocks` blocks each from the initial state: out[l] = digest of m[l].
 * The lane loops are compile-time constant, so they unroll into interleaved instruction streams.
 */
#define MS_DEFINE_SHANI(NAME, L)                                                                     \
  static MS_TARGET void NAME(const unsigned char *const *m, size_t blocks, unsigned char *const *out) { \
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);                \
    __m128i s0[L], s1[L];                                                                              \
    for (int l = 0; l < L; l++) {                                                                      \
      /* state as the instructions want it: s0 = ABEF, s1 = CDGH (high to low) */                      \
      s0[l] = _mm_set_epi32((int)0x6a09e667, (int)0xbb67ae85, (int)0x510e527f, (int)0x9b05688c);       \
      s1[l] = _mm_set_epi32((int)0x3c6ef372, (int)0xa54ff53a, (int)0x1f83d9ab, (int)0x5be0cd19);       \
    }                                                                                                  \
    for (size_t b = 0; b < blocks; b++) {                                                              \
      __m128i save0[L], save1[L], w[L][4], msg[L], tmp[L];                                             \
      for (int l = 0; l < L; l++) save0[l] = s0[l], save1[l] = s1[l];                                  \
      _Pragma("GCC unroll 16") for (int g = 0; g < 16; g++) {                                          \
        const __m128i k = _mm_loadu_si128((const __m128i *)(ms_k256 + 4 * g));                         \
        for (int l = 0; l < L; l++) {                                                                  \
          if (g < 4)                                                                                   \
            w[l][g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(m[l] + 64 * b + 16 * g)), bswap); \
          msg[l] = _mm_add_epi32(w[l][g & 3], k);                                                      \
          s1[l] = _mm_sha256rnds2_epu32(s1[l], s0[l], msg[l]);                                         \
        }                                                                                              \
        for (int l = 0; l < L; l++) {                                                                  \
          if (g >= 3 && g <= 14) {                                                                     \
            tmp[l] = _mm_alignr_epi8(w[l][g & 3], w[l][(g - 1) & 3], 4);                               \
            w[l][(g + 1) & 3] = _mm_add_epi32(w[l][(g + 1) & 3], tmp[l]);                              \
            w[l][(g + 1) & 3] = _mm_sha256msg2_epu32(w[l][(g + 1) & 3], w[l][g & 3]);                  \
          }                                                                                            \
          msg[l] = _mm_shuffle_epi32(msg[l], 0x0E);                                                    \
          s0[l] = _mm_sha256rnds2_epu32(s0[l], s1[l], msg[l]);                                         \
          if (g >= 1 && g <= 12) w[l][(g - 1) & 3] = _mm_sha256msg1_epu32(w[l][(g - 1) & 3], w[l][g & 3]); \
        }                                                                                              \
      }                                                                                                \
      for (int l = 0; l < L; l++) s0[l] = _mm_add_epi32(s0[l], save0[l]), s1[l] = _mm_add_epi32(s1[l], save1[l]); \
    }                                                                                                  \
    for (int l = 0; l < L; l++) {                                                                      \
      __m128i t = _mm_shuffle_epi32(s0[l], 0x1B);       /* ABEF -> FEBA */                            \
      __m128i u = _mm_shuffle_epi32(s1[l], 0xB1);       /* CDGH -> DCHG */                            \
      __m128i abcd = _mm_blend_epi16(t, u, 0xF0);       /* DCBA */                                    \
      __m128i efgh = _mm_alignr_epi8(u, t, 8);          /* HGFE */                                    \
      _mm_storeu_si128((__m128i *)out[l], _mm_shuffle_epi8(abcd, bswap));                              \
      _mm_storeu_si128((__m128i *)(out[l] + 16), _mm_shuffle_epi8(efgh, bswap));                       \
    }                                                                                                  \
  }

MS_DEFINE_SHANI(ms_x1, 1)
MS_DEFINE_SHANI(ms_x2, 2)

static int ms_cpu_has_shani(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  if (!(c & (1u << 19)) || !(c & (1u << 9))) return 0; /* SSE4.1, SSSE3 */
  if (__get_cpuid_max(0, NULL) < 7) return 0;
  __cpuid_count(7, 0, a, b, c, d);
  return (b & (1u << 29)) != 0; /* SHA */
}
#endif

#ifdef MS_HAVE_SHANI
static void ms_x1_one(const unsigned char *blocks, size_t nblocks, unsigned char out[32]) {
  const unsigned char *m[1] = {blocks};
  unsigned char *o[1] = {out};
  ms_x1(m, nblocks, o);
}
#endif

/* Enables the kernels only if they equal the streaming OpenSSL path on every length 0..300. */
static void ms_shani_enable(void) {
#ifdef MS_HAVE_SHANI
  if (!ms_cpu_has_shani()) return;
  unsigned char src[320], a[384], b[384], want_a[32], want_b[32], got_a[32], got_b[32];
  for (int i = 0; i < (int)sizeof src; i++) src[i] = (unsigned char)(i * 131 + 7);
  int saved_fast = g_fast;
  for (size_t n = 0; n <= 300; n++) {
    ms_part pa = {src, n}, pb = {src + 19, n};
    g_fast = 0; /* streaming Init/Update/Final: the reference */
    ms_digest_parts(&pa, 1, want_a);
    ms_digest_parts(&pb, 1, want_b);
    g_fast = saved_fast;
    memcpy(a, src, n);
    memcpy(b, src + 19, n);
    size_t padded = ms_pad(a, n);
    ms_pad(b, n);
    const unsigned char *m1[1] = {a};
    unsigned char *o1[1] = {got_a};
    ms_x1(m1, padded / 64, o1);
    if (memcmp(got_a, want_a, 32) != 0) return;
    const unsigned char *m2[2] = {a, b};
    unsigned char *o2[2] = {got_a, got_b};
    memset(got_a, 0, 32);
    ms_x2(m2, padded / 64, o2);
    if (memcmp(got_a, want_a, 32) != 0 || memcmp(got_b, want_b, 32) != 0) return;
  }
  g_shani = 1;
  g_x1 = ms_x1_one;
#endif
}

/* Two padded messages of the same padded length: the two-lane kernel when it is enabled. */
static void ms_blocks2(const unsigned char *m0, const unsigned char *m1, size_t padded_len, unsigned char *o0,
                       unsigned char *o1) {
#ifdef MS_HAVE_SHANI
  if (g_shani) {
    const unsigned char *m[2] = {m0, m1};
    unsigned char *o[2] = {o0, o1};
    ms_x2(m, padded_len / 64, o);
    return;
  }
#endif
  ms_blocks(m0, padded_len, o0);
  ms_blocks(m1, padded_len, o1);
}

/* ---------------------------------------------------------------- digestPairs kernels */

/* Sequential digestPairs; `fast` 0 forces the streaming path (prefix re-read for every pair). */
static void ms_pairs_range(const unsigned char *prefix, size_t prefix_len, const unsigned char *pairs, size_t count,
                           unsigned char *out, int fast) {
  size_t msg_len = prefix_len + 64;
  if (fast && g_fast && msg_len <= MS_ONESHOT_MAX - 72) {
    unsigned char buf[MS_ONESHOT_MAX], buf2[MS_ONESHOT_MAX];
    if (prefix_len) memcpy(buf, prefix, prefix_len), memcpy(buf2, prefix, prefix_len);
    size_t padded = ms_pad(buf, msg_len); /* the trailer is the same for every pair */
    ms_pad(buf2, msg_len);
    unsigned char *slot = buf + prefix_len, *slot2 = buf2 + prefix_len;
    for (size_t i = 0; i < count; i++) {
      memcpy(slot, pairs + 64 * i, 64);
      /* Pair i+1 is read before digest i is written, so only when that write cannot reach it. */
      if (i + 1 < count && !ms_overlap(out + 32 * i, 32, pairs + 64 * (i + 1), 64)) {
        memcpy(slot2, pairs + 64 * (i + 1), 64);
        ms_blocks2(buf, buf2, padded, out + 32 * i, out + 32 * (i + 1));
        i++;
        continue;
      }
      ms_blocks(buf, padded, out + 32 * i);
    }
    return;
  }
  for (size_t i = 0; i < count; i++) {
    ms_sha256_ctx c;
    unsigned char md[32];
    p_init(&c);
    if (prefix_len) p_update(&c, prefix, prefix_len);
    p_update(&c, pairs + 64 * i, 64);
    p_final(md, &c);
    memcpy(out + 32 * i, md, 32);
  }
}

/* ---------------------------------------------------------------- argument checking */

/* ms_throw_type, ms_throw_range, ms_bytes, ms_overlap: tools/native/ms_napi.h */

/* Reads a non-negative safe integer; `undefined` gives `dflt` when dflt >= 0. */
static int ms_index(napi_env env, napi_value v, double dflt, const char *type_msg, const char *range_msg, size_t *out) {
  napi_valuetype vt;
  if (napi_typeof(env, v, &vt) != napi_ok) return 0;
  if (vt == napi_undefined && dflt >= 0) {
    *out = (size_t)dflt;
    return 1;
  }
  double d;
  if (vt != napi_number || napi_get_value_double(env, v, &d) != napi_ok) {
    ms_throw_type(env, type_msg);
    return 0;
  }
  if (!(d >= 0) || d > 9007199254740991.0 || d != floor(d)) {
    ms_throw_range(env, range_msg);
    return 0;
  }
  *out = (size_t)d;
  return 1;
}

/*
 * Reads the 32-byte destination of the single-digest functions. Returning a new Uint8Array from C
 * costs an off-heap ArrayBuffer per call (4x slower than the hash itself), so the JS loader passes
 * a reused scratch array here and copies it out with slice(), which V8 allocates on-heap.
 */
static int ms_digest_out(napi_env env, napi_value v, unsigned char **out) {
  const unsigned char *d;
  size_t n;
  if (!ms_bytes(env, v, "out must be a Uint8Array", &d, &n)) return 0;
  if (n < 32) {
    ms_throw_range(env, "out must have room for 32 bytes");
    return 0;
  }
  *out = (unsigned char *)d;
  return 1;
}

#define MS_ARGS(n)                                                            \
  size_t argc = (n);                                                          \
  napi_value argv[(n)];                                                       \
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;

/* ---------------------------------------------------------------- exported functions */

/* digestInto(msg, out): out[0..32] = H(msg) */
static napi_value ms_digest(napi_env env, napi_callback_info info) {
  MS_ARGS(2);
  ms_part p[1];
  unsigned char *out;
  if (!ms_bytes(env, argv[0], "msg must be a Uint8Array", &p[0].p, &p[0].n)) return NULL;
  if (!ms_digest_out(env, argv[1], &out)) return NULL;
  ms_digest_parts(p, 1, out);
  return NULL;
}

/* digestPrefixedInto(prefix, msg, out): out[0..32] = H(prefix || msg) */
static napi_value ms_digest_prefixed(napi_env env, napi_callback_info info) {
  MS_ARGS(3);
  ms_part p[2];
  unsigned char *out;
  if (!ms_bytes(env, argv[0], "prefix must be a Uint8Array", &p[0].p, &p[0].n)) return NULL;
  if (!ms_bytes(env, argv[1], "msg must be a Uint8Array", &p[1].p, &p[1].n)) return NULL;
  if (!ms_digest_out(env, argv[2], &out)) return NULL;
  ms_digest_parts(p, 2, out);
  return NULL;
}

/* digestPairInto(prefix, a, b, out): out[0..32] = H(prefix || a || b) */
static napi_value ms_digest_pair(napi_env env, napi_callback_info info) {
  MS_ARGS(4);
  ms_part p[3];
  unsigned char *out;
  if (!ms_bytes(env, argv[0], "prefix must be a Uint8Array", &p[0].p, &p[0].n)) return NULL;
  if (!ms_bytes(env, argv[1], "a must be a Uint8Array", &p[1].p, &p[1].n)) return NULL;
  if (!ms_bytes(env, argv[2], "b must be a Uint8Array", &p[2].p, &p[2].n)) return NULL;
  if (!ms_digest_out(env, argv[3], &out)) return NULL;
  ms_digest_parts(p, 3, out);
  return NULL;
}

/*
 * digestPairs(prefix, pairs, count, out, outOffset = 0):
 * out[outOffset+32i .. +32] = H(prefix || pairs[64i .. 64i+64]) for i < count, in ascending i.
 * Results equal that sequential definition whatever the overlap between prefix, pairs and out
 * (in-place level reduction passes out === pairs), and so equal the portable suite byte for byte.
 */
static napi_value ms_digest_pairs(napi_env env, napi_callback_info info) {
  MS_ARGS(5);
  const unsigned char *prefix, *pairs, *outc;
  size_t prefix_len, pairs_len, out_len, count, off;
  if (!ms_bytes(env, argv[0], "prefix must be a Uint8Array", &prefix, &prefix_len)) return NULL;
  if (!ms_bytes(env, argv[1], "pairs must be a Uint8Array", &pairs, &pairs_len)) return NULL;
  if (!ms_index(env, argv[2], -1, "count must be a number", "count must be a non-negative integer", &count)) return NULL;
  if (!ms_bytes(env, argv[3], "out must be a Uint8Array", &outc, &out_len)) return NULL;
  if (!ms_index(env, argv[4], 0, "outOffset must be a number", "outOffset must be a non-negative integer", &off)) return NULL;
  if (count > pairs_len / 64) return ms_throw_range(env, "pairs is shorter than 64 * count bytes");
  if (off > out_len || count > (out_len - off) / 32)
    return ms_throw_range(env, "out is shorter than outOffset + 32 * count bytes");
  unsigned char *out = (unsigned char *)outc + off;

  if (count == 0) return NULL;
  if (ms_overlap(prefix, prefix_len, out, 32 * count)) {
    /* The prefix itself is overwritten as we go: re-read it for every pair, as the definition does. */
    ms_pairs_range(prefix, prefix_len, pairs, count, out, 0);
    return NULL;
  }
  ms_pairs_range(prefix, prefix_len, pairs, count, out, 1);
  return NULL;
}

static napi_value ms_many_loop(napi_env env, napi_value msgs, napi_value out_v, uint32_t n,
                               const unsigned char *prefix, size_t prefix_len);

/* Digests buffered before being copied to `out`; see ms_digest_prefixed_many. */
#define MS_MANY_CHUNK 256

/*
 * digestPrefixedMany(prefix, msgs, out): out[32i .. 32i+32] = H(prefix || msgs[i]).
 * Reading msgs[i] may run JS (getters) that could detach or shrink `out`, so digests are staged
 * on the stack and `out` is re-read and re-checked before every flush.
 */
static napi_value ms_digest_prefixed_many(napi_env env, napi_callback_info info) {
  MS_ARGS(3);
  const unsigned char *prefix, *outc;
  size_t prefix_len, out_len;
  if (!ms_bytes(env, argv[0], "prefix must be a Uint8Array", &prefix, &prefix_len)) return NULL;
  bool is_array = false;
  if (napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array)
    return ms_throw_type(env, "msgs must be an array of Uint8Array");
  uint32_t n;
  if (napi_get_array_length(env, argv[1], &n) != napi_ok) return NULL;
  if (!ms_bytes(env, argv[2], "out must be a Uint8Array", &outc, &out_len)) return NULL;
  if ((size_t)n > out_len / 32) return ms_throw_range(env, "out is shorter than 32 * msgs.length bytes");

  /* A getter could also detach prefix's buffer, so hash from a private copy of it. */
  unsigned char prefix_small[256];
  unsigned char *prefix_copy = prefix_small;
  if (prefix_len > sizeof prefix_small) {
    prefix_copy = (unsigned char *)malloc(prefix_len);
    if (!prefix_copy) {
      napi_throw_error(env, "ERR_MEMORY_ALLOCATION_FAILED", "out of memory copying prefix");
      return NULL;
    }
  }
  if (prefix_len) memcpy(prefix_copy, prefix, prefix_len);
  napi_value result = ms_many_loop(env, argv[1], argv[2], n, prefix_copy, prefix_len);
  if (prefix_copy != prefix_small) free(prefix_copy);
  return result;
}

static napi_value ms_many_loop(napi_env env, napi_value msgs, napi_value out_v, uint32_t n,
                               const unsigned char *prefix, size_t prefix_len) {
  const unsigned char *outc;
  size_t out_len;
  unsigned char staged[MS_MANY_CHUNK * 32];
  for (uint32_t base = 0; base < n; base += MS_MANY_CHUNK) {
    uint32_t k = n - base < MS_MANY_CHUNK ? n - base : MS_MANY_CHUNK;
    /* One handle per element read; a scope per chunk keeps a 1M-element call from piling them up. */
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return NULL;
    int ok = 1;
    for (uint32_t j = 0; ok && j < k; j++) {
      napi_value el;
      ms_part p[2] = {{prefix, prefix_len}, {NULL, 0}};
      ok = napi_get_element(env, msgs, base + j, &el) == napi_ok &&
           ms_bytes(env, el, "every element of msgs must be a Uint8Array", &p[1].p, &p[1].n);
      if (ok) ms_digest_parts(p, 2, staged + 32 * j);
    }
    napi_close_handle_scope(env, scope);
    if (!ok) return NULL;
    if (!ms_bytes(env, out_v, "out must be a Uint8Array", &outc, &out_len)) return NULL;
    if ((size_t)base + k > out_len / 32) return ms_throw_range(env, "out is shorter than 32 * msgs.length bytes");
    memcpy((unsigned char *)outc + 32 * (size_t)base, staged, 32 * (size_t)k);
  }
  return NULL;
}

/* ---------------------------------------------------------------- the scratch region */

/*
 * Why a scratch region: V8 keeps typed arrays of <= 64 bytes inside the JS heap, and
 * napi_get_typedarray_info must first move such an array's bytes off-heap (an allocation) before it
 * can return a pointer. Every fresh 32-byte digest or proof element paid that once, which capped
 * digestPair at ~1M calls/s. So the JS loader copies small inputs into this one region with
 * TypedArray.prototype.set (a plain memcpy in V8) and calls functions that take only integers;
 * no typed array crosses the boundary on the hot path.
 *
 * The region is memory this addon owns, exposed to JS once per Node-API environment as an external
 * ArrayBuffer (takeScratch). It is freed only when BOTH the environment is torn down and the
 * ArrayBuffer's backing store is released, so even a transferred or detached ArrayBuffer can never
 * leave the C side pointing at freed memory.
 *
 * Layout (byte offsets, exported as `scratchLayout`; every offset is a multiple of 64):
 *   [0, 32)                   digest slot: hashScratch writes H(input) here
 *   [64, 64 + MS_S_IN_MAX)    single-message input; padded in place, so up to 2048 is writable
 *   [2048, 2048 + 4*MS_M_MAX) Uint32 end offsets of the packed messages (manyScratch)
 *   [6144, 65536)             packed data: prefix, then messages back to back
 */
#define MS_SCRATCH_SIZE 65536u
#define MS_S_DIGEST_AT 0u
#define MS_S_IN_AT 64u
#define MS_S_IN_MAX 1912u /* (1912 + 9 + 63) & ~63 = 1984 = 2048 - 64: the padded form still fits */
#define MS_M_ENDS_AT 2048u
#define MS_M_MAX 1024u
#define MS_M_DATA_AT (MS_M_ENDS_AT + 4u * MS_M_MAX)
#define MS_M_PREFIX_MAX 1024u

typedef struct {
  unsigned char *buf;
  atomic_int refs; /* 1 for the environment, +1 while an ArrayBuffer over buf exists */
  bool taken;
} ms_scratch;

static void ms_scratch_release(ms_scratch *s) {
  if (atomic_fetch_sub(&s->refs, 1) == 1) {
    free(s->buf);
    free(s);
  }
}

/* Runs when the environment is torn down. */
static void ms_scratch_env_gone(napi_env env, void *data, void *hint) {
  (void)env, (void)hint;
  ms_scratch_release((ms_scratch *)data);
}

/* Runs when V8 releases the ArrayBuffer's backing store (possibly on another thread after a transfer). */
static void ms_scratch_buffer_gone(napi_env env, void *data, void *hint) {
  (void)env, (void)data;
  ms_scratch_release((ms_scratch *)hint);
}

/* Every function that uses the region gets it as its Node-API callback data. */
#define MS_SCRATCH_ARGS(n)                                                                 \
  size_t argc = (n);                                                                       \
  napi_value argv[(n)];                                                                    \
  void *cb_data = NULL;                                                                    \
  if (napi_get_cb_info(env, info, &argc, argv, NULL, &cb_data) != napi_ok) return NULL;   \
  unsigned char *const S = ((ms_scratch *)cb_data)->buf;

/*
 * takeScratch(): the region as an ArrayBuffer. Works once per environment, so only the module's own
 * loader (which calls it straight after loading) ever holds the buffer.
 */
static napi_value ms_take_scratch(napi_env env, napi_callback_info info) {
  void *cb_data = NULL;
  size_t argc = 0;
  if (napi_get_cb_info(env, info, &argc, NULL, NULL, &cb_data) != napi_ok) return NULL;
  ms_scratch *s = (ms_scratch *)cb_data;
  if (s->taken) {
    napi_throw_error(env, "ERR_MERKLE_SCRATCH_TAKEN", "merkle_native: the scratch region is already in use");
    return NULL;
  }
  napi_value ab;
  atomic_fetch_add(&s->refs, 1);
  if (napi_create_external_arraybuffer(env, s->buf, MS_SCRATCH_SIZE, ms_scratch_buffer_gone, s, &ab) != napi_ok) {
    /* e.g. a runtime that forbids external buffers: the loader falls back to the per-call path. */
    atomic_fetch_sub(&s->refs, 1);
    return NULL;
  }
  s->taken = true;
  return ab;
}

/* hashScratch(len): scratch[0..32] = H(scratch[64 .. 64+len]). The input bytes after len are clobbered. */
static napi_value ms_hash_scratch(napi_env env, napi_callback_info info) {
  MS_SCRATCH_ARGS(1);
  uint32_t len;
  if (argc < 1 || napi_get_value_uint32(env, argv[0], &len) != napi_ok) return ms_throw_type(env, "len must be a number");
  if (len > MS_S_IN_MAX) return ms_throw_range(env, "len is larger than the scratch input");
  unsigned char *in = S + MS_S_IN_AT;
  if (g_fast) {
    ms_blocks(in, ms_pad(in, len), S + MS_S_DIGEST_AT);
  } else {
    ms_part p = {in, len};
    ms_digest_parts(&p, 1, S + MS_S_DIGEST_AT);
  }
  return NULL;
}

/*
 * manyScratch(prefixLen, count, out, outOffset):
 * with data = scratch[6144 ..], ends = Uint32 scratch[2048 ..], e(-1) = prefixLen,
 * out[outOffset + 32i .. +32] = H(data[0 .. prefixLen] || data[e(i-1) .. e(i)]) for i < count.
 * The ends are re-checked here (monotone, inside the region), so no value JS writes can make C read
 * outside the region.
 */
static napi_value ms_many_scratch(napi_env env, napi_callback_info info) {
  MS_SCRATCH_ARGS(4);
  size_t prefix_len, count, off, out_len;
  const unsigned char *outc;
  if (argc < 4) return ms_throw_type(env, "manyScratch takes 4 arguments");
  if (!ms_index(env, argv[0], -1, "prefixLen must be a number", "prefixLen must be a non-negative integer", &prefix_len)) return NULL;
  if (!ms_index(env, argv[1], -1, "count must be a number", "count must be a non-negative integer", &count)) return NULL;
  if (!ms_bytes(env, argv[2], "out must be a Uint8Array", &outc, &out_len)) return NULL;
  if (!ms_index(env, argv[3], -1, "outOffset must be a number", "outOffset must be a non-negative integer", &off)) return NULL;
  if (prefix_len > MS_M_PREFIX_MAX || count > MS_M_MAX) return ms_throw_range(env, "prefixLen or count exceeds the scratch region");
  if (off > out_len || count > (out_len - off) / 32) return ms_throw_range(env, "out is shorter than 32 * msgs.length bytes");
  const unsigned char *data = S + MS_M_DATA_AT;
  const size_t data_max = MS_SCRATCH_SIZE - MS_M_DATA_AT;
  uint32_t ends[MS_M_MAX];
  memcpy(ends, S + MS_M_ENDS_AT, 4 * count);
  size_t start = prefix_len;
  for (size_t i = 0; i < count; i++) {
    if (ends[i] < start || ends[i] > data_max) return ms_throw_range(env, "scratch message offsets are out of order");
    start = ends[i];
  }
  unsigned char *out = (unsigned char *)outc + off;
  start = prefix_len;
  if (g_fast && prefix_len <= MS_ONESHOT_MAX - 72) {
    unsigned char buf[MS_ONESHOT_MAX], buf2[MS_ONESHOT_MAX];
    if (prefix_len) memcpy(buf, data, prefix_len), memcpy(buf2, data, prefix_len);
    size_t last_n = SIZE_MAX, padded = 0;
    for (size_t i = 0; i < count; i++) {
      size_t n = ends[i] - start;
      if (i + 1 < count && ends[i + 1] - ends[i] == n && prefix_len + n <= MS_ONESHOT_MAX - 72) {
        /* Two messages of one length: hashed side by side (the usual case: fixed-size leaves). */
        memcpy(buf + prefix_len, data + start, n);
        memcpy(buf2 + prefix_len, data + ends[i], n);
        if (n != last_n) padded = ms_pad(buf, prefix_len + n), ms_pad(buf2, prefix_len + n);
        last_n = n;
        ms_blocks2(buf, buf2, padded, out + 32 * i, out + 32 * (i + 1));
        start = ends[i + 1];
        i++;
        continue;
      }
      if (prefix_len + n <= MS_ONESHOT_MAX - 72) {
        /* buf2's trailer no longer matches last_n once buf alone is re-padded. */
        if (n != last_n) padded = ms_pad(buf, prefix_len + n), ms_pad(buf2, prefix_len + n);
        memcpy(buf + prefix_len, data + start, n);
        last_n = n;
        ms_blocks(buf, padded, out + 32 * i);
      } else {
        last_n = SIZE_MAX;
        ms_part p[2] = {{data, prefix_len}, {data + start, n}};
        ms_digest_parts(p, 2, out + 32 * i);
      }
      start = ends[i];
    }
    return NULL;
  }
  for (size_t i = 0; i < count; i++) {
    ms_part p[2] = {{data, prefix_len}, {data + start, ends[i] - start}};
    ms_digest_parts(p, 2, out + 32 * i);
    start = ends[i];
  }
  return NULL;
}

static void ms_set_u32(napi_env env, napi_value obj, const char *name, uint32_t v) {
  napi_value x;
  if (napi_create_uint32(env, v, &x) == napi_ok) napi_set_named_property(env, obj, name, x);
}

/* ---------------------------------------------------------------- module init */

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  pthread_once(&g_once, ms_resolve);
  if (!g_ready) {
    napi_throw_error(env, "ERR_MERKLE_NATIVE_UNAVAILABLE",
                     "merkle_native: SHA256_Init/Update/Final not found in the running node binary");
    return NULL;
  }
  /* One scratch region per environment (main thread, each worker thread). */
  ms_scratch *s = (ms_scratch *)calloc(1, sizeof *s);
  void *buf = NULL;
  if (!s || posix_memalign(&buf, 64, MS_SCRATCH_SIZE) != 0) {
    free(s);
    napi_throw_error(env, "ERR_MEMORY_ALLOCATION_FAILED", "merkle_native: out of memory");
    return NULL;
  }
  memset(buf, 0, MS_SCRATCH_SIZE);
  s->buf = (unsigned char *)buf;
  atomic_init(&s->refs, 1);
  if (napi_set_instance_data(env, s, ms_scratch_env_gone, NULL) != napi_ok) {
    free(buf);
    free(s);
    return NULL;
  }
  napi_property_descriptor props[] = {
      {"digestInto", NULL, ms_digest, NULL, NULL, NULL, napi_enumerable, NULL},
      {"digestPrefixedInto", NULL, ms_digest_prefixed, NULL, NULL, NULL, napi_enumerable, NULL},
      {"digestPairInto", NULL, ms_digest_pair, NULL, NULL, NULL, napi_enumerable, NULL},
      {"digestPairs", NULL, ms_digest_pairs, NULL, NULL, NULL, napi_enumerable, NULL},
      {"digestPrefixedMany", NULL, ms_digest_prefixed_many, NULL, NULL, NULL, napi_enumerable, NULL},
      {"takeScratch", NULL, ms_take_scratch, NULL, NULL, NULL, napi_enumerable, s},
      {"hashScratch", NULL, ms_hash_scratch, NULL, NULL, NULL, napi_enumerable, s},
      {"manyScratch", NULL, ms_many_scratch, NULL, NULL, NULL, napi_enumerable, s},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  napi_value layout;
  if (napi_create_object(env, &layout) == napi_ok) {
    ms_set_u32(env, layout, "size", MS_SCRATCH_SIZE);
    ms_set_u32(env, layout, "digestAt", MS_S_DIGEST_AT);
    ms_set_u32(env, layout, "inputAt", MS_S_IN_AT);
    ms_set_u32(env, layout, "inputMax", MS_S_IN_MAX);
    ms_set_u32(env, layout, "endsAt", MS_M_ENDS_AT);
    ms_set_u32(env, layout, "countMax", MS_M_MAX);
    ms_set_u32(env, layout, "dataAt", MS_M_DATA_AT);
    ms_set_u32(env, layout, "prefixMax", MS_M_PREFIX_MAX);
    napi_set_named_property(env, exports, "scratchLayout", layout);
  }
  /* Diagnostic: true when the whole-block fast path passed its self-test (see ms_resolve). */
  napi_value fast;
  if (napi_get_boolean(env, g_fast != 0, &fast) == napi_ok) napi_set_named_property(env, exports, "blockPath", fast);
  /* Diagnostic: true when the SHA-NI kernels passed their self-test (see ms_shani_enable). */
  napi_value shani;
  if (napi_get_boolean(env, g_shani != 0, &shani) == napi_ok) napi_set_named_property(env, exports, "shaniPath", shani);
  return exports;
}
