import { Body, Controller, Get, Post, Query, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { EmailChangeService } from '../../auth/email-change/email-change.service';
import { GoogleAccountService } from '../../auth/google/google-account.service';
import { clearSessionCookie } from '../../auth/http/session-cookie';
import { TotpCodeDto } from '../../auth/http/mfa.dto';
import { MfaManagementService } from '../../auth/mfa/mfa-management.service';
import { PasswordChangeService } from '../../auth/recovery/password-change.service';
import { UserSessionsService } from '../../auth/sessions/user-sessions.service';
import { Public } from '../../common/decorators/public.decorator';
import { validateDto } from '../../common/http/validate-dto';
import { DomainError } from '../../common/problem/domain-error';
import { AuthThrottled } from '../../common/throttling/app-throttler.guard';
import { ChangeEmailDto, ChangePasswordDto, UpdateMeDto } from '../../users/me.controller';
import { UsersService } from '../../users/users.service';
import type { MessageKey } from '../i18n/en';
import { formErrors } from '../form-errors';
import { Page, PageAccess, type PageContext } from '../page-context';
import { PageErrorFilter } from '../page-error.filter';
import { PageGuard } from '../page-guard';
import { PageRenderer } from '../page-renderer';

type Form = Record<string, unknown>;
type Errors = Record<string, string>;

const DONE: Record<string, MessageKey> = {
  profile: 'account.profileSaved',
  password: 'account.passwordChanged',
  email: 'account.emailSent',
  session: 'account.sessionEnded',
  sessions: 'account.sessionsEnded',
  mfa_disabled: 'account.mfaDisabled',
  email_changed: 'login.emailChanged',
};

/**
 * A form that no longer fits the account (TOTP enabled or disabled meanwhile, e.g. in another
 * tab): back to /account, which shows the current state.
 */
const STALE_FORM: Errors = {};
/** A code as typed (spaces allowed); anything but a string is left for the DTO to refuse. */
const typedCode = (value: unknown): unknown => (typeof value === 'string' ? value.replace(/\s+/g, '') : value);

/** A service refusal that belongs next to a field of the form: re-render; anything else propagates. */
async function orFieldErrors(work: () => Promise<unknown>, t: PageContext['t'], rename: Record<string, string>, refusals: Partial<Record<DomainError['code'], Errors>> = {}): Promise<Errors | null> {
  try {
    await work();
    return null;
  } catch (err) {
    const fields = formErrors(err, t, rename);
    if (fields) return fields;
    const refusal = err instanceof DomainError ? refusals[err.code] : undefined;
    if (refusal) return refusal;
    throw err;
  }
}

/**
 * /account: profile, email, password, sessions, two-step verification and linked Google account —
 * each form a POST to the service the API's /users/me, /auth/sessions and /auth/mfa routes call.
 */
@ApiExcludeController()
@Public()
@PageAccess('signed-in')
@UseGuards(PageGuard)
@UseFilters(PageErrorFilter)
@Controller('account')
export class AccountPageController {
  constructor(
    private readonly renderer: PageRenderer,
    private readonly users: UsersService,
    private readonly passwords: PasswordChangeService,
    private readonly emailChange: EmailChangeService,
    private readonly userSessions: UserSessionsService,
    private readonly mfa: MfaManagementService,
    private readonly google: GoogleAccountService,
  ) {}

  @Get()
  show(@Page() page: PageContext, @Query() query: Form, @Res() reply: FastifyReply): Promise<void> {
    const done = typeof query.done === 'string' ? DONE[query.done] : undefined;
    return this.renderAccount(reply, page, { notice: done && page.t(done) });
  }

  @Post('profile')
  async profile(@Page() page: PageContext, @Body() body: Form, @Res() reply: FastifyReply): Promise<void> {
    const errors = await orFieldErrors(async () => {
      const input = await validateDto(UpdateMeDto, { displayName: body.displayName });
      await this.users.updateOwnProfile(page.principal!.userId, input.displayName);
    }, page.t, {});
    return errors ? this.renderAccount(reply, page, {}, errors) : reply.redirect('/account?done=profile', 303);
  }

  @Post('password')
  @AuthThrottled()
  async password(@Page() page: PageContext, @Body() body: Form, @Res() reply: FastifyReply): Promise<void> {
    const errors = await orFieldErrors(async () => {
      const input = await validateDto(ChangePasswordDto, { currentPassword: body.currentPassword || undefined, newPassword: body.newPassword });
      await this.passwords.change(page.principal!, input.currentPassword, input.newPassword);
    }, page.t, {});
    return errors ? this.renderAccount(reply, page, {}, errors) : reply.redirect('/account?done=password', 303);
  }

  @Post('email')
  @AuthThrottled()
  async email(@Page() page: PageContext, @Body() body: Form, @Res() reply: FastifyReply): Promise<void> {
    const errors = await orFieldErrors(async () => {
      const input = await validateDto(ChangeEmailDto, { newEmail: body.newEmail, currentPassword: body.emailPassword || undefined });
      await this.emailChange.request(page.principal!, input.newEmail, input.currentPassword);
    }, page.t, { currentPassword: 'emailPassword' });
    return errors ? this.renderAccount(reply, page, { newEmail: body.newEmail }, errors) : reply.redirect('/account?done=email', 303);
  }

  @Post('sessions/end')
  async endSession(@Page() page: PageContext, @Body() body: Form, @Res() reply: FastifyReply): Promise<void> {
    const principal = page.principal!;
    const id = typeof body.sessionId === 'string' && /^[0-9a-f-]{36}$/i.test(body.sessionId) ? body.sessionId : '';
    if (!id) throw new DomainError('notFound', 'No such session');
    await this.userSessions.end(principal.userId, principal.userId, id);
    if (id !== principal.sessionId) return reply.redirect('/account?done=session', 303);
    clearSessionCookie(reply);
    reply.redirect('/login?signed_out=1', 303);
  }

  @Post('sessions/end-others')
  async endOthers(@Page() page: PageContext, @Res() reply: FastifyReply): Promise<void> {
    await this.userSessions.logoutOthers(page.principal!);
    reply.redirect('/account?done=sessions', 303);
  }

  /** Shows the new secret as a QR code and as text (200: a secret is never put in a redirect). */
  @Post('mfa/setup')
  @AuthThrottled()
  async mfaSetup(@Page() page: PageContext, @Body() body: Form, @Res() reply: FastifyReply): Promise<void> {
    const password = typeof body.mfaPassword === 'string' && body.mfaPassword ? body.mfaPassword : undefined;
    let enrolment: Awaited<ReturnType<MfaManagementService['setup']>> | undefined;
    const errors = await orFieldErrors(
      async () => (enrolment = await this.mfa.setup(page.principal!, password?.slice(0, 512))),
      page.t,
      { password: 'mfaPassword' },
      { conflict: STALE_FORM },
    );
    if (errors === STALE_FORM) return reply.redirect('/account', 303);
    if (errors) return this.renderAccount(reply, page, {}, errors);
    return this.renderer.render(reply, page, 'mfa-setup', { title: page.t('enrol.title'), enrolment });
  }

  @Post('mfa/enable')
  @AuthThrottled()
  async mfaEnable(@Page() page: PageContext, @Body() body: Form, @Res() reply: FastifyReply): Promise<void> {
    let codes: string[] = [];
    const errors = await orFieldErrors(
      async () => {
        const input = await validateDto(TotpCodeDto, { code: typedCode(body.code) });
        codes = await this.mfa.enable(page.principal!, input.code);
      },
      page.t,
      {},
      { conflict: STALE_FORM },
    );
    if (errors === STALE_FORM) return reply.redirect('/account', 303);
    if (errors) return this.renderer.render(reply, page, 'mfa-setup', { title: page.t('enrol.title'), enrolment: null }, { status: 400, errors: { code: page.t('enrol.invalid') } });
    return this.renderCodes(reply, page, codes);
  }

  @Post('mfa/recovery-codes')
  @AuthThrottled()
  async regenerate(@Page() page: PageContext, @Body() body: Form, @Res() reply: FastifyReply): Promise<void> {
    let codes: string[] = [];
    const errors = await orFieldErrors(
      async () => {
        const input = await validateDto(TotpCodeDto, { code: typedCode(body.regenCode) });
        codes = await this.mfa.regenerateRecoveryCodes(page.principal!, input.code);
      },
      page.t,
      { code: 'regenCode' },
      { conflict: STALE_FORM },
    );
    if (errors === STALE_FORM) return reply.redirect('/account', 303);
    return errors ? this.renderAccount(reply, page, {}, errors) : this.renderCodes(reply, page, codes);
  }

  @Post('mfa/disable')
  @AuthThrottled()
  async mfaDisable(@Page() page: PageContext, @Body() body: Form, @Res() reply: FastifyReply): Promise<void> {
    const password = typeof body.disablePassword === 'string' && body.disablePassword ? body.disablePassword.slice(0, 512) : undefined;
    const code = typeof body.disableCode === 'string' ? body.disableCode.replace(/\s+/g, '').slice(0, 20) : '';
    const errors = await orFieldErrors(
      () => this.mfa.disable(page.principal!, password, code),
      page.t,
      { password: 'disablePassword', code: 'disableCode' },
      { conflict: STALE_FORM },
    );
    if (errors === STALE_FORM) return reply.redirect('/account', 303);
    return errors ? this.renderAccount(reply, page, {}, errors) : reply.redirect('/account?done=mfa_disabled', 303);
  }

  private renderCodes(reply: FastifyReply, page: PageContext, codes: string[]): Promise<void> {
    const download = `data:text/plain;charset=utf-8,${encodeURIComponent(`${codes.join('\n')}\n`)}`;
    return this.renderer.render(reply, page, 'recovery-codes', { title: page.t('codes.title'), codes, download });
  }

  private async renderAccount(reply: FastifyReply, page: PageContext, data: Form, errors?: Errors): Promise<void> {
    const principal = page.principal!;
    const [user, sessions, google] = await Promise.all([
      this.users.view(principal.userId),
      this.userSessions.list(principal.userId, principal.sessionId),
      this.google.linkedTo(principal.userId),
    ]);
    const when = new Intl.DateTimeFormat(page.locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
    const view = {
      title: page.t('account.title'),
      user,
      sessions: sessions.map((s) => ({ ...s, started: when.format(new Date(s.createdAt)), lastUsed: when.format(new Date(s.lastUsedAt)) })),
      google: google.map((g) => ({ email: g.email, since: when.format(g.linkedAt) })),
      newEmail: '',
      ...data,
    };
    return this.renderer.render(reply, page, 'account', view, { status: errors ? 400 : 200, errors });
  }
}
