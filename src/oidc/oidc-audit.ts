import { Injectable, Logger } from '@nestjs/common';
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import { AuditService } from '../audit/audit.service';

type TokenContext = KoaContextWithOIDC & { oidc: KoaContextWithOIDC['oidc'] & { params?: { grant_type?: string }; entities?: Record<string, { accountId?: string; grantId?: string } | undefined> } };

/**
 * Audit events of the provider: each token response to a client, each grant revoked, each
 * back-channel logout that failed, and every unexpected provider error (logged, never shown).
 * Grants given and client changes are audited where they happen (interaction route, clients API).
 */
@Injectable()
export class OidcAudit {
  private readonly logger = new Logger('Oidc');

  constructor(private readonly audit: AuditService) {}

  attach(provider: Provider): void {
    provider.on('grant.success', (ctx: TokenContext) => {
      const entities = ctx.oidc.entities ?? {};
      const subject = entities.Account ?? entities.AuthorizationCode ?? entities.RefreshToken;
      void this.audit.record({
        type: 'oidc.token.issued',
        outcome: 'success',
        actorId: subject?.accountId ?? null,
        targetType: 'Client',
        targetId: ctx.oidc.client?.clientId ?? null,
        details: { grantType: ctx.oidc.params?.grant_type },
      });
    });
    provider.on('grant.error', (ctx: TokenContext, err: Error & { error?: string }) => {
      void this.audit.record({
        type: 'oidc.token.refused',
        outcome: 'failure',
        targetType: 'Client',
        targetId: ctx.oidc.client?.clientId ?? null,
        details: { grantType: ctx.oidc.params?.grant_type, error: err.error ?? err.message },
      });
    });
    provider.on('grant.revoked', (ctx: TokenContext, grantId: string) => {
      void this.audit.record({ type: 'oidc.grant.revoked', outcome: 'success', targetType: 'Client', targetId: ctx.oidc.client?.clientId ?? null, details: { grantId } });
    });
    provider.on('backchannel.error', (_ctx: unknown, err: Error, client: { clientId: string }) => {
      this.logger.warn(`Back-channel logout to client ${client.clientId} failed: ${err.message}`);
    });
    provider.on('server_error', (_ctx: unknown, err: Error) => this.logger.error({ err }, 'OIDC provider error'));
  }
}
