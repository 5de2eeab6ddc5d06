// See include/lem_neon_emulation.h.

#include "lem_neon_emulation.h"
#include "lem_internal.h"
#include <math.h>

#if __has_include(<simde/arm/neon.h>)
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/arm/neon.h>

#define LEM_SDOT 0
#define LEM_N(name) name##_base
#include "dot_neon_body.h"
#undef LEM_N
#undef LEM_SDOT

#define LEM_SDOT 1
#define LEM_N(name) name##_sdot
#include "dot_neon_body.h"
#undef LEM_N
#undef LEM_SDOT

int lem_neon_emulation_available(void) { return 1; }

float lem_neon_emulated_row(const lem_matrix *m, int32_t stored, const lem_act *a, int sdot) {
    return sdot ? dot_row_sdot(m, stored, a, lem_dot_row_scalar) : dot_row_base(m, stored, a, lem_dot_row_scalar);
}
#else
int lem_neon_emulation_available(void) { return 0; }

float lem_neon_emulated_row(const lem_matrix *m, int32_t stored, const lem_act *a, int sdot) {
    (void)m, (void)stored, (void)a, (void)sdot;
    return NAN;
}
#endif
