// Dense matrix multiply, C = A * B, of SCALE x SCALE doubles in i-k-j order:
// streaming loads and stores through linear memory, multiply-adds.
// The checksum is the bit pattern of the sum of C.
#define DEFAULT_SCALE 256u
#include "compute_main.h"

#include <string.h>

static double* s_a;
static double* s_b;
static double* s_c;
static uint32_t s_n;

static void prepare(uint32_t n)
{
    free(s_a);
    free(s_b);
    free(s_c);
    size_t bytes = (size_t)n * n * sizeof(double);
    s_a = malloc(bytes);
    s_b = malloc(bytes);
    s_c = malloc(bytes);
    if (!s_a || !s_b || !s_c) {
        fprintf(stderr, "matmul: out of memory for three %ux%u matrices\n", n, n);
        exit(1);
    }
    for (uint32_t i = 0; i < n * n; ++i) {
        s_a[i] = (double)(i % 17) * 0.25 - 2.0;
        s_b[i] = (double)(i % 13) * 0.5 - 3.0;
    }
    s_n = n;
}

static uint64_t work(uint32_t n)
{
    if (s_n != n)
        prepare(n);
    double* c = s_c;
    memset(c, 0, (size_t)n * n * sizeof(double));
    for (uint32_t i = 0; i < n; ++i) {
        for (uint32_t k = 0; k < n; ++k) {
            double a = s_a[i * n + k];
            double const* b = &s_b[k * n];
            double* row = &c[i * n];
            for (uint32_t j = 0; j < n; ++j)
                row[j] += a * b[j];
        }
    }
    double sum = 0;
    for (uint32_t i = 0; i < n * n; ++i)
        sum += c[i];
    uint64_t bits;
    memcpy(&bits, &sum, sizeof bits);
    return bits;
}
