import { DomainError } from '../common/problem/domain-error';

/**
 * A signed-in user re-entered a wrong current password or code (password change, TOTP setup,
 * enable, disable, recovery codes): 400 with its own problem type, never 401 — a front end reads
 * 401 as "your session is gone". A locked account answers the same (no lock oracle).
 */
export const wrongPassword = (field: string) => new DomainError('invalidPassword', 'The password is not correct', [{ field, message: 'is not correct' }]);

export const wrongCode = (field: string) => new DomainError('invalidCode', 'The code is not valid', [{ field, message: 'is not valid' }]);
