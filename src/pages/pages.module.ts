import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { UsersModule } from '../users/users.module';
import { AccountPageController } from './http/account.controller';
import { BrandCssController } from './http/brand-css.controller';
import { LoginPageController } from './http/login.controller';
import { RecoveryPagesController } from './http/recovery.controller';
import { PageErrorFilter } from './page-error.filter';
import { PageGuard } from './page-guard';
import { PageRenderer } from './page-renderer';
import { SignInInteractions } from './sign-in-interactions';

/**
 * The hosted pages (server-rendered, views/ and assets/ at the top level): sign-in, registration,
 * recovery and the account page, on the same services as the REST API. SignInInteractions is how
 * the OIDC provider's login step shapes /login.
 */
@Module({
  imports: [AuthModule, UsersModule],
  controllers: [LoginPageController, RecoveryPagesController, AccountPageController, BrandCssController],
  providers: [PageRenderer, PageGuard, PageErrorFilter, SignInInteractions],
  exports: [SignInInteractions],
})
export class PagesModule {}
