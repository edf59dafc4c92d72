import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable } from '@nestjs/common';
import { type AuthenticationResponseJSON, generateAuthenticationOptions, type PublicKeyCredentialRequestOptionsJSON, verifyAuthenticationResponse } from '@simplewebauthn/server';
import { AuditService } from '../../audit/audit.service';
import { AppConfig } from '../../config/app-config';
import { invalidCredentials, recordLoginFailure } from '../login/password-login.service';
import { type SignInResult, SignInService } from '../login/sign-in.service';
import type { SignInMode } from '../sessions/session-credentials';
import { challengeBytes, challengeOf, isCredentialId } from './client-data';
import { PasskeyCredential } from './passkey.entities';
import { userHandleOf } from './passkey-registration.service';
import { WebAuthnChallenges } from './webauthn-challenges';

/** A passkey with user verification: something held and something known or been (RFC 8176). */
export const PASSKEY_AMR = ['hwk', 'user'];

/**
 * Passwordless sign-in with a discoverable passkey. Every refusal — unknown credential, wrong
 * origin, stale challenge, no user verification, counter regression — is the same 401 as a wrong
 * password; the success is SignInService.complete, the one path every sign-in ends in.
 */
@Injectable()
export class PasskeySignInService {
  constructor(
    private readonly em: EntityManager,
    @Inject(AppConfig) private readonly config: AppConfig,
    private readonly challenges: WebAuthnChallenges,
    private readonly signIn: SignInService,
    private readonly audit: AuditService,
  ) {}

  async options(): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return generateAuthenticationOptions({
      rpID: this.config.webauthn.rpId,
      challenge: challengeBytes(await this.challenges.issue({ purpose: 'authentication' })),
      userVerification: 'required',
    });
  }

  async verify(response: AuthenticationResponseJSON, mode: SignInMode): Promise<SignInResult> {
    const challenge = challengeOf(response);
    if (!(await this.challenges.consume(challenge, { purpose: 'authentication' }))) return this.refuse(null, 'challenge');
    const passkey = isCredentialId(response.id) ? await this.em.fork().findOne(PasskeyCredential, { id: response.id }, { populate: ['publicKey'] }) : null;
    if (!passkey) return this.refuse(null, 'unknown_credential');
    const userId = passkey.user.id;
    // A discoverable credential names its user; it must be the owner of the stored credential.
    if (response.response.userHandle !== Buffer.from(userHandleOf(userId)).toString('base64url')) return this.refuse(userId, 'user_mismatch');

    const verification = await verifyAuthenticationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: this.config.webauthn.origins,
      expectedRPID: this.config.webauthn.rpId,
      credential: { id: passkey.id, publicKey: new Uint8Array(passkey.publicKey), counter: 0, transports: passkey.transports },
      requireUserVerification: true,
    }).catch(() => null);
    if (!verification?.verified) return this.refuse(userId, 'invalid_response');
    // The library's counter check is bypassed above (counter 0): it is made here, comparing and
    // storing in one statement, so two uses of one signature cannot both pass.
    const newCounter = verification.authenticationInfo.newCounter;
    const rows: unknown[] = await this.em.fork().execute(
      `UPDATE passkey_credentials SET counter = ?, last_used_at = now()
        WHERE id = ? AND (counter < ? OR (counter = 0 AND ? = 0)) RETURNING id`,
      [newCounter, passkey.id, newCounter, newCounter],
    );
    if (!rows.length) return this.refuse(userId, 'counter_regression', { passkeyId: passkey.id });
    return this.signIn.complete(userId, PASSKEY_AMR, mode, { lockout: true, auditType: 'auth.passkey.login' });
  }

  private async refuse(userId: string | null, reason: string, details: Record<string, unknown> = {}): Promise<never> {
    await recordLoginFailure(this.audit, userId, { reason, amr: PASSKEY_AMR, ...details });
    throw invalidCredentials();
  }
}
