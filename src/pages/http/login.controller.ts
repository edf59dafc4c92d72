import { Body, Controller, Get, Inject, Post, Query, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { LoginDto } from '../../auth/http/auth.dto';
import { clearSessionCookie, sendCookieSession } from '../../auth/http/session-cookie';
import { PasswordLoginService } from '../../auth/login/password-login.service';
import { SignInService } from '../../auth/login/sign-in.service';
import { RECOVERY_CODE_SHAPE } from '../../auth/mfa/recovery-codes';
import { SecondFactorService } from '../../auth/mfa/second-factor.service';
import type { CookieSession } from '../../auth/sessions/session-credentials';
import { SessionService } from '../../auth/sessions/session.service';
import { UserSessionsService } from '../../auth/sessions/user-sessions.service';
import { Public } from '../../common/decorators/public.decorator';
import { validateDto } from '../../common/http/validate-dto';
import { DomainError } from '../../common/problem/domain-error';
import { AuthThrottled } from '../../common/throttling/app-throttler.guard';
import { AppConfig } from '../../config/app-config';
import type { MessageKey } from '../i18n/en';
import { formErrors } from '../form-errors';
import { Page, PageAccess, type PageContext } from '../page-context';
import { PageErrorFilter } from '../page-error.filter';
import { PageGuard } from '../page-guard';
import { PageRenderer } from '../page-renderer';
import { safeReturnTo } from '../return-to';
import { SignInInteractions, type SignInRequirements } from '../sign-in-interactions';

/** The pending second step of a sign-in: the API's mfaToken, kept in an HttpOnly cookie instead of the page. */
const MFA_COOKIE = '__Host-mfa';
const MFA_COOKIE_SECONDS = 5 * 60;
type Form = Record<string, unknown>;

const NOTICES: Record<string, MessageKey> = { verified: 'login.verified', reset: 'login.reset', signed_out: 'login.signedOut', email_changed: 'login.emailChanged' };
const REFUSALS: Partial<Record<DomainError['code'], { status: number; message: MessageKey }>> = {
  invalidCredentials: { status: 401, message: 'login.invalid' },
  emailNotVerified: { status: 403, message: 'login.notVerified' },
  accountDisabled: { status: 403, message: 'login.disabled' },
};

/**
 * Sign-in (password, then TOTP or a recovery code) and sign-out. The same services as
 * /api/v1/auth/login and /mfa/verify in cookie mode: the same lockout, audit and session rules.
 */
@ApiExcludeController()
@Public()
@UseGuards(PageGuard)
@UseFilters(PageErrorFilter)
@Controller()
export class LoginPageController {
  constructor(
    private readonly renderer: PageRenderer,
    private readonly logins: PasswordLoginService,
    private readonly signIn: SignInService,
    private readonly secondFactor: SecondFactorService,
    private readonly sessions: SessionService,
    private readonly userSessions: UserSessionsService,
    private readonly interactions: SignInInteractions,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  @Get('login')
  async loginForm(@Page() page: PageContext, @Query() query: Form, @Res() reply: FastifyReply): Promise<void> {
    const returnTo = this.returnTo(query.return_to);
    const requirements = await this.interactions.requirementsFor(returnTo);
    if (page.principal && !requirements.forceSignIn) return void reply.redirect(returnTo, 303);
    const notice = Object.keys(NOTICES).find((flag) => query[flag] === '1');
    return this.renderLogin(reply, page, returnTo, { notice: notice && page.t(NOTICES[notice]) }, { requirements });
  }

  @Post('login')
  @AuthThrottled()
  async login(@Page() page: PageContext, @Body() body: Form, @Res() reply: FastifyReply): Promise<void> {
    const returnTo = this.returnTo(body.return_to);
    const email = typeof body.email === 'string' ? body.email : '';
    let input: LoginDto;
    try {
      input = await validateDto(LoginDto, { email: body.email, password: body.password });
    } catch (err) {
      const errors = formErrors(err, page.t);
      if (!errors) throw err;
      return this.renderLogin(reply, page, returnTo, { email }, { status: 400, errors });
    }
    let session: Awaited<ReturnType<SignInService['complete']>>;
    try {
      const account = await this.logins.verify(input.email, input.password);
      session = await this.signIn.complete(account.id, ['pwd'], 'cookie', { lockout: true });
    } catch (err) {
      const refusal = err instanceof DomainError ? REFUSALS[err.code] : undefined;
      if (!refusal) throw err;
      return this.renderLogin(reply, page, returnTo, { email: input.email, refused: page.t(refusal.message) }, { status: refusal.status });
    }
    if ('mfaRequired' in session) {
      reply.setCookie(MFA_COOKIE, session.mfaToken, { path: '/', httpOnly: true, secure: true, sameSite: 'strict', maxAge: MFA_COOKIE_SECONDS });
      return void reply.redirect(`/login/mfa?return_to=${encodeURIComponent(returnTo)}`, 303);
    }
    await this.finish(page, reply, session as CookieSession, returnTo);
  }

  @Get('login/mfa')
  async mfaForm(@Page() page: PageContext, @Query() query: Form, @Res() reply: FastifyReply): Promise<void> {
    const returnTo = this.returnTo(query.return_to);
    if (!reply.request.cookies[MFA_COOKIE]) return void reply.redirect(`/login?return_to=${encodeURIComponent(returnTo)}`, 303);
    return this.renderMfa(reply, page, returnTo);
  }

  @Post('login/mfa')
  @AuthThrottled()
  async mfa(@Page() page: PageContext, @Body() body: Form, @Res() reply: FastifyReply): Promise<void> {
    const returnTo = this.returnTo(body.return_to);
    const mfaToken = reply.request.cookies[MFA_COOKIE];
    if (!mfaToken) return this.renderMfa(reply, page, returnTo, { expired: true }, { status: 401 });
    const code = typeof body.code === 'string' ? body.code.replace(/\s+/g, '') : '';
    const factor = /^\d{6}$/.test(code) ? { code } : RECOVERY_CODE_SHAPE.test(code) ? { recoveryCode: code } : null;
    if (!factor) return this.renderMfa(reply, page, returnTo, {}, { status: 400, errors: { code: page.t('field.recoveryCode') } });
    let verified: { userId: string; amr: string[] };
    try {
      verified = await this.secondFactor.completeChallenge(mfaToken.slice(0, 256), factor);
    } catch (err) {
      if (!(err instanceof DomainError && err.code === 'invalidCredentials')) throw err;
      return this.renderMfa(reply, page, returnTo, {}, { status: 401, errors: { code: page.t('mfa.invalid') } });
    }
    const session = await this.signIn.complete(verified.userId, verified.amr, 'cookie', { auditType: 'auth.mfa.verified' });
    reply.clearCookie(MFA_COOKIE, { path: '/', httpOnly: true, secure: true, sameSite: 'strict' });
    await this.finish(page, reply, session as CookieSession, returnTo);
  }

  @Post('logout')
  @PageAccess('signed-in')
  async logout(@Page() page: PageContext, @Res() reply: FastifyReply): Promise<void> {
    await this.userSessions.logout(page.principal!);
    clearSessionCookie(reply);
    reply.redirect('/login?signed_out=1', 303);
  }

  /** A sign-in replaces the browser's earlier session (if any), so no orphan stays live. */
  private async finish(page: PageContext, reply: FastifyReply, session: CookieSession, returnTo: string): Promise<void> {
    if (page.principal) await this.sessions.revoke([page.principal.sessionId], 'replaced');
    sendCookieSession(reply, session);
    reply.redirect(returnTo, 303);
  }

  private returnTo(value: unknown): string {
    return safeReturnTo(value, this.config.appUrl, this.config.pages.returnToOrigins);
  }

  /** Where the form's POST may lead: an absolute return_to's origin, and what an interaction asks for. */
  private async formActionOrigins(returnTo: string, known?: Required<SignInRequirements>): Promise<string[]> {
    const { formActionOrigins } = known ?? (await this.interactions.requirementsFor(returnTo));
    return returnTo.startsWith('/') ? formActionOrigins : [...formActionOrigins, new URL(returnTo).origin];
  }

  /** `requirements`: what the caller already looked up for `returnTo` (an OIDC interaction is not read twice). */
  private async renderLogin(
    reply: FastifyReply,
    page: PageContext,
    returnTo: string,
    data: Form,
    { requirements, ...options }: { status?: number; errors?: Record<string, string>; requirements?: Required<SignInRequirements> } = {},
  ) {
    const view = { title: page.t('login.title'), returnTo, google: !!this.config.google, registrationOpen: this.config.registration.open, email: '', ...data };
    await this.renderer.render(reply, page, 'login', view, { ...options, formActionOrigins: await this.formActionOrigins(returnTo, requirements) });
  }

  private async renderMfa(reply: FastifyReply, page: PageContext, returnTo: string, data: Form = {}, options: { status?: number; errors?: Record<string, string> } = {}) {
    const view = { title: page.t('mfa.title'), returnTo, ...data };
    await this.renderer.render(reply, page, 'login-mfa', view, { ...options, formActionOrigins: await this.formActionOrigins(returnTo) });
  }
}
