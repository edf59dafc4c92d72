import { randomBytes } from 'node:crypto';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { hash, parseOptions, verify, type Algorithm, type Options, type Version } from '@node-rs/argon2';
import { ConcurrencyLimit } from '../../common/concurrency/concurrency-limit';
import { AppConfig } from '../../config/app-config';
import { threadPoolSize } from '../../config/thread-pool';
import { normalizePassword } from './password-policy';

// The package declares these as `const enum`s, which are erased at run time and cannot be read
// under isolatedModules, so their values are spelled out.
const ARGON2ID = 2 as Algorithm.Argon2id;
const VERSION_0X13 = 1 as Version.V0x13;

/**
 * Argon2id password hashing (OWASP parameters by default). The async functions run on the libuv
 * thread pool, so a login never blocks the event loop for the tens of milliseconds a hash takes.
 * The hashes wait for a thread in libuv's queue (sized to the cores: config/thread-pool.ts), but at
 * most four per thread are handed to it at once and the rest wait here: libuv's queue also carries
 * DNS lookups and file reads, which must not wait behind a login storm's worth of hashes. (A
 * limit of one hash per thread, queued here instead, measured ~15% fewer logins/s: every hash
 * would wait for the event loop to hand over its slot.)
 */
@Injectable()
export class PasswordHasher implements OnModuleInit {
  private dummy?: Promise<string>;
  private readonly limit: ConcurrencyLimit;

  constructor(@Inject(AppConfig) private readonly config: AppConfig) {
    this.limit = new ConcurrencyLimit(4 * threadPoolSize());
  }

  /** Built at start, so the first unknown-email sign-in costs the same as any other. */
  async onModuleInit(): Promise<void> {
    await this.dummyHash();
  }

  /** A PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) with a fresh random salt. */
  hash(password: string): Promise<string> {
    const options = this.options();
    return this.limit.run(() => hash(normalizePassword(password), options));
  }

  async verify(storedHash: string, password: string): Promise<boolean> {
    try {
      return await this.limit.run(() => verify(storedHash, normalizePassword(password)));
    } catch {
      // A corrupt or foreign-format stored hash means "not this password", never a 500.
      return false;
    }
  }

  /** After a successful login: should the stored hash be replaced with one made today? */
  needsRehash(storedHash: string): boolean {
    let stored: ReturnType<typeof parseOptions>;
    try {
      stored = parseOptions(storedHash);
    } catch {
      return true;
    }
    const wanted = this.config.passwords.argon2;
    return (
      stored.algorithm !== ARGON2ID ||
      stored.version !== VERSION_0X13 ||
      stored.memoryCost < wanted.memoryCost ||
      stored.timeCost < wanted.timeCost ||
      stored.parallelism < wanted.parallelism
    );
  }

  /**
   * For a login whose email matches no account (ASVS 6.3.8): the same Argon2 work as checking a
   * wrong password, so response time does not reveal whether the account exists.
   */
  async verifyAgainstDummy(password: string): Promise<false> {
    await this.verify(await this.dummyHash(), password);
    return false;
  }

  /**
   * The hash unknown-email logins are checked against, made with the configured parameters (it must
   * cost what a real one costs). Made on first need and kept; public so tests can inspect it.
   */
  dummyHash(): Promise<string> {
    this.dummy ??= this.hash(randomBytes(32).toString('base64url')).catch((err: unknown) => {
      // Do not cache a failure: the next unknown-email login should try again.
      this.dummy = undefined;
      throw err;
    });
    return this.dummy;
  }

  private options(): Options {
    const { memoryCost, timeCost, parallelism } = this.config.passwords.argon2;
    return { algorithm: ARGON2ID, version: VERSION_0X13, memoryCost, timeCost, parallelism };
  }
}
