// Instruction-count benchmark of one decode matvec on random blocks, outside Swift, for A/B work on
// the C kernels when the machine is too busy for wall-clock timing (issue 4, decode).
//
// Build and count (from the repository root; MODE=s: the single-thread row loop, else the pool):
//   clang -O2 -std=gnu11 -ISources/CLEMKernels/include Scripts/matvec_bench.c Sources/CLEMKernels/*.c \
//       -o /tmp/matvec_bench -lpthread -lm
//   MODE=s LEM_THREADS=1 valgrind --tool=callgrind --callgrind-out-file=/tmp/cg /tmp/matvec_bench 3 6912 1152 10
//   callgrind_annotate --inclusive=yes /tmp/cg | grep simd_rows     # 12 matvecs: 2 checks + 10 timed
// Arguments: format (lem_format number: 3 Q4_0, 4 Q4_1, 5 Q5_0, 7 Q8_0, 8 Q4_K, 9 Q6_K, 10 MLX4 g64), rows, cols,
// iterations. BATCH=n times n activations at once (batched decode) against the f32 prefill GEMM. LEM_VNNI=0 keeps the AVX2 dots where the CPU has AVX-512 VNNI. X8=1 uses the row-interleaved copy (checked bit for bit against the stored layout). CPUTIME=1 times the calling thread's CPU time instead of the wall clock (serial mode on
// a busy machine). BF=1 gives MLX bf16 scales (f16 otherwise). Prints whether the pooled matvec equals
// the serial one bit for bit and the worst relative AVX2-vs-scalar difference.
#include "lem_kernels.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t state = 88172645463325252ull;
static uint64_t next(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}
/// A positive normal float as f16 bits (enough for scales in [1e-3, 0.03)).
static uint16_t to_f16(float f) {
    uint32_t b;
    memcpy(&b, &f, 4);
    int e = (int)((b >> 23) & 0xff) - 127 + 15;
    return (uint16_t)((e << 10) | ((b >> 13) & 0x3ff));
}
static float scale(void) { return 0.001f + 0.02f * (float)(next() % 1000) / 1000; }
/// Wall clock, or with CPUTIME=1 the calling thread's CPU time (MODE=s on a busy machine).
static double now(void) {
    struct timespec t;
    clock_gettime(getenv("CPUTIME") ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    int fmt = argc > 1 ? atoi(argv[1]) : LEM_FMT_Q4_0, rows = argc > 2 ? atoi(argv[2]) : 6912;
    int cols = argc > 3 ? atoi(argv[3]) : 1152, iters = argc > 4 ? atoi(argv[4]) : 200;
    int bb = fmt == LEM_FMT_Q4_0 ? 18 : fmt == LEM_FMT_Q4_1 ? 20 : fmt == LEM_FMT_Q5_0 ? 22 : fmt == LEM_FMT_Q5_1 ? 24
           : fmt == LEM_FMT_Q8_0 ? 34 : 16;
    int kq = fmt == LEM_FMT_Q4_K || fmt == LEM_FMT_Q6_K;  // 256-element super-blocks
    if (kq) bb = fmt == LEM_FMT_Q4_K ? 144 : 210;
    size_t rb = kq ? (size_t)cols / 256 * bb : (size_t)cols / 32 * bb;
    uint8_t *base = malloc(rb * rows);
    for (size_t i = 0; i < rb * rows; i++) base[i] = (uint8_t)next();
    lem_matrix m = {0};
    m.format = fmt;
    m.rows = rows;
    m.cols = cols;
    m.base = base;
    m.row_bytes = rb;
    if (fmt == LEM_FMT_MLX4) {
        int g = cols / 64, bf = getenv("BF") != NULL;
        uint16_t *sc = malloc(2 * (size_t)g * rows), *bi = malloc(2 * (size_t)g * rows);
        for (int i = 0; i < g * rows; i++) {
            float s = scale(), b = scale() * ((next() & 1) ? -1 : 1);
            uint32_t sb, bb2;
            memcpy(&sb, &s, 4);
            memcpy(&bb2, &b, 4);
            sc[i] = bf ? (uint16_t)(sb >> 16) : to_f16(s);
            bi[i] = bf ? (uint16_t)(bb2 >> 16) : (uint16_t)(to_f16(fabsf(b)) | (b < 0 ? 0x8000 : 0));
        }
        m.group_size = 64;
        m.scale_type = bf ? LEM_SCALE_BF16 : LEM_SCALE_F16;
        m.scales = (uint8_t *)sc;
        m.biases = (uint8_t *)bi;
    } else if (kq) {
        // Super-block scales: Q4_K d and dmin at bytes 0 and 2, Q6_K d at byte 208.
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < cols / 256; b++) {
                uint8_t *p = base + r * rb + b * bb;
                uint16_t h = to_f16(scale() * 0.1f);
                memcpy(p + (fmt == LEM_FMT_Q4_K ? 0 : 208), &h, 2);
                if (fmt == LEM_FMT_Q4_K) {
                    h = to_f16(scale() * 0.1f);
                    memcpy(p + 2, &h, 2);
                }
            }
        }
    } else {
        for (int r = 0; r < rows; r++) {
            for (int b = 0; b < cols / 32; b++) {
                uint16_t h = to_f16(scale());
                memcpy(base + r * rb + b * bb, &h, 2);
                if (fmt == LEM_FMT_Q4_1 || fmt == LEM_FMT_Q5_1) {
                    h = to_f16(scale()) | 0x8000;
                    memcpy(base + r * rb + b * bb + 2, &h, 2);
                }
            }
        }
    }
    float *x = malloc(4 * (size_t)cols);
    for (int i = 0; i < cols; i++) x[i] = (float)((int)(next() % 2001) - 1000) / 1000.f;
    lem_act a = {0};
    a.cols = cols;
    a.x = x;
    a.q = malloc((size_t)cols);
    a.d = malloc(4 * (size_t)cols / 32);
    a.s = malloc(4 * (size_t)cols / 32);
    // The kernel choices the engine passes per call (its EngineOptions): AVX2 where the CPU has it,
    // 8-bit activations, eight-row kernels unless LEM_DOT8=0; LEM_THREADS sizes the pool.
    const char *dot8 = getenv("LEM_DOT8"), *threads = getenv("LEM_THREADS"), *vnni = getenv("LEM_VNNI");
    lem_options opt = {.simd = 1, .q8 = 1, .dot8 = !(dot8 && dot8[0] == '0'), .vnni = !(vnni && vnni[0] == '0')};
    lem_options portable = opt;
    portable.simd = 0;
    if (threads) lem_pool_set_threads(atoi(threads));
    lem_prepare_act(&a, opt);
    // X8=1: compare against and time the row-interleaved copy (dot_x8.c) instead.
    if (getenv("X8")) {
        float *plain = malloc(4 * (size_t)rows), *inter = malloc(4 * (size_t)rows);
        lem_matvec_rows(&m, &a, plain, 0, rows, opt);
        uint8_t *x8 = malloc(lem_x8_bytes(&m) + 1);
        lem_x8_pack(&m, x8, 0);
        m.x8 = x8;
        m.x8_rows = rows / 8 * 8;
        lem_matvec_rows(&m, &a, inter, 0, rows, opt);
        int bad = 0;
        for (int r = 0; r < rows; r++) bad += plain[r] != inter[r];
        float *row1 = malloc(4 * (size_t)cols), *row2 = malloc(4 * (size_t)cols);
        for (int r = 0; r < rows; r += rows / 7 + 1) {
            lem_dequantize_row(&m, r, row1);
            lem_matrix plain_m = m;
            plain_m.x8 = NULL;
            lem_dequantize_row(&plain_m, r, row2);
            bad += memcmp(row1, row2, 4 * (size_t)cols) != 0;
        }
        printf("interleaved: %d rows or dequantized rows differ from the stored layout's\n", bad);
    }
    float *serial = malloc(4 * (size_t)rows), *pooled = malloc(4 * (size_t)rows), *scalar = malloc(4 * (size_t)rows);
    lem_matvec_rows(&m, &a, serial, 0, rows, opt);
    lem_matvec(&m, &a, pooled, opt);
    lem_matvec_rows(&m, &a, scalar, 0, rows, portable);
    double worst = 0;
    int differ = 0;
    for (int r = 0; r < rows; r++) {
        if (serial[r] != pooled[r]) differ++;
        double e = fabs(serial[r] - scalar[r]) / (fabs(scalar[r]) + 1e-3);
        if (e > worst) worst = e;
    }
    printf("format %d: %d rows pooled != serial, worst relative AVX2 vs scalar %.2e\n", fmt, differ, worst);
    // BATCH=n: n activations through lem_matvec_batch (each checked bit for bit against its own
    // lem_matvec), timed against the f32 prefill GEMM (lem_prefill_matmul) on the same n tokens.
    if (getenv("BATCH")) {
        int n = atoi(getenv("BATCH"));
        if (n < 1) n = 1;
        float *xs = malloc(4 * (size_t)n * cols), *outs = malloc(4 * (size_t)n * rows), *one = malloc(4 * (size_t)rows);
        lem_act *acts = calloc((size_t)n, sizeof *acts);
        for (int t = 0; t < n; t++) {
            for (int i = 0; i < cols; i++) xs[(size_t)t * cols + i] = (float)((int)(next() % 2001) - 1000) / 1000.f;
            acts[t] = a;
            acts[t].x = xs + (size_t)t * cols;
            acts[t].q = malloc((size_t)cols);
            acts[t].d = malloc(4 * (size_t)cols / 32);
            acts[t].s = malloc(4 * (size_t)cols / 32);
            acts[t].q_mlx = NULL;
            lem_prepare_act(&acts[t], opt);
        }
        const lem_matrix *ms[1] = {&m};
        int bad = 0;
        for (int t0 = 0; t0 < n; t0 += 64) {
            int k = n - t0 < 64 ? n - t0 : 64;
            float *o[1] = {outs + (size_t)t0 * rows};
            lem_matvec_batch(ms, 1, acts + t0, k, o, opt);
        }
        for (int t = 0; t < n; t++) {
            lem_matvec(&m, &acts[t], one, opt);
            bad += memcmp(one, outs + (size_t)t * rows, 4 * (size_t)rows) != 0;
        }
        printf("batch of %d: %d activations differ from their own matvec\n", n, bad);
        double b0 = now();
        for (int i = 0; i < iters; i++) {
            for (int t0 = 0; t0 < n; t0 += 64) {
                int k = n - t0 < 64 ? n - t0 : 64;
                float *o[1] = {outs + (size_t)t0 * rows};
                lem_matvec_batch(ms, 1, acts + t0, k, o, opt);
            }
        }
        double tb = now() - b0;
        float *tile = malloc(4 * (size_t)256 * cols);
        double p0 = now();
        for (int i = 0; i < iters; i++) lem_prefill_matmul(&m, xs, n, tile, 256, outs, opt);
        double tp = now() - p0;
        double gmac = (double)n * rows * cols * iters / 1e9;
        printf("batch %.1f us (%.1f GMAC/s), f32 prefill gemm %.1f us (%.1f GMAC/s)\n", tb / iters * 1e6, gmac / tb,
               tp / iters * 1e6, gmac / tp);
        return bad != 0;
    }
    const char *mode = getenv("MODE");
    double t0 = now();
    for (int i = 0; i < iters; i++) {
        if (mode && mode[0] == 's') lem_matvec_rows(&m, &a, serial, 0, rows, opt);
        else lem_matvec(&m, &a, serial, opt);
    }
    double t = now() - t0;
    printf("%.1f us per matvec, %.2f GB/s of weights\n", t / iters * 1e6, (double)rb * rows * iters / t / 1e9);
    return differ != 0;
}
