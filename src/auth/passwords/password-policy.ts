import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { dictionary } from '@zxcvbn-ts/language-common';
import { AppConfig } from '../../config/app-config';

/** ASVS 6.2.9 asks for at least 64; 128 leaves room for passphrases while bounding the work. */
export const PASSWORD_MAX_LENGTH = 128;

/** HIBP sits on the registration path, so a slow answer must not hold the user up for long. */
const HIBP_TIMEOUT_MS = 2000;

/**
 * NFKC so that the same password typed on different keyboards or input methods (full-width forms,
 * ligatures, composed vs decomposed accents) is the same secret. The hasher and the policy both use
 * it, so the rules judge exactly the string that gets hashed.
 */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** Built once per process: the list is ~49k entries, looked up on every check. */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set(
  dictionary['passwords-common'].map((p) => normalizePassword(p).toLowerCase()),
);

export interface PasswordContext {
  email?: string;
}

/** The password rules of API.md (NIST 800-63B): length, dictionary, personal data, breaches. */
@Injectable()
export class PasswordPolicy {
  private readonly logger = new Logger(PasswordPolicy.name);

  constructor(@Inject(AppConfig) private readonly config: AppConfig) {}

  /** Human-readable problems with the password; an empty list means it is acceptable. */
  async check(password: string, context: PasswordContext): Promise<string[]> {
    const candidate = normalizePassword(password);
    const lower = candidate.toLowerCase();
    const problems: string[] = [];

    // Code points, not UTF-16 units: an emoji is one character to the person typing it.
    const length = [...candidate].length;
    const { minLength } = this.config.passwords;
    if (length < minLength) problems.push(`Password must be at least ${minLength} characters long.`);
    if (length > PASSWORD_MAX_LENGTH) problems.push(`Password must be at most ${PASSWORD_MAX_LENGTH} characters long.`);

    if (COMMON_PASSWORDS.has(lower)) problems.push('Password is too common; choose a less predictable one.');

    const localPart = emailLocalPart(context.email);
    // Shorter local parts ("jo") would refuse many good passwords for a negligible gain.
    if (localPart && [...localPart].length >= 3 && lower.includes(localPart)) {
      problems.push('Password must not contain your email address.');
    }

    // A password already refused offline need not leave the host, even as a hash prefix.
    if (problems.length === 0 && this.config.passwords.hibpEnabled && (await this.isBreached(candidate))) {
      problems.push('Password appears in a known data breach; choose a different one.');
    }
    return problems;
  }

  /**
   * HIBP range API with k-anonymity: only the first 5 hex digits of the SHA-1 leave the host, and
   * padding hides how many suffixes the answer holds. Fails open: an unreachable service must not
   * block every registration and reset, and the offline dictionary still applies.
   */
  private async isBreached(password: string): Promise<boolean> {
    // SHA-1 is what the HIBP corpus is keyed by; it is a lookup key here, not password storage.
    const digest = createHash('sha1').update(password, 'utf8').digest('hex').toUpperCase();
    const prefix = digest.slice(0, 5);
    const suffix = digest.slice(5);
    try {
      const response = await fetch(`${this.config.passwords.hibpRangeUrl}${prefix}`, {
        headers: { 'Add-Padding': 'true' },
        signal: AbortSignal.timeout(HIBP_TIMEOUT_MS),
      });
      if (response.ok) return rangeCount(await response.text(), suffix) > 0;
      this.warnFailOpen(`HTTP ${response.status}`);
    } catch (err) {
      this.warnFailOpen(describeFailure(err));
    }
    return false;
  }

  private warnFailOpen(reason: string): void {
    this.logger.warn(`Breached-password check unavailable (${reason}); password accepted without it`);
  }
}

function emailLocalPart(email: string | undefined): string | undefined {
  const at = email?.lastIndexOf('@') ?? -1;
  if (!email || at <= 0) return undefined;
  return normalizePassword(email.slice(0, at)).toLowerCase();
}

/** Count for `suffix` in a `SUFFIX:COUNT` range answer; padding entries carry count 0. */
function rangeCount(body: string, suffix: string): number {
  for (const line of body.split('\n')) {
    const [lineSuffix, count] = line.trim().split(':');
    if (lineSuffix?.toUpperCase() === suffix) return Number.parseInt(count ?? '0', 10) || 0;
  }
  return 0;
}

/**
 * The failure's kind only: error messages may quote the URL, which carries the hash prefix.
 * Duck-typed, because the timeout's DOMException is not an `Error` of every realm (Jest's sandbox).
 */
function describeFailure(err: unknown): string {
  const { name, cause } = (err ?? {}) as { name?: unknown; cause?: { code?: unknown } };
  if (name === 'TimeoutError') return `no answer within ${HIBP_TIMEOUT_MS} ms`;
  if (typeof cause?.code === 'string') return cause.code;
  return typeof name === 'string' ? name : 'unknown error';
}
