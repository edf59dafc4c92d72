import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import createSubscriber, { type Subscriber } from 'pg-listen';
import { AppConfig } from '../../config/app-config';
import { CHANGE_CHANNEL, chunkEvent, type ChangeEvent } from './change-event';

export interface ChangeListener {
  /** Applies one event to this instance's caches. Must be idempotent and fast. */
  apply(event: ChangeEvent): void;
  /** Rebuilds the caches from the tables after the feed was interrupted. */
  resync(): Promise<void>;
}

/**
 * The change feed between instances: PostgreSQL LISTEN/NOTIFY over a dedicated connection.
 * Events are published inside the transaction that makes the change (delivered on commit, lost
 * on rollback) and applied locally at once. While the listening connection is down, `live` is
 * false and caches must not be trusted; after reconnecting, every listener resyncs from the tables
 * before `live` is true again.
 */
@Injectable()
export class ChangeFeed implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('ChangeFeed');
  private readonly listeners: ChangeListener[] = [];
  private subscriber?: Subscriber;
  private connected = false;
  private resyncing?: Promise<void>;
  private closing = false;
  private started = false;
  live = false;

  constructor(
    private readonly em: EntityManager,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  register(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  /** Publishes within `em`'s transaction when there is one; call `applyLocally` after commit. */
  async publish(em: EntityManager, event: ChangeEvent): Promise<void> {
    for (const chunk of chunkEvent(event)) {
      await em.execute('SELECT pg_notify(?, ?)', [CHANGE_CHANNEL, JSON.stringify(chunk)]);
    }
  }

  applyLocally(event: ChangeEvent): void {
    for (const listener of this.listeners) listener.apply(event);
  }

  /**
   * Runs `work` in a transaction that also publishes its events (so they reach other instances
   * exactly when the change is committed), then applies them here.
   */
  async transaction<T>(work: (tx: EntityManager) => Promise<T>, events: (result: T) => ChangeEvent[]): Promise<T> {
    let published: ChangeEvent[] = [];
    const result = await this.em.fork().transactional(async (tx) => {
      const value = await work(tx);
      published = events(value);
      for (const event of published) await this.publish(tx, event);
      return value;
    });
    published.forEach((event) => this.applyLocally(event));
    return result;
  }

  /** Publish outside any transaction and apply here at once. */
  async broadcast(event: ChangeEvent): Promise<void> {
    this.applyLocally(event);
    await this.publish(this.em.fork(), event);
  }

  async onApplicationBootstrap(): Promise<void> {
    const subscriber = createSubscriber(
      { connectionString: this.config.database.url },
      { retryLimit: Infinity, retryTimeout: Infinity, retryInterval: (n) => Math.min(100 * 2 ** n, 2000), paranoidChecking: 2000 },
    );
    this.subscriber = subscriber;
    subscriber.events.on('notification', ({ payload }) => this.onNotification(payload));
    subscriber.events.on('error', (err) => this.onDisconnect(err));
    subscriber.events.on('reconnect', () => this.onDisconnect());
    subscriber.events.on('connected', () => this.started && void this.onConnected());
    await subscriber.connect();
    await subscriber.listenTo(CHANGE_CHANNEL);
    this.started = true;
    await this.onConnected();
  }

  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    this.live = false;
    await this.subscriber?.close().catch(() => undefined);
  }

  /** Resolves when the feed is live (tests and readiness). */
  async whenLive(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.live) {
      if (Date.now() > deadline) throw new Error('change feed is not live');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private onNotification(payload: unknown): void {
    if (!payload || typeof payload !== 'object' || typeof (payload as { type?: unknown }).type !== 'string') return;
    this.applyLocally(payload as ChangeEvent);
  }

  private onDisconnect(err?: Error): void {
    if (this.closing) return;
    if (this.live || this.connected) {
      this.logger.warn(`Listener connection lost${err ? `: ${err.message}` : ''}; checking the database until it is back`);
    }
    this.connected = false;
    this.live = false;
  }

  private async onConnected(): Promise<void> {
    if (this.closing || this.connected) return this.resyncing;
    this.connected = true;
    this.resyncing = (async () => {
      try {
        await Promise.all(this.listeners.map((l) => l.resync()));
        this.live = this.connected;
        this.logger.log('Change feed live');
      } catch (err) {
        this.logger.error({ err }, 'Resync after reconnect failed; retrying');
        this.connected = false;
        setTimeout(() => void this.onConnected(), 1000).unref();
      }
    })();
    return this.resyncing;
  }
}
