#ifndef LEM_NEON_EMULATION_H
#define LEM_NEON_EMULATION_H
// The NEON row dots (Sources/CLEMKernels/dot_neon_body.h) run on this machine through SIMDe's
// NEON-on-x86 headers, so the tests check them against the scalar oracle before any arm64 build.

#include "lem_kernels.h"

/// 1 when SIMDe's headers were found at build time (Debian: libsimde-dev), else 0.
int lem_neon_emulation_available(void);

/// The NEON body's dot of stored row `stored` with `a`: the `sdot` variant when `sdot` is 1, the
/// base ARMv8 one (widening multiplies) when 0. NaN when the emulation is not available.
float lem_neon_emulated_row(const lem_matrix *m, int32_t stored, const lem_act *a, int sdot);

#endif
