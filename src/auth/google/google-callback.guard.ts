import { type ExecutionContext, Inject, Injectable, Optional } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { validationFailed } from '../../common/http/validation.pipe';
import { DomainError, type DomainErrorCode } from '../../common/problem/domain-error';
import { GoogleStrategy, type GoogleSignIn } from './google.strategy';
import { INVALID_STATE } from './pg-state-store';

export type GoogleOutcome = { ok: true; signIn: GoogleSignIn } | { ok: false; error: DomainError; reason: string };
export type GoogleCallbackRequest = FastifyRequest & { user?: GoogleOutcome };

const MAX_PARAM = 2048;

export const googleNotConfigured = () => new DomainError('notFound', 'Google sign-in is not configured');

/**
 * Runs the callback through passport-google-oauth20 and turns every way it can end into an
 * outcome for the controller (which may redirect to OAUTH_FAILURE_REDIRECT): never a 500.
 */
@Injectable()
export class GoogleCallbackGuard extends AuthGuard('google') {
  constructor(@Optional() @Inject(GoogleStrategy) private readonly strategy?: GoogleStrategy | null) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (!this.strategy) throw googleNotConfigured();
    const request = context.switchToHttp().getRequest<GoogleCallbackRequest>();
    const query = (request.query ?? {}) as Record<string, unknown>;
    for (const key of ['code', 'state', 'error', 'error_description'] as const) {
      const value = query[key];
      if (value !== undefined && (typeof value !== 'string' || value.length > MAX_PARAM)) {
        throw validationFailed([{ field: key, message: `must be a single string of at most ${MAX_PARAM} characters` }]);
      }
    }
    if (!query.error && (typeof query.state !== 'string' || !query.state)) throw validationFailed([{ field: 'state', message: 'is required' }]);
    if (!query.error && (typeof query.code !== 'string' || !query.code)) throw validationFailed([{ field: 'code', message: 'is required' }]);
    await super.canActivate(context);
    return true;
  }

  override handleRequest<T>(err: unknown, user: GoogleSignIn | false, info: { message?: string } | undefined, context: ExecutionContext): T {
    const request = context.switchToHttp().getRequest<GoogleCallbackRequest>();
    request.user = user ? { ok: true, signIn: user } : failure(err, info);
    return request.user as T;
  }
}

function failure(err: unknown, info: { message?: string } | undefined): GoogleOutcome {
  const fail = (code: DomainErrorCode, reason: string, detail: string): GoogleOutcome => ({ ok: false, reason, error: new DomainError(code, detail) });
  if (err instanceof DomainError) return { ok: false, reason: err.code === 'badGateway' ? 'provider_error' : 'account_not_allowed', error: err };
  if (!err && info?.message === INVALID_STATE) return fail('badRequest', 'invalid_state', 'The sign-in state is unknown, used, expired or from another browser');
  if (!err) return fail('forbidden', 'access_denied', 'Google sign-in was cancelled or refused');
  const name = (err as { name?: string }).name ?? '';
  const message = (err as { message?: string }).message ?? '';
  if (name === 'AuthorizationError') return fail('badGateway', 'provider_error', 'Google reported an error');
  if (name === 'TokenError' || /access token/i.test(message)) return fail('badGateway', 'token_exchange_failed', 'Could not exchange the authorization code with Google');
  if (/profile|userinfo/i.test(message) || name === 'UserInfoError' || name === 'GooglePlusAPIError') return fail('badGateway', 'userinfo_failed', 'Could not read the Google profile');
  return fail('badGateway', 'provider_error', 'Google sign-in failed');
}
