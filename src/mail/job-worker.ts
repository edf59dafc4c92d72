import type PgBoss from 'pg-boss';

export interface JobWorkerOptions {
  batchSize: number;
  pollingIntervalMs: number;
  onError: (err: unknown) => void;
}

/**
 * Works one pg-boss queue with pg-boss's public fetch/complete/fail, as `boss.work()` does (a
 * batch whose handler resolves is completed, one whose handler throws is failed and retried),
 * but with a stop that is over when it resolves: pg-boss 10's `stop()` leaves a 1 s timer polling
 * for its own workers (`offWork`), which held every process up to a second past shutdown.
 */
export class JobWorker<T extends object> {
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;

  constructor(
    private readonly boss: PgBoss,
    private readonly queue: string,
    private readonly options: JobWorkerOptions,
    private readonly handler: (jobs: PgBoss.JobWithMetadata<T>[]) => Promise<void>,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** New work was queued: poll now instead of at the next interval. */
  notify(): void {
    this.wake?.();
  }

  /** Resolves once the batch in hand (if any) is settled and no further fetch will happen. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let fetched = 0;
      try {
        fetched = await this.once();
      } catch (err) {
        this.options.onError(err);
      }
      if (!fetched && !this.stopped) await this.idle();
    }
  }

  private async once(): Promise<number> {
    const jobs = await this.boss.fetch<T>(this.queue, { batchSize: this.options.batchSize, includeMetadata: true });
    if (!jobs.length) return 0;
    const ids = jobs.map((job) => job.id);
    try {
      await this.handler(jobs);
      await this.boss.complete(this.queue, ids);
    } catch {
      // The handler has logged what failed; pg-boss retries the batch (completed jobs stay so).
      await this.boss.fail(this.queue, ids);
    }
    return jobs.length;
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wake?.(), this.options.pollingIntervalMs);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }
}
