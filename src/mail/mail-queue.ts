import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import PgBoss from 'pg-boss';
import { AppConfig } from '../config/app-config';
import type { MailMessage } from './mail-message';
import { MailTransport } from './mail-transport';

const QUEUE = 'mail';

/**
 * Retries with exponential backoff and jitter (pg-boss: 1–2 s, 2–4 s, … 256–512 s): ten attempts
 * over roughly 8–17 minutes ride out a relay restart, and end before a reset link (30 min) is stale.
 */
const JOB_OPTIONS: PgBoss.SendOptions = { retryLimit: 9, retryDelay: 1, retryBackoff: true, expireInSeconds: 60 };

/**
 * The durable mail queue: a pg-boss job queue in the service's own PostgreSQL (schema `pgboss`,
 * which pg-boss creates and migrates itself). One instance per application: its own small pool,
 * a worker started on bootstrap and stopped on shutdown, so apps (and tests) never share state.
 */
@Injectable()
export class MailQueue implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Mail');
  private readonly boss: PgBoss;
  private workerId?: string;
  private stopping = false;

  constructor(
    @Inject(AppConfig) config: AppConfig,
    private readonly transport: MailTransport,
  ) {
    if (!config.database.url) throw new Error('database URL was not resolved before start');
    this.boss = new PgBoss({
      connectionString: config.database.url,
      application_name: 'bastion-mail',
      max: 3,
      // No cron schedules here; maintenance (expiring stuck jobs, archiving) still runs.
      schedule: false,
      maintenanceIntervalSeconds: 60,
      // Queued mails hold links with one-time tokens, which are stored only hashed everywhere
      // else: finished jobs are archived after a minute and deleted a minute after that.
      archiveCompletedAfterSeconds: 60,
      archiveFailedAfterSeconds: 60,
      deleteAfterSeconds: 60,
    });
    // An EventEmitter without an 'error' listener throws; pool and maintenance errors are logged.
    this.boss.on('error', (err) => this.logger.error(`Mail queue error: ${err.message}`));
  }

  /** Installed and ready before any other provider's bootstrap hook might enqueue. */
  async onModuleInit(): Promise<void> {
    await this.boss.start();
    await this.boss.createQueue(QUEUE);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.workerId = await this.boss.work<MailMessage>(
      QUEUE,
      { batchSize: 5, pollingIntervalSeconds: 0.5, includeMetadata: true },
      (jobs) => this.deliver(jobs),
    );
  }

  /** After the HTTP server has closed, so in-flight requests can still enqueue. */
  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.boss.stop({ graceful: true, wait: true, timeout: 10_000 });
  }

  /** A single INSERT: the request path never waits for SMTP. */
  async enqueue(message: MailMessage): Promise<void> {
    if (!message.to.includes('@')) throw new Error('mail recipient is not an address');
    await this.boss.send(QUEUE, { ...message }, JOB_OPTIONS);
    // Wakes this instance's worker at once instead of at its next poll.
    if (this.workerId) this.boss.notifyWorker(this.workerId);
  }

  /**
   * Delivers a batch; jobs that fail are left to pg-boss to retry, the delivered ones are
   * completed first so that a retry never re-sends them.
   */
  private async deliver(jobs: PgBoss.JobWithMetadata<MailMessage>[]): Promise<void> {
    // A fetch that raced shutdown: hand the jobs back for a retry (or, if the pool is already
    // closed, to expiry) rather than deliver a mail whose completion could no longer be recorded.
    if (this.stopping) throw new Error('mail queue is shutting down');
    const results = await Promise.allSettled(jobs.map((job) => this.transport.deliver(job.data)));
    const failed = jobs.filter((_, i) => results[i].status === 'rejected');
    if (!failed.length) return;
    jobs.forEach((job, i) => {
      const result = results[i];
      if (result.status === 'rejected') this.logFailure(job, result.reason);
    });
    const delivered = jobs.filter((_, i) => results[i].status === 'fulfilled').map((job) => job.id);
    if (delivered.length) await this.boss.complete(QUEUE, delivered);
    throw new Error(`${failed.length} of ${jobs.length} mail(s) not delivered`);
  }

  // Never the body: it holds the one-time link.
  private logFailure(job: PgBoss.JobWithMetadata<MailMessage>, reason: unknown): void {
    const attempt = job.retryCount + 1;
    const last = job.retryCount >= job.retryLimit;
    this.logger[last ? 'error' : 'warn'](
      `Mail "${job.data.subject}" to ${job.data.to}: attempt ${attempt} of ${job.retryLimit + 1} failed (${describe(reason)})` +
        (last ? '; giving up' : '; will retry'),
    );
  }
}

function describe(reason: unknown): string {
  if (!(reason instanceof Error)) return 'unknown error';
  const { code, responseCode } = reason as Error & { code?: string; responseCode?: number };
  return [code, responseCode, reason.message].filter(Boolean).join(' ').slice(0, 300);
}
