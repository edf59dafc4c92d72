import { type ArgumentMetadata, Body, Controller, createParamDecorator, type ExecutionContext, Get, HttpCode, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBody, ApiExtraModels, ApiOkResponse, ApiOperation, ApiTags, getSchemaPath } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Public } from '../../common/decorators/public.decorator';
import { SignedIn } from '../../policies/check-policy.decorator';
import { AuthThrottled } from '../../common/throttling/app-throttler.guard';
import type { PasswordAccount } from '../login/password-login.service';
import { SignInService } from '../login/sign-in.service';
import { CurrentPrincipal } from '../principal/current-principal.decorator';
import type { Principal } from '../principal/principal';
import { SESSION_COOKIE } from '../sessions/session-credentials';
import { UserSessionsService } from '../sessions/user-sessions.service';
import { CookieSessionView, CsrfView, LoginDto, RefreshDto, SignInModeQuery, TokenPairView, WhoAmIView } from './auth.dto';
import { LocalLoginGuard } from './local-login.guard';
import { clearSessionCookie, sendCookieSession, sendSignIn } from './session-cookie';
import { DomainError } from '../../common/problem/domain-error';
import { AppValidationPipe } from '../../common/http/validation.pipe';

/**
 * The refresh body is optional: a browser refreshing its cookie session sends no body at all
 * (fetch with the cookie and X-CSRF-Token only). A present body is validated like any other.
 */
const OptionalBody = createParamDecorator((_data: unknown, context: ExecutionContext): unknown => context.switchToHttp().getRequest<FastifyRequest>().body ?? {});
class OptionalBodyValidation extends AppValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    return super.transform(value, { ...metadata, type: 'body' });
  }
}

@ApiTags('auth')
@ApiExtraModels(TokenPairView, CookieSessionView)
@Controller('api/v1/auth')
export class AuthController {
  constructor(
    private readonly signIn: SignInService,
    private readonly userSessions: UserSessionsService,
  ) {}

  @Public()
  @AuthThrottled()
  @UseGuards(LocalLoginGuard)
  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Sign in with email and password' })
  @ApiOkResponse({ schema: { oneOf: [{ $ref: getSchemaPath(TokenPairView) }, { $ref: getSchemaPath(CookieSessionView) }] } })
  async login(
    @Req() request: FastifyRequest & { user: PasswordAccount },
    @Body() _body: LoginDto,
    @Query() query: SignInModeQuery,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const mode = query.mode ?? 'bearer';
    return sendSignIn(reply, await this.signIn.complete(request.user.id, ['pwd'], mode, { lockout: true }));
  }

  @Public()
  @AuthThrottled()
  @Post('refresh')
  @HttpCode(200)
  @ApiOperation({ summary: 'Rotate a refresh token (or, in cookie mode, the session cookie)' })
  @ApiBody({ type: RefreshDto, required: false })
  @ApiOkResponse({ schema: { oneOf: [{ $ref: getSchemaPath(TokenPairView) }, { $ref: getSchemaPath(CookieSessionView) }] } })
  async refresh(@OptionalBody(OptionalBodyValidation) body: RefreshDto, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const csrf = request.headers['x-csrf-token'];
    const result = await this.userSessions.refresh({
      refreshToken: body.refreshToken,
      cookieSecret: request.cookies?.[SESSION_COOKIE],
      csrfToken: typeof csrf === 'string' ? csrf : undefined,
    });
    return 'cookieSecret' in result ? sendCookieSession(reply, result) : result;
  }

  @Post('logout')
  @SignedIn()
  @HttpCode(204)
  @ApiOperation({ summary: 'End the current session' })
  async logout(@CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    await this.userSessions.logout(principal);
    if (principal.via === 'cookie') clearSessionCookie(reply);
  }

  @Post('logout-all')
  @SignedIn()
  @HttpCode(204)
  @ApiOperation({ summary: 'End every session of the caller' })
  async logoutAll(@CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) reply: FastifyReply): Promise<void> {
    await this.userSessions.logoutAll(principal);
    if (principal.via === 'cookie') clearSessionCookie(reply);
  }

  @Get('csrf')
  @SignedIn()
  @ApiOkResponse({ type: CsrfView })
  @ApiOperation({ summary: 'The CSRF token of the current cookie session (after a page reload)' })
  csrf(@CurrentPrincipal() principal: Principal): CsrfView {
    if (principal.via !== 'cookie' || !principal.csrfToken) throw new DomainError('badRequest', 'Only cookie sessions have a CSRF token');
    return { csrfToken: principal.csrfToken };
  }

  @Get('whoami')
  @SignedIn()
  @ApiOkResponse({ type: WhoAmIView })
  @ApiOperation({ summary: 'The verified principal, from the token and the in-memory principal cache' })
  whoami(@CurrentPrincipal() p: Principal): WhoAmIView {
    return { userId: p.userId, sessionId: p.sessionId, amr: p.amr, roles: p.roles, departmentId: p.departmentId, expiresAt: p.expiresAt.toISOString() };
  }
}
