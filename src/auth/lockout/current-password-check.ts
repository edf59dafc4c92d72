import { Injectable } from '@nestjs/common';
import { validationFailed } from '../../common/http/validation.pipe';
import { PasswordHasher } from '../passwords/password-hasher';
import { wrongPassword } from '../reauthentication-errors';
import { LockoutService } from './lockout.service';

/**
 * A signed-in user re-enters their password before a sensitive change (password, email, MFA).
 * A wrong one is a password guess like any other: it counts toward the lockout, and a locked
 * account answers the same (no lock oracle) — 400 invalid-password on `field`, never 401.
 */
@Injectable()
export class CurrentPasswordCheck {
  constructor(
    private readonly hasher: PasswordHasher,
    private readonly lockout: LockoutService,
  ) {}

  /** `onWrong` runs after the failure is counted and before the refusal (e.g. the caller's audit). */
  async assert(
    user: { id: string; lockedUntil?: Date | null },
    passwordHash: string,
    password: string | undefined,
    field: string,
    onWrong?: () => Promise<unknown>,
  ): Promise<void> {
    if (!password) throw validationFailed([{ field, message: 'is required' }]);
    if (this.lockout.isLocked(user) || !(await this.hasher.verify(passwordHash, password))) {
      await this.lockout.recordFailure(user.id);
      await onWrong?.();
      throw wrongPassword(field);
    }
  }
}
