// A persistent worker pool: the calling thread plus `threads - 1` workers that spin briefly for
// the next run, then park on a condition variable. One run costs an atomic store, a mutex round
// trip only when a worker is parked, and one compare-and-swap per chunk — no thread creation and
// no allocation.
//
// A run is `chunks` calls `fn(ctx, chunk, chunks)`. Chunks are claimed from one 64-bit word
// holding (generation, chunk count, next chunk): a claim is a compare-and-swap that succeeds only
// while the word still names the same run and a chunk is left. The caller claims chunks like any
// worker; when none is left it waits only for the chunks already claimed to finish, then closes
// the run. A worker that wakes late finds the run exhausted (or a newer generation) and skips it,
// so a descheduled worker never stalls the caller unless it is holding a claimed chunk, and no
// chunk is run twice or lost.

#include "lem_kernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#include <sched.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define LEM_PAUSE() _mm_pause()
#else
#define LEM_PAUSE() ((void)0)
#endif

#include <time.h>

enum { LEM_MAX_THREADS = 64 };
/// How long a worker spins for the next run before parking; decode's gaps between matvecs
/// (norms, rope, attention) are usually shorter, so the next run finds it awake.
static const int64_t LEM_SPIN_NS = 300000;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

// The claim word: generation in bits 32..63, chunk count in 16..31, next chunk in 0..15.
static inline uint32_t claim_generation(uint64_t w) { return (uint32_t)(w >> 32); }
static inline uint32_t claim_chunks(uint64_t w) { return (uint32_t)(w >> 16) & 0xFFFF; }
static inline uint32_t claim_next(uint64_t w) { return (uint32_t)w & 0xFFFF; }

static struct {
    pthread_mutex_t run_lock;   // one run at a time
    pthread_mutex_t park_lock;  // guards parking
    pthread_cond_t park_cond;
    _Atomic uint64_t claim;     // (generation, chunks, next) of the current run
    _Atomic int32_t done;       // chunks of the current run finished
    _Atomic int32_t sleepers;
    _Atomic(lem_task_fn) fn;    // valid while a claimed chunk of the current run is unfinished
    _Atomic(void *) ctx;
    _Atomic int32_t active;     // worker threads (besides the caller) that may join the current run
    int32_t started;            // worker threads started so far
    _Atomic int32_t requested;  // thread count asked for (0: not set yet)
    uint32_t start_generation[LEM_MAX_THREADS];  // generation a worker was created at
} pool = {
    .run_lock = PTHREAD_MUTEX_INITIALIZER,
    .park_lock = PTHREAD_MUTEX_INITIALIZER,
    .park_cond = PTHREAD_COND_INITIALIZER,
};

/// One thread per online CPU (the caller passes any other count; LEMEngine's `EngineOptions`
/// reads `LEM_THREADS`).
static int32_t default_threads(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) n = 1;
    return n > LEM_MAX_THREADS ? LEM_MAX_THREADS : (int32_t)n;
}

void lem_pool_set_threads(int32_t threads) {
    int32_t t = threads > 0 ? threads : default_threads();
    atomic_store(&pool.requested, t > LEM_MAX_THREADS ? LEM_MAX_THREADS : t);
}

int32_t lem_pool_threads(void) {
    int32_t t = atomic_load_explicit(&pool.requested, memory_order_relaxed);
    if (t == 0) {
        lem_pool_set_threads(0);
        t = atomic_load(&pool.requested);
    }
    return t;
}

/// Claims and runs chunks of run `generation` until none is left; returns how many it ran.
static int32_t run_chunks(uint32_t generation) {
    int32_t ran = 0;
    uint64_t w = atomic_load_explicit(&pool.claim, memory_order_acquire);
    for (;;) {
        if (claim_generation(w) != generation || claim_next(w) >= claim_chunks(w)) return ran;
        // Success means the run is still open and this chunk is ours: the caller cannot close
        // the run (nor replace fn/ctx) before our `done` increment below.
        if (!atomic_compare_exchange_weak_explicit(
                &pool.claim, &w, w + 1, memory_order_acq_rel, memory_order_acquire)) {
            continue;
        }
        lem_task_fn fn = atomic_load_explicit(&pool.fn, memory_order_relaxed);
        void *ctx = atomic_load_explicit(&pool.ctx, memory_order_relaxed);
        fn(ctx, (int32_t)claim_next(w), (int32_t)claim_chunks(w));
        atomic_fetch_add_explicit(&pool.done, 1, memory_order_release);
        ran++;
        w = atomic_load_explicit(&pool.claim, memory_order_acquire);
    }
}

static void *worker_main(void *arg) {
    int32_t index = (int32_t)(intptr_t)arg;
    // The generation before the run that created this worker: that run is work to do, even if
    // it was published before this thread got to read the word.
    uint32_t seen = pool.start_generation[index];
    for (;;) {
        uint32_t g;
        int spins = 0;
        int64_t start = 0;
        while ((g = claim_generation(atomic_load_explicit(&pool.claim, memory_order_acquire))) == seen) {
            LEM_PAUSE();
            if ((++spins & 255) != 0) continue;
            if (start == 0) start = now_ns();
            if (now_ns() - start < LEM_SPIN_NS) continue;
            pthread_mutex_lock(&pool.park_lock);
            atomic_fetch_add(&pool.sleepers, 1);
            while (claim_generation(atomic_load(&pool.claim)) == seen) pthread_cond_wait(&pool.park_cond, &pool.park_lock);
            atomic_fetch_sub(&pool.sleepers, 1);
            pthread_mutex_unlock(&pool.park_lock);
            start = 0;
        }
        seen = g;
        // Workers beyond the current thread count (it was lowered) sit the run out.
        if (index > atomic_load_explicit(&pool.active, memory_order_relaxed)) continue;
        run_chunks(g);
    }
    return NULL;
}

void lem_pool_run_chunks(lem_task_fn fn, void *ctx, int32_t chunks) {
    if (chunks <= 0) return;
    int32_t threads = lem_pool_threads();
    if (threads <= 1 || chunks == 1 || chunks > 0xFFFF || pthread_mutex_trylock(&pool.run_lock) != 0) {
        for (int32_t c = 0; c < chunks; c++) fn(ctx, c, chunks);
        return;
    }
    uint64_t old = atomic_load_explicit(&pool.claim, memory_order_relaxed);
    uint32_t generation = claim_generation(old) + 1;
    while (pool.started < threads - 1) {
        pool.start_generation[pool.started + 1] = claim_generation(old);
        pthread_t th;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&th, &attr, worker_main, (void *)(intptr_t)(pool.started + 1)) != 0) {
            pthread_attr_destroy(&attr);
            break;
        }
        pthread_attr_destroy(&attr);
        pool.started++;
    }
    int32_t helpers = threads - 1 <= pool.started ? threads - 1 : pool.started;
    atomic_store_explicit(&pool.fn, fn, memory_order_relaxed);
    atomic_store_explicit(&pool.ctx, ctx, memory_order_relaxed);
    atomic_store_explicit(&pool.active, helpers, memory_order_relaxed);
    atomic_store_explicit(&pool.done, 0, memory_order_relaxed);
    // Publishing the word (sequentially consistent, paired with the parking check) opens the run.
    atomic_store(&pool.claim, ((uint64_t)generation << 32) | ((uint64_t)chunks << 16));
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.park_lock);
        pthread_cond_broadcast(&pool.park_cond);
        pthread_mutex_unlock(&pool.park_lock);
    }
    run_chunks(generation);
    // Every chunk is claimed now; wait only for those other threads are still running.
    int spins = 0;
    while (atomic_load_explicit(&pool.done, memory_order_acquire) < chunks) {
        // A worker descheduled mid-chunk on a busy machine gets the CPU back sooner if we yield.
        if (++spins < 4096) LEM_PAUSE();
        else sched_yield();
    }
    pthread_mutex_unlock(&pool.run_lock);
}

void lem_pool_run(lem_task_fn fn, void *ctx) {
    lem_pool_run_chunks(fn, ctx, lem_pool_threads());
}
