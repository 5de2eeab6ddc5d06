// A persistent worker pool: the calling thread plus `threads - 1` workers that spin briefly on a
// generation counter, then park on a condition variable. One run costs an atomic increment, a
// mutex round trip to wake parked workers, and a spin on the pending count — no thread creation
// and no allocation.

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

static struct {
    pthread_mutex_t run_lock;   // one run at a time
    pthread_mutex_t park_lock;  // guards parking
    pthread_cond_t park_cond;
    pthread_once_t once;
    _Atomic uint32_t generation;
    _Atomic int32_t pending;
    _Atomic int32_t sleepers;
    lem_task_fn fn;
    void *ctx;
    int32_t workers;            // threads of the current run
    int32_t started;            // worker threads started so far
    _Atomic int32_t requested;  // thread count asked for (0: not set yet)
    uint32_t start_generation[LEM_MAX_THREADS];  // generation a worker was created at
} pool = {
    .run_lock = PTHREAD_MUTEX_INITIALIZER,
    .park_lock = PTHREAD_MUTEX_INITIALIZER,
    .park_cond = PTHREAD_COND_INITIALIZER,
    .once = PTHREAD_ONCE_INIT,
};

static int32_t default_threads(void) {
    const char *env = getenv("LEM_THREADS");
    if (env) {
        int v = atoi(env);
        if (v > 0) return v > LEM_MAX_THREADS ? LEM_MAX_THREADS : v;
    }
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

static void *worker_main(void *arg) {
    int32_t index = (int32_t)(intptr_t)arg;
    // The generation before the run that created this worker: that run is work to do, even if
    // its increment happened before this thread got to read the counter.
    uint32_t seen = pool.start_generation[index];
    for (;;) {
        uint32_t g;
        int spins = 0;
        int64_t start = 0;
        while ((g = atomic_load_explicit(&pool.generation, memory_order_acquire)) == seen) {
            LEM_PAUSE();
            if ((++spins & 255) != 0) continue;
            if (start == 0) start = now_ns();
            if (now_ns() - start < LEM_SPIN_NS) continue;
            pthread_mutex_lock(&pool.park_lock);
            atomic_fetch_add(&pool.sleepers, 1);
            while (atomic_load(&pool.generation) == seen) pthread_cond_wait(&pool.park_cond, &pool.park_lock);
            atomic_fetch_sub(&pool.sleepers, 1);
            pthread_mutex_unlock(&pool.park_lock);
            start = 0;
        }
        seen = g;
        // Workers beyond this run's count (the count was lowered) just acknowledge.
        if (index < pool.workers) pool.fn(pool.ctx, index, pool.workers);
        atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_release);
    }
    return NULL;
}

void lem_pool_run(lem_task_fn fn, void *ctx) {
    int32_t threads = lem_pool_threads();
    if (threads <= 1 || pthread_mutex_trylock(&pool.run_lock) != 0) {
        fn(ctx, 0, 1);
        return;
    }
    uint32_t current = atomic_load(&pool.generation);
    while (pool.started < threads - 1) {
        pool.start_generation[pool.started + 1] = current;
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
    int32_t workers = threads <= pool.started + 1 ? threads : pool.started + 1;
    pool.fn = fn;
    pool.ctx = ctx;
    pool.workers = workers;
    atomic_store_explicit(&pool.pending, pool.started, memory_order_relaxed);
    atomic_fetch_add(&pool.generation, 1);
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.park_lock);
        pthread_cond_broadcast(&pool.park_cond);
        pthread_mutex_unlock(&pool.park_lock);
    }
    fn(ctx, 0, workers);
    int spins = 0;
    while (atomic_load_explicit(&pool.pending, memory_order_acquire) > 0) {
        // A worker that is descheduled on a busy machine gets the CPU back sooner if we yield.
        if (++spins < 4096) LEM_PAUSE();
        else sched_yield();
    }
    pthread_mutex_unlock(&pool.run_lock);
}
