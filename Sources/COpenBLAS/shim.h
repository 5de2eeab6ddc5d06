#ifndef LEM_COPENBLAS_SHIM_H
#define LEM_COPENBLAS_SHIM_H
// Debian's libopenblas-dev puts cblas.h under the flavour directory named by pkg-config.
#include <cblas.h>
#endif
