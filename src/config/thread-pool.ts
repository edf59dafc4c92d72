import { availableParallelism } from 'node:os';

/**
 * Sizes libuv's thread pool, which computes the Argon2 hashes, to the CPU cores (unless
 * UV_THREADPOOL_SIZE is set): libuv's default of 4 threads on 2 cores runs twice as many hashes as
 * there are cores, each slower, and takes the cores from the event loop and the database.
 * Measured on 2 cores: 135 → 165 logins/s (test/bench/README.md, results). libuv reads the variable when the
 * pool is first used, so main.ts imports this module before anything else (it lives in config/,
 * the only reader of process.env, but cannot wait for loadConfig).
 */
if (!process.env.UV_THREADPOOL_SIZE) process.env.UV_THREADPOOL_SIZE = String(Math.max(2, availableParallelism()));

/** The pool's size as libuv will use it (its default is 4, its maximum 1024). */
export function threadPoolSize(): number {
  const size = Number(process.env.UV_THREADPOOL_SIZE);
  return Number.isInteger(size) && size > 0 ? Math.min(size, 1024) : 4;
}
