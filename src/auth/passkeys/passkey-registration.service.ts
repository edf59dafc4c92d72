import { EntityManager } from '@mikro-orm/postgresql';
import { Inject, Injectable } from '@nestjs/common';
import { generateRegistrationOptions, type PublicKeyCredentialCreationOptionsJSON, type RegistrationResponseJSON, verifyRegistrationResponse } from '@simplewebauthn/server';
import { AuditService } from '../../audit/audit.service';
import { DomainError } from '../../common/problem/domain-error';
import { AppConfig } from '../../config/app-config';
import { MailService } from '../../mail/mail.service';
import { User } from '../../users/user.entity';
import type { Principal } from '../principal/principal';
import { signedInRecently } from '../principal/recent-sign-in';
import { challengeBytes, challengeOf } from './client-data';
import { PasskeyCredential } from './passkey.entities';
import type { PasskeyView } from './passkeys.dto';
import { WebAuthnChallenges } from './webauthn-challenges';


/** The user handle authenticators store with a passkey: the user's id, which names nobody. */
export const userHandleOf = (userId: string): Uint8Array<ArrayBuffer> => new Uint8Array(Buffer.from(userId, 'utf8'));

/**
 * Registering and managing one's own passkeys. Adding one needs a sign-in less than 5 minutes old
 * (as MFA changes do), and user verification, so every stored passkey is two factors on its own.
 */
@Injectable()
export class PasskeyRegistrationService {
  constructor(
    private readonly em: EntityManager,
    @Inject(AppConfig) private readonly config: AppConfig,
    private readonly challenges: WebAuthnChallenges,
    private readonly audit: AuditService,
    private readonly mail: MailService,
  ) {}

  async options(principal: Principal): Promise<PublicKeyCredentialCreationOptionsJSON> {
    requireRecentSignIn(principal);
    const em = this.em.fork();
    const user = await em.findOneOrFail(User, { id: principal.userId, deletedAt: null });
    const existing = await em.find(PasskeyCredential, { user: principal.userId }, { fields: ['id', 'transports'] });
    return generateRegistrationOptions({
      rpName: this.config.webauthn.rpName,
      rpID: this.config.webauthn.rpId,
      userName: user.email,
      userDisplayName: user.displayName,
      userID: userHandleOf(user.id),
      challenge: challengeBytes(await this.challenges.issue({ purpose: 'registration', userId: user.id })),
      attestationType: 'none',
      excludeCredentials: existing.map((c) => ({ id: c.id, transports: c.transports })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
    });
  }

  async verify(principal: Principal, response: RegistrationResponseJSON, name: string): Promise<PasskeyView> {
    requireRecentSignIn(principal);
    const challenge = challengeOf(response);
    if (!(await this.challenges.consume(challenge, { purpose: 'registration', userId: principal.userId }))) throw refused();
    const verification = await verifyRegistrationResponse({
      response,
      expectedChallenge: challenge,
      expectedOrigin: this.config.webauthn.origins,
      expectedRPID: this.config.webauthn.rpId,
      requireUserVerification: true,
    }).catch(() => null);
    if (!verification?.verified || !verification.registrationInfo) throw refused();
    const info = verification.registrationInfo;
    const rows: { created_at: Date }[] = await this.em.fork().execute(
      `INSERT INTO passkey_credentials (id, user_id, public_key, counter, transports, device_type, backed_up, aaguid, name)
       VALUES (?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING created_at`,
      [info.credential.id, principal.userId, Buffer.from(info.credential.publicKey), info.credential.counter, JSON.stringify(info.credential.transports ?? []), info.credentialDeviceType, info.credentialBackedUp, info.aaguid, name],
    );
    if (!rows.length) throw new DomainError('conflict', 'This passkey is already registered');
    await this.audit.record({ type: 'passkey.registered', outcome: 'success', actorId: principal.userId, targetType: 'User', targetId: principal.userId, details: { passkeyId: info.credential.id, name } });
    await this.mail.sendPasskeyChanged(await this.emailOf(principal.userId), 'added', name);
    return { id: info.credential.id, name, deviceType: info.credentialDeviceType, backedUp: info.credentialBackedUp, transports: info.credential.transports ?? [], createdAt: rows[0].created_at, lastUsedAt: null };
  }

  async list(principal: Principal): Promise<PasskeyView[]> {
    const rows = await this.em.fork().find(PasskeyCredential, { user: principal.userId }, { orderBy: { createdAt: 'asc', id: 'asc' } });
    return rows.map(view);
  }

  /** Another user's passkey is a 404, exactly like one that does not exist. */
  async rename(principal: Principal, id: string, name: string): Promise<PasskeyView> {
    const em = this.em.fork();
    const passkey = await em.findOne(PasskeyCredential, { id, user: principal.userId });
    if (!passkey) throw notFound();
    passkey.name = name;
    await em.flush();
    return view(passkey);
  }

  async remove(principal: Principal, id: string): Promise<void> {
    const rows: { name: string }[] = await this.em.fork().execute('DELETE FROM passkey_credentials WHERE id = ? AND user_id = ? RETURNING name', [id, principal.userId]);
    if (!rows.length) throw notFound();
    await this.audit.record({ type: 'passkey.removed', outcome: 'success', actorId: principal.userId, targetType: 'User', targetId: principal.userId, details: { passkeyId: id, name: rows[0].name } });
    await this.mail.sendPasskeyChanged(await this.emailOf(principal.userId), 'removed', rows[0].name);
  }

  private async emailOf(userId: string): Promise<string> {
    return (await this.em.fork().findOneOrFail(User, { id: userId }, { fields: ['email'] })).email;
  }
}

function requireRecentSignIn(principal: Principal): void {
  if (!signedInRecently(principal)) throw new DomainError('forbidden', 'Sign in again (less than 5 minutes ago) to add a passkey');
}

function view(c: PasskeyCredential): PasskeyView {
  return { id: c.id, name: c.name, deviceType: c.deviceType, backedUp: c.backedUp, transports: c.transports, createdAt: c.createdAt, lastUsedAt: c.lastUsedAt };
}

const refused = () => new DomainError('badRequest', 'The passkey could not be verified; start again');
const notFound = () => new DomainError('notFound', 'No such passkey');
