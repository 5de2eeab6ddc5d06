#ifndef LEM_COPENBLAS_SHIM_H
#define LEM_COPENBLAS_SHIM_H
// The CBLAS entry points the engine uses, declared here rather than through <cblas.h>:
// Debian keeps cblas.h under a per-flavour directory whose pkg-config cflags carry -D flags that
// SwiftPM refuses (and warns about). These are the standard CBLAS/OpenBLAS C ABI.

enum CBLAS_ORDER { CblasRowMajor = 101, CblasColMajor = 102 };
enum CBLAS_TRANSPOSE { CblasNoTrans = 111, CblasTrans = 112, CblasConjTrans = 113 };

void cblas_sgemm(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE transA, enum CBLAS_TRANSPOSE transB,
                 int m, int n, int k, float alpha, const float *a, int lda, const float *b, int ldb,
                 float beta, float *c, int ldc);
void cblas_sgemv(enum CBLAS_ORDER order, enum CBLAS_TRANSPOSE trans, int m, int n, float alpha,
                 const float *a, int lda, const float *x, int incx, float beta, float *y, int incy);
float cblas_sdot(int n, const float *x, int incx, const float *y, int incy);
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
/// The name of the kernel set ("core") OpenBLAS chose at load, e.g. "Haswell", "Zen", "Prescott".
char *openblas_get_corename(void);

#endif
