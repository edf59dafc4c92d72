import { Body, Controller, Get, Inject, Post, Query, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { EmailDto, LinkTokenDto, RegisterDto, ResetPasswordDto } from '../../auth/http/auth.dto';
import { EmailChangeService } from '../../auth/email-change/email-change.service';
import { PasswordResetService } from '../../auth/recovery/password-reset.service';
import { RegistrationService } from '../../auth/registration/registration.service';
import { Public } from '../../common/decorators/public.decorator';
import { validateDto } from '../../common/http/validate-dto';
import { DomainError } from '../../common/problem/domain-error';
import { AuthThrottled } from '../../common/throttling/app-throttler.guard';
import { AppConfig } from '../../config/app-config';
import { formErrors } from '../form-errors';
import { Page, type PageContext } from '../page-context';
import { PageErrorFilter } from '../page-error.filter';
import { PageGuard } from '../page-guard';
import { PageRenderer } from '../page-renderer';

type Form = Record<string, unknown>;
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/**
 * Registration, email verification and password recovery: the pages of the mailed links. The same
 * services and rules as /api/v1/auth/register, /verify-email and /password/*, with the same
 * answers whatever the address (no enumeration). A GET never uses up a link token (mail scanners
 * prefetch links): only the button's POST does.
 */
@ApiExcludeController()
@Public()
@UseGuards(PageGuard)
@UseFilters(PageErrorFilter)
@Controller()
export class RecoveryPagesController {
  constructor(
    private readonly renderer: PageRenderer,
    private readonly registration: RegistrationService,
    private readonly recovery: PasswordResetService,
    private readonly emailChange: EmailChangeService,
    @Inject(AppConfig) private readonly config: AppConfig,
  ) {}

  @Get('register')
  registerForm(@Page() page: PageContext, @Res() reply: FastifyReply): Promise<void> {
    return this.renderRegister(reply, page, {});
  }

  @Post('register')
  @AuthThrottled()
  async register(@Page() page: PageContext, @Body() body: Form, @Res() reply: FastifyReply): Promise<void> {
    const values = { email: text(body.email), displayName: text(body.displayName) };
    try {
      const input = await validateDto(RegisterDto, { email: body.email, password: body.password, displayName: body.displayName });
      await this.registration.register(input);
    } catch (err) {
      if (err instanceof DomainError && err.code === 'forbidden') return this.renderRegister(reply, page, values);
      const errors = formErrors(err, page.t);
      if (!errors) throw err;
      return this.renderRegister(reply, page, values, 400, errors);
    }
    reply.redirect('/register/sent', 303);
  }

  @Get('register/sent')
  sent(@Page() page: PageContext, @Res() reply: FastifyReply): Promise<void> {
    return this.renderer.render(reply, page, 'message', { title: page.t('sent.title'), message: page.t('sent.body') });
  }

  @Get('verify-email')
  verifyForm(@Page() page: PageContext, @Query() query: Form, @Res() reply: FastifyReply): Promise<void> {
    const action = { href: '/verify-email', label: page.t('verify.submit'), fields: [{ name: 'token', value: text(query.token).slice(0, 256) }] };
    return this.renderer.render(reply, page, 'message', { title: page.t('verify.title'), message: page.t('verify.body'), action });
  }

  @Post('verify-email')
  @AuthThrottled()
  async verify(@Page() page: PageContext, @Body() body: Form, @Res() reply: FastifyReply): Promise<void> {
    try {
      const { token } = await validateDto(LinkTokenDto, { token: body.token });
      await this.registration.verifyEmail(token);
    } catch (err) {
      if (!(err instanceof DomainError && (err.code === 'badRequest' || err.code === 'validation'))) throw err;
      const link = { href: '/login', label: page.t('common.backToSignIn') };
      return this.renderer.render(reply, page, 'message', { title: page.t('verify.title'), message: page.t('verify.invalid'), alert: true, link }, { status: 400 });
    }
    reply.redirect('/login?verified=1', 303);
  }

  @Get('confirm-email')
  confirmForm(@Page() page: PageContext, @Query() query: Form, @Res() reply: FastifyReply): Promise<void> {
    const action = { href: '/confirm-email', label: page.t('confirm.submit'), fields: [{ name: 'token', value: text(query.token).slice(0, 256) }] };
    return this.renderer.render(reply, page, 'message', { title: page.t('confirm.title'), message: page.t('confirm.body'), action });
  }

  /** The browser that confirms keeps its own session if it is the account's; every other one ends. */
  @Post('confirm-email')
  @AuthThrottled()
  async confirm(@Page() page: PageContext, @Body() body: Form, @Res() reply: FastifyReply): Promise<void> {
    let userId: string;
    try {
      const { token } = await validateDto(LinkTokenDto, { token: body.token });
      ({ userId } = await this.emailChange.confirm(token, page.principal?.sessionId));
    } catch (err) {
      if (!(err instanceof DomainError && (err.code === 'badRequest' || err.code === 'validation'))) throw err;
      const link = { href: '/account', label: page.t('error.home') };
      return this.renderer.render(reply, page, 'message', { title: page.t('confirm.title'), message: page.t('confirm.invalid'), alert: true, link }, { status: 400 });
    }
    reply.redirect(page.principal?.userId === userId ? '/account?done=email_changed' : '/login?email_changed=1', 303);
  }

  @Get('forgot-password')
  forgotForm(@Page() page: PageContext, @Query() query: Form, @Res() reply: FastifyReply): Promise<void> {
    return this.renderer.render(reply, page, 'forgot-password', { title: page.t('forgot.title'), sent: query.sent === '1', email: '' });
  }

  @Post('forgot-password')
  @AuthThrottled()
  async forgot(@Page() page: PageContext, @Body() body: Form, @Res() reply: FastifyReply): Promise<void> {
    try {
      const { email } = await validateDto(EmailDto, { email: body.email });
      await this.recovery.requestReset(email);
    } catch (err) {
      const errors = formErrors(err, page.t);
      if (!errors) throw err;
      return this.renderer.render(reply, page, 'forgot-password', { title: page.t('forgot.title'), email: text(body.email) }, { status: 400, errors });
    }
    reply.redirect('/forgot-password?sent=1', 303);
  }

  @Get('reset-password')
  resetForm(@Page() page: PageContext, @Query() query: Form, @Res() reply: FastifyReply): Promise<void> {
    return this.renderReset(reply, page, text(query.token).slice(0, 256));
  }

  @Post('reset-password')
  @AuthThrottled()
  async reset(@Page() page: PageContext, @Body() body: Form, @Res() reply: FastifyReply): Promise<void> {
    try {
      const input = await validateDto(ResetPasswordDto, { token: body.token, newPassword: body.newPassword });
      await this.recovery.reset(input.token, input.newPassword);
    } catch (err) {
      const errors = formErrors(err, page.t);
      if (errors && !errors.token) return this.renderReset(reply, page, text(body.token).slice(0, 256), 400, errors);
      if (!(err instanceof DomainError && (err.code === 'badRequest' || err.code === 'validation'))) throw err;
      const link = { href: '/forgot-password', label: page.t('reset.again') };
      return this.renderer.render(reply, page, 'message', { title: page.t('reset.title'), message: page.t('reset.invalid'), alert: true, link }, { status: 400 });
    }
    reply.redirect('/login?reset=1', 303);
  }

  private renderRegister(reply: FastifyReply, page: PageContext, values: Form, status = 200, errors?: Record<string, string>): Promise<void> {
    const closed = !this.config.registration.open;
    const view = { title: page.t('register.title'), closed, minLength: this.config.passwords.minLength, email: '', displayName: '', ...values };
    return this.renderer.render(reply, page, 'register', view, { status: closed ? 403 : status, errors });
  }

  private renderReset(reply: FastifyReply, page: PageContext, token: string, status = 200, errors?: Record<string, string>): Promise<void> {
    const view = { title: page.t('reset.title'), token, minLength: this.config.passwords.minLength };
    return this.renderer.render(reply, page, 'reset-password', view, { status, errors });
  }
}
