import { type ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { validateDto } from '../../common/http/validate-dto';
import { invalidCredentials } from '../login/password-login.service';
import { LoginDto, SignInModeQuery } from './auth.dto';

/** Validates the login body and query, then runs passport-local; failures keep their own status. */
@Injectable()
export class LocalLoginGuard extends AuthGuard('local') {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    request.body = await validateDto(LoginDto, request.body);
    await validateDto(SignInModeQuery, request.query, 'query');
    return (await super.canActivate(context)) as boolean;
  }

  override handleRequest<T>(err: unknown, user: T | false): T {
    // Any error keeps its own answer: a database outage is a 503, never "Invalid credentials".
    if (err) throw err;
    if (!user) throw invalidCredentials();
    return user;
  }
}
