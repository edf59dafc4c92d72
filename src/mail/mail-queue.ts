import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import PgBoss from 'pg-boss';
import { AppConfig } from '../config/app-config';
import { JobWorker } from './job-worker';
import type { MailMessage } from './mail-message';
import { MailTransport } from './mail-transport';

const QUEUE = 'mail';
/** Requests that may or may not end in a mail (forgot-password, resend-verification): the worker decides. */
const REQUESTS = 'mail-request';

export type MailRequestHandler = (email: string) => Promise<void>;

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
  private readonly mailWorker: JobWorker<MailMessage>;
  private readonly requestWorker: JobWorker<MailRequest>;
  private stopping = false;
  private readonly handlers = new Map<string, MailRequestHandler>();

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
    const worker = { batchSize: 5, pollingIntervalMs: 500, onError: (err: unknown) => this.logger.error(`Mail queue error: ${describe(err)}`) };
    this.mailWorker = new JobWorker<MailMessage>(this.boss, QUEUE, worker, (jobs) => this.deliver(jobs));
    this.requestWorker = new JobWorker<MailRequest>(this.boss, REQUESTS, worker, (jobs) => this.settle(jobs, (job) => this.handle(job.data)));
  }

  /** Installed and ready before any other provider's bootstrap hook might enqueue. */
  async onModuleInit(): Promise<void> {
    await this.boss.start();
    await this.boss.createQueue(QUEUE);
    await this.boss.createQueue(REQUESTS);
  }

  onApplicationBootstrap(): void {
    this.mailWorker.start();
    this.requestWorker.start();
  }

  /** What a request of `kind` does once the worker takes it (look the account up, mail or not). */
  onRequest(kind: string, handler: MailRequestHandler): void {
    this.handlers.set(kind, handler);
  }

  /**
   * A single INSERT, whatever the address: the request path does the same work for a known and an
   * unknown account (no enumeration by timing); the account is looked up by the worker.
   */
  async request(kind: string, email: string): Promise<void> {
    if (!this.handlers.has(kind)) throw new Error(`no handler for mail request ${kind}`);
    await this.boss.send(REQUESTS, { kind, email }, JOB_OPTIONS);
    this.requestWorker.notify();
  }

  private async handle(request: MailRequest): Promise<void> {
    const handler = this.handlers.get(request.kind);
    if (!handler) throw new Error(`no handler for mail request ${request.kind}`);
    await handler(request.email);
  }

  /** After the HTTP server has closed, so in-flight requests can still enqueue. */
  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await Promise.all([this.mailWorker.stop(), this.requestWorker.stop()]);
    await this.boss.stop({ graceful: true, wait: true, timeout: 10_000 });
  }

  /** A single INSERT: the request path never waits for SMTP. */
  async enqueue(message: MailMessage): Promise<void> {
    if (!message.to.includes('@')) throw new Error('mail recipient is not an address');
    await this.boss.send(QUEUE, { ...message }, JOB_OPTIONS);
    // Wakes this instance's worker at once instead of at its next poll.
    this.mailWorker.notify();
  }

  /**
   * Delivers a batch; jobs that fail are left to pg-boss to retry, the delivered ones are
   * completed first so that a retry never re-sends them.
   */
  private deliver(jobs: PgBoss.JobWithMetadata<MailMessage>[]): Promise<void> {
    return this.settle(jobs, (job) => this.transport.deliver(job.data), (job, reason) => this.logFailure(job, reason));
  }

  /**
   * Runs a batch of `queue`'s jobs; those that fail are left to pg-boss to retry, the others are
   * completed first so that a retry never repeats them.
   */
  private async settle<T extends object, J extends PgBoss.Job<T>>(
    jobs: J[],
    run: (job: J) => Promise<unknown>,
    onFailure: (job: J, reason: unknown) => void = (job, reason) => this.logger.warn(`${job.name} job failed (${describe(reason)}); will retry`),
  ): Promise<void> {
    // A fetch that raced shutdown: hand the jobs back for a retry (or, if the pool is already
    // closed, to expiry) rather than run work whose completion could no longer be recorded.
    if (this.stopping) throw new Error('mail queue is shutting down');
    const results = await Promise.allSettled(jobs.map(run));
    const failed = jobs.filter((_, i) => results[i].status === 'rejected');
    if (!failed.length) return;
    jobs.forEach((job, i) => {
      const result = results[i];
      if (result.status === 'rejected') onFailure(job, result.reason);
    });
    const done = jobs.filter((_, i) => results[i].status === 'fulfilled');
    if (done.length) await this.boss.complete(done[0].name, done.map((job) => job.id));
    throw new Error(`${failed.length} of ${jobs.length} ${jobs[0].name} job(s) failed`);
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

interface MailRequest {
  kind: string;
  email: string;
}

function describe(reason: unknown): string {
  if (!(reason instanceof Error)) return 'unknown error';
  const { code, responseCode } = reason as Error & { code?: string; responseCode?: number };
  return [code, responseCode, reason.message].filter(Boolean).join(' ').slice(0, 300);
}
