import { Inject, Injectable } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AuditService } from '../../audit/audit.service';
import { DomainError } from '../../common/problem/domain-error';
import { AppConfig } from '../../config/app-config';
import { SignInService, type SignInResult } from '../login/sign-in.service';
import type { SignInMode } from '../sessions/session-credentials';
import { runStrategy } from './fastify-passport';
import { type GoogleOutcome, googleNotConfigured } from './google-callback.guard';
import { GOOGLE_SCOPE, type GoogleStrategy } from './google.strategy';
import { OAuthExchangeService } from './oauth-exchange.service';

const AMR = ['google'];

/**
 * The Google flow around the strategy: where the browser goes next comes only from
 * configuration (OAUTH_SUCCESS_REDIRECT / OAUTH_FAILURE_REDIRECT), never from a request parameter.
 */
@Injectable()
export class GoogleSignInService {
  constructor(
    private readonly signIn: SignInService,
    private readonly exchanges: OAuthExchangeService,
    private readonly audit: AuditService,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  async start(strategy: GoogleStrategy | null, request: FastifyRequest, reply: FastifyReply): Promise<string> {
    if (!strategy || !this.config.google) throw googleNotConfigured();
    const domains = this.config.google.allowedDomains;
    // The start route only ever starts a flow. passport-oauth2 treats a request carrying `code` or
    // `error` as a callback, so it sees this request without its query string and body.
    const startRequest = Object.create(request, { query: { value: {} }, body: { value: undefined } }) as FastifyRequest;
    const outcome = await runStrategy(strategy, startRequest, reply, { scope: GOOGLE_SCOPE, ...(domains.length === 1 ? { hd: domains[0] } : {}) });
    if (outcome.kind !== 'redirect') throw new DomainError('unavailable', 'Could not start Google sign-in');
    return outcome.url;
  }

  async finish(outcome: GoogleOutcome): Promise<{ redirect?: string; body?: SignInResult }> {
    const { successRedirect, failureRedirect } = this.config.oauth;
    if (!outcome.ok) {
      await this.audit.record({ type: 'auth.login.failed', outcome: 'failure', details: { method: 'google', reason: outcome.reason } });
      if (failureRedirect && outcome.reason !== 'invalid_state') return { redirect: withParam(failureRedirect, 'error', outcome.reason) };
      throw outcome.error;
    }
    if (successRedirect) {
      return { redirect: withParam(successRedirect, 'code', await this.exchanges.issue(outcome.signIn.userId, AMR)) };
    }
    return { body: await this.signIn.complete(outcome.signIn.userId, AMR, 'bearer', { auditType: 'auth.google.login' }) };
  }

  async exchange(code: string, mode: SignInMode): Promise<SignInResult> {
    const redeemed = await this.exchanges.redeem(code);
    if (!redeemed) throw new DomainError('badRequest', 'The code is invalid, used or expired');
    return this.signIn.complete(redeemed.userId, redeemed.amr, mode, { auditType: 'auth.google.login' });
  }
}

function withParam(base: string, key: string, value: string): string {
  const url = new URL(base);
  url.searchParams.set(key, value);
  return url.toString();
}
