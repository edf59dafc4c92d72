import { Injectable } from '@nestjs/common';
import type { GrantInstance, InteractionDetails } from 'oidc-provider';
import { AuditService } from '../../audit/audit.service';
import { PrincipalResolver } from '../../auth/principal/principal-resolver';
import { CookieSessions } from '../../auth/sessions/cookie-sessions';
import { originOf } from '../form-action';
import { OidcProvider } from '../oidc-provider.service';
import { ACR_MFA } from '../provider-configuration';
import { OidcSessionLinks } from '../oidc-session-links';
import type { BastionSession } from './sign-in-decision';

/**
 * The provider-side work of an interaction: who the Bastion session is, the grant for a
 * first-party client or after consent (linked to that session), and their audit events.
 */
@Injectable()
export class InteractionsService {
  constructor(
    private readonly oidc: OidcProvider,
    private readonly cookies: CookieSessions,
    private readonly principals: PrincipalResolver,
    private readonly links: OidcSessionLinks,
    private readonly audit: AuditService,
  ) {}

  /** The live Bastion session of a `__Host-sid` secret whose user may sign in, or null. */
  async session(secret: string | undefined): Promise<BastionSession | null> {
    if (!secret || secret.length > 128) return null;
    const credential = await this.cookies.authenticate(secret);
    if (!credential) return null;
    const principal = await this.principals.resolve(credential);
    if (!principal) return null;
    return { userId: principal.userId, sessionId: principal.sessionId, amr: principal.amr, authTime: principal.authTime };
  }

  async isFirstParty(clientId: string): Promise<{ firstParty: boolean; name: string; redirectOrigins: string[] } | null> {
    const client = await this.oidc.provider.Client.find(clientId);
    if (!client) return null;
    const metadata = client.metadata();
    return {
      firstParty: metadata.first_party === true,
      name: String(metadata.client_name ?? clientId),
      redirectOrigins: client.redirectUris.map((u) => new URL(u).origin),
    };
  }

  /**
   * For the hosted sign-in pages: the origin their form's answer ends at when `returnTo` is an
   * OIDC interaction (the client's redirect URI), to add to the page's CSP `form-action` (see
   * widenFormAction). Empty for any other `returnTo` or an unknown or expired interaction.
   */
  async formActionOrigins(returnTo: string): Promise<string[]> {
    return (await this.signInRequirements(returnTo))?.formActionOrigins ?? [];
  }

  /**
   * What the hosted sign-in page must do for `returnTo` when it is an OIDC interaction: widen its
   * form-action to the client's redirect origin, and show the form even to a signed-in person
   * when the request asks for a fresh sign-in (`prompt=login`, `max_age`) or a second factor
   * (`acr_values`) — else the page would send that person straight back and the interaction
   * would send them here again. Null for any other `returnTo` or an unknown or expired one.
   */
  async signInRequirements(returnTo: string): Promise<{ formActionOrigins: string[]; forceSignIn: boolean } | null> {
    const uid = /^\/oidc\/interaction\/([A-Za-z0-9_-]{1,64})(?:\?.*)?$/.exec(returnTo)?.[1];
    if (!uid) return null;
    const interaction = await this.oidc.provider.Interaction.find(uid);
    if (!interaction) return null;
    const { params } = interaction;
    const forceSignIn =
      String(params.prompt ?? '').split(' ').includes('login') ||
      params.max_age !== undefined ||
      String(params.acr_values ?? '').split(' ').includes(ACR_MFA);
    return { formActionOrigins: originOf(params.redirect_uri), forceSignIn };
  }

  /** Everything the request asks for, granted at once (first-party clients: no consent page). */
  async grantRequested(details: InteractionDetails, session: BastionSession): Promise<string> {
    const grant = await this.grantFor(details, session.userId);
    const scope = details.params.scope ?? '';
    grant.addOIDCScope(scope);
    for (const resource of resourcesOf(details.params.resource)) grant.addResourceScope(resource, scope);
    return this.save(grant, details, session, { firstParty: true, scope });
  }

  /** What the consent page listed, granted after the user allowed it. */
  async grantConsented(details: InteractionDetails, session: BastionSession): Promise<string> {
    const grant = await this.grantFor(details, session.userId);
    const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[]; missingResourceScopes?: Record<string, string[]> };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) grant.addResourceScope(resource, scopes.join(' '));
    return this.save(grant, details, session, { firstParty: false, scope: missing.missingOIDCScope?.join(' ') ?? '' });
  }

  /** A grant the provider kept for this browser now serves this Bastion session. */
  async relink(details: InteractionDetails, session: BastionSession): Promise<void> {
    if (details.grantId) await this.links.link(details.grantId, session.sessionId);
  }

  async denied(details: InteractionDetails, session: BastionSession | null): Promise<void> {
    await this.audit.record({ type: 'oidc.consent.denied', outcome: 'denied', actorId: session?.userId ?? null, targetType: 'Client', targetId: details.params.client_id });
  }

  private async grantFor(details: InteractionDetails, accountId: string): Promise<GrantInstance> {
    const { Grant } = this.oidc.provider;
    const existing = details.grantId ? await Grant.find(details.grantId) : undefined;
    return existing && (existing as unknown as { accountId?: string }).accountId === accountId ? existing : new Grant({ accountId, clientId: details.params.client_id });
  }

  private async save(grant: GrantInstance, details: InteractionDetails, session: BastionSession, detail: { firstParty: boolean; scope: string }): Promise<string> {
    const grantId = await grant.save();
    await this.links.link(grantId, session.sessionId);
    await this.audit.record({
      type: 'oidc.grant.given',
      outcome: 'success',
      actorId: session.userId,
      targetType: 'Client',
      targetId: details.params.client_id,
      details: { grantId, scope: detail.scope, firstParty: detail.firstParty, resources: resourcesOf(details.params.resource) },
    });
    return grantId;
  }
}

function resourcesOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return typeof value === 'string' ? [value] : [];
}
