import { EntityManager } from '@mikro-orm/postgresql';
import { Module, type OnModuleInit } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { TokensModule } from '../auth/tokens/tokens.module';
import { PagesModule } from '../pages/pages.module';
import { SignInInteractions } from '../pages/sign-in-interactions';
import { PoliciesModule } from '../policies/policies.module';
import { SubjectRecords, SubjectRecordsModule } from '../policies/subject-records';
import { BastionLogout } from './bastion-logout';
import { Client } from './clients/client.entity';
import { toClientView } from './clients/client-view';
import { ClientsController } from './clients/clients.controller';
import { ClientsService } from './clients/clients.service';
import { InteractionsService } from './interaction/interactions.service';
import { OidcAccounts } from './oidc-accounts';
import { OidcAudit } from './oidc-audit';
import { OidcProvider } from './oidc-provider.service';
import { OidcSessionLinks } from './oidc-session-links';
import { ResourceIndicators } from './resource-indicators';
import { ResourceServersController } from './resource-servers/resource-servers.controller';
import { ResourceServer } from './resource-servers/resource-server.entity';
import { ResourceServersService } from './resource-servers/resource-servers.service';

/** Bastion as an OpenID Connect provider (issuer `${APP_URL}/oidc`); its routes are mounted by configureApp. */
@Module({
  imports: [AuthModule, TokensModule, AuditModule, PoliciesModule, SubjectRecordsModule, PagesModule],
  controllers: [ClientsController, ResourceServersController],
  providers: [ClientsService, ResourceServersService, OidcProvider, OidcAccounts, OidcAudit, OidcSessionLinks, ResourceIndicators, InteractionsService, BastionLogout],
  exports: [OidcProvider, InteractionsService],
})
export class OidcModule implements OnModuleInit {
  constructor(
    private readonly oidc: OidcProvider,
    private readonly logout: BastionLogout,
    private readonly records: SubjectRecords,
    private readonly em: EntityManager,
    private readonly interactions: InteractionsService,
    private readonly signIn: SignInInteractions,
  ) {}

  onModuleInit(): void {
    // A client is seen by policies as its view: never its secret hash.
    this.records.register('Client', async (id) => {
      const client = await this.em.fork().findOne(Client, { id });
      return client && { ...toClientView(client) };
    });
    this.records.registerEntity('ResourceServer', ResourceServer);
    // The login step is the hosted sign-in page: it learns what an interaction asks of it here.
    this.signIn.register((returnTo) => this.interactions.signInRequirements(returnTo));
    this.logout.attach(this.oidc.provider as Parameters<BastionLogout['attach']>[0]);
  }
}
