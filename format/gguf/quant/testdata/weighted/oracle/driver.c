// Oracle driver: quantize an f32 file with ggml's quantize_<type>, and
// dequantize with dequantize_row_<type>. Outside the lorakit repository.
#include "ggml-quants.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <assert.h>
void ggml_abort(const char * file, int line, const char * fmt, ...) { fprintf(stderr, "abort %s:%d %s\n", file, line, fmt); exit(2); }
struct tr { const char * name; int type; int blck; size_t size; };
static const struct tr T[] = {
  {"q4_0", GGML_TYPE_Q4_0, 32, 18}, {"q4_1", GGML_TYPE_Q4_1, 32, 20}, {"q5_0", GGML_TYPE_Q5_0, 32, 22}, {"q5_1", GGML_TYPE_Q5_1, 32, 24},
  {"q2_k", GGML_TYPE_Q2_K, 256, 84}, {"q3_k", GGML_TYPE_Q3_K, 256, 110}, {"q4_k", GGML_TYPE_Q4_K, 256, 144}, {"q5_k", GGML_TYPE_Q5_K, 256, 176}, {"q6_k", GGML_TYPE_Q6_K, 256, 210},
  {"iq4_nl", GGML_TYPE_IQ4_NL, 32, 18}, {"iq4_xs", GGML_TYPE_IQ4_XS, 256, 136}, {"tq1_0", GGML_TYPE_TQ1_0, 256, 54}, {"tq2_0", GGML_TYPE_TQ2_0, 256, 66},
  {"iq3_xxs", GGML_TYPE_IQ3_XXS, 256, 98}, {"iq3_s", GGML_TYPE_IQ3_S, 256, 110}, {"iq2_xxs", GGML_TYPE_IQ2_XXS, 256, 66}, {"iq2_xs", GGML_TYPE_IQ2_XS, 256, 74},
  {"iq2_s", GGML_TYPE_IQ2_S, 256, 82}, {"iq1_s", GGML_TYPE_IQ1_S, 256, 50}, {"iq1_m", GGML_TYPE_IQ1_M, 256, 56},
};
static const struct tr * find_type(int type) { for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) if (T[i].type == type) return &T[i]; return NULL; }
size_t ggml_type_size(enum ggml_type t) { return find_type(t)->size; }
size_t ggml_row_size(enum ggml_type t, int64_t n) { const struct tr * r = find_type(t); return r->size * n / r->blck; }
const char * ggml_type_name(enum ggml_type t) { return find_type(t)->name; }
static void * slurp(const char * p, size_t * n) { FILE * f = fopen(p, "rb"); if (!f) { perror(p); exit(1); } fseek(f, 0, SEEK_END); *n = ftell(f); fseek(f, 0, SEEK_SET); void * b = malloc(*n); if (fread(b, 1, *n, f) != *n) exit(1); fclose(f); return b; }
typedef size_t (*qfn)(const float *, void *, int64_t, int64_t, const float *);
typedef void (*dfn)(const void *, float *, int64_t);
int main(int argc, char ** argv) {
  // q TYPE N_PER_ROW IN.f32 IMATRIX.f32|- OUT   or   d TYPE IN.bin OUT.f32
  const struct tr * t = NULL;
  for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) if (!strcmp(T[i].name, argv[2])) t = &T[i];
  if (!t) { fprintf(stderr, "type?\n"); return 1; }
  qfn q = NULL; dfn d = NULL;
#define C(n) case GGML_TYPE_##n: q = quantize_##n; d = (dfn)dequantize_row_##n; break;
#define CL(n, l) case GGML_TYPE_##n: q = quantize_##l; d = (dfn)dequantize_row_##l; break;
  switch (t->type) {
    CL(Q4_0, q4_0) CL(Q4_1, q4_1) CL(Q5_0, q5_0) CL(Q5_1, q5_1) CL(Q2_K, q2_K) CL(Q3_K, q3_K) CL(Q4_K, q4_K) CL(Q5_K, q5_K) CL(Q6_K, q6_K)
    CL(IQ4_NL, iq4_nl) CL(IQ4_XS, iq4_xs) CL(TQ1_0, tq1_0) CL(TQ2_0, tq2_0) CL(IQ3_XXS, iq3_xxs) CL(IQ3_S, iq3_s)
    CL(IQ2_XXS, iq2_xxs) CL(IQ2_XS, iq2_xs) CL(IQ2_S, iq2_s) CL(IQ1_S, iq1_s) CL(IQ1_M, iq1_m)
  }
  if (t->type == GGML_TYPE_IQ2_XXS || t->type == GGML_TYPE_IQ2_XS || t->type == GGML_TYPE_IQ2_S || t->type == GGML_TYPE_IQ1_S || t->type == GGML_TYPE_IQ1_M) iq2xs_init_impl(t->type);
  if (t->type == GGML_TYPE_IQ3_XXS) iq3xs_init_impl(256);
  if (t->type == GGML_TYPE_IQ3_S) iq3xs_init_impl(512);
  if (argv[1][0] == 'q') {
    int64_t npr = atoll(argv[3]); size_t n; float * x = slurp(argv[4], &n); n /= 4;
    float * w = NULL; if (strcmp(argv[5], "-")) { size_t nw; w = slurp(argv[5], &nw); assert(nw / 4 == (size_t)npr); }
    int64_t nrow = n / npr; size_t sz = nrow * ggml_row_size(t->type, npr); void * out = malloc(sz);
    size_t got = q(x, out, nrow, npr, w); assert(got == sz);
    FILE * f = fopen(argv[6], "wb"); fwrite(out, 1, sz, f); fclose(f);
  } else {
    size_t n; void * b = slurp(argv[3], &n); int64_t k = n / t->size * t->blck; float * y = malloc(4 * k);
    d(b, y, k); FILE * f = fopen(argv[4], "wb"); fwrite(y, 4, k, f); fclose(f);
  }
  return 0;
}
