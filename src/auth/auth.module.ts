import { EntityManager } from '@mikro-orm/postgresql';
import { Module, type OnModuleInit } from '@nestjs/common';
import { AppConfig } from '../config/app-config';
import { PassportModule } from '@nestjs/passport';
import { AuditModule } from '../audit/audit.module';
import { MailModule } from '../mail/mail.module';
import { RedisModule } from '../redis/redis.module';
import { AuthenticationGuard } from './authentication.guard';
import { SubjectRecords, SubjectRecordsModule } from '../policies/subject-records';
import { EmailTokenService } from './email-tokens/email-token.service';
import { AccountController } from './http/account.controller';
import { AuthController } from './http/auth.controller';
import { GoogleController } from './http/google.controller';
import { MfaController } from './http/mfa.controller';
import { SessionsController } from './http/sessions.controller';
import { GoogleAccountService } from './google/google-account.service';
import { GoogleCallbackGuard } from './google/google-callback.guard';
import { GoogleSignInService } from './google/google-sign-in.service';
import { GoogleStrategy } from './google/google.strategy';
import { OAuthExchangeService } from './google/oauth-exchange.service';
import { CurrentPasswordCheck } from './lockout/current-password-check';
import { LockoutService } from './lockout/lockout.service';
import { MfaChallenges } from './mfa/mfa-challenges';
import { MfaManagementService } from './mfa/mfa-management.service';
import { RecoveryCodes } from './mfa/recovery-codes';
import { SecondFactorService } from './mfa/second-factor.service';
import { SecretBox } from './mfa/secret-box';
import { TotpService } from './mfa/totp.service';
import { PasswordLoginService } from './login/password-login.service';
import { SignInService } from './login/sign-in.service';
import { PasskeyRegistrationService } from './passkeys/passkey-registration.service';
import { PasskeySignInService } from './passkeys/passkey-sign-in.service';
import { PasskeysController } from './passkeys/passkeys.controller';
import { WebAuthnChallenges } from './passkeys/webauthn-challenges';
import { PasswordsModule } from './passwords/passwords.module';
import { PrincipalCache } from './principal/principal-cache';
import { PrincipalResolver } from './principal/principal-resolver';
import { PasswordChangeService } from './recovery/password-change.service';
import { PasswordResetService } from './recovery/password-reset.service';
import { RegistrationService } from './registration/registration.service';
import { SecurityNotices } from './notifications/security-notices';
import { EmailChangeService } from './email-change/email-change.service';
import { CookieSessions } from './sessions/cookie-sessions';
import { RevocationSet } from './sessions/revocation-set';
import { loadSessionRecord } from './sessions/session-record';
import { SessionService } from './sessions/session.service';
import { UserSessionsService } from './sessions/user-sessions.service';
import { JwtStrategy } from './strategies/jwt.strategy';
import { LocalStrategy } from './strategies/local.strategy';
import { SessionCookieStrategy } from './strategies/session-cookie.strategy';
import { TotpStrategy } from './strategies/totp.strategy';
import { TokensModule } from './tokens/tokens.module';
import { VerifiedTokenCache } from './tokens/verified-token-cache';

/**
 * Who you are: sign-in, tokens, sessions and their revocation across instances. Its
 * AuthenticationGuard is made global, in order, by GuardOrderModule.
 */
@Module({
  imports: [PassportModule, PasswordsModule, TokensModule, MailModule, AuditModule, RedisModule, SubjectRecordsModule],
  controllers: [AuthController, AccountController, SessionsController, MfaController, GoogleController, PasskeysController],
  providers: [
    AuthenticationGuard,
    RevocationSet,
    PrincipalCache,
    PrincipalResolver,
    VerifiedTokenCache,
    SessionService,
    CookieSessions,
    UserSessionsService,
    LockoutService,
    CurrentPasswordCheck,
    PasswordLoginService,
    SignInService,
    EmailTokenService,
    RegistrationService,
    PasswordResetService,
    PasswordChangeService,
    JwtStrategy,
    LocalStrategy,
    SessionCookieStrategy,
    TotpStrategy,
    SecretBox,
    TotpService,
    RecoveryCodes,
    MfaChallenges,
    SecondFactorService,
    MfaManagementService,
    SecurityNotices,
    EmailChangeService,
    GoogleAccountService,
    GoogleSignInService,
    OAuthExchangeService,
    GoogleCallbackGuard,
    WebAuthnChallenges,
    PasskeyRegistrationService,
    PasskeySignInService,
    {
      // Google sign-in is optional: without its configuration the strategy does not exist and
      // both Google routes answer 404.
      provide: GoogleStrategy,
      inject: [AppConfig, EntityManager, SecretBox, GoogleAccountService],
      useFactory: (config: AppConfig, em: EntityManager, box: SecretBox, accounts: GoogleAccountService) =>
        config.google ? new GoogleStrategy(config, em, box, accounts) : null,
    },
  ],
  exports: [
    AuthenticationGuard,
    PrincipalCache,
    // The OIDC provider's login step reads Bastion's own session (src/oidc).
    PrincipalResolver,
    CookieSessions,
    MfaManagementService,
    SecretBox,
    SessionService,
    UserSessionsService,
    LockoutService,
    PasswordChangeService,
    PasswordsModule,
    EmailTokenService,
    MailModule,
    // The hosted pages (src/pages) run the same sign-in, recovery and MFA services as the API.
    PasswordLoginService,
    SignInService,
    SecondFactorService,
    SessionCookieStrategy,
    RegistrationService,
    PasswordResetService,
    TotpService,
    EmailChangeService,
    GoogleAccountService,
  ],
})
export class AuthModule implements OnModuleInit {
  constructor(
    private readonly records: SubjectRecords,
    private readonly em: EntityManager,
  ) {}

  onModuleInit(): void {
    this.records.register('Session', (id) => loadSessionRecord(this.em, id));
  }
}
