import { Module, type OnModuleInit } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { TokensModule } from '../auth/tokens/tokens.module';
import { BastionLogout } from './bastion-logout';
import { ClientsController } from './clients/clients.controller';
import { ClientsService } from './clients/clients.service';
import { InteractionsService } from './interaction/interactions.service';
import { OidcAccounts } from './oidc-accounts';
import { OidcAudit } from './oidc-audit';
import { OidcProvider } from './oidc-provider.service';
import { OidcSessionLinks } from './oidc-session-links';
import { ResourceIndicators } from './resource-indicators';
import { ResourceServersController } from './resource-servers/resource-servers.controller';
import { ResourceServersService } from './resource-servers/resource-servers.service';

/** Bastion as an OpenID Connect provider (issuer `${APP_URL}/oidc`); its routes are mounted by configureApp. */
@Module({
  imports: [AuthModule, TokensModule],
  controllers: [ClientsController, ResourceServersController],
  providers: [ClientsService, ResourceServersService, OidcProvider, OidcAccounts, OidcAudit, OidcSessionLinks, ResourceIndicators, InteractionsService, BastionLogout],
  exports: [OidcProvider, InteractionsService],
})
export class OidcModule implements OnModuleInit {
  constructor(
    private readonly oidc: OidcProvider,
    private readonly logout: BastionLogout,
  ) {}

  onModuleInit(): void {
    this.logout.attach(this.oidc.provider as Parameters<BastionLogout['attach']>[0]);
  }
}
