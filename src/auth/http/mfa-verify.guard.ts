import { type ExecutionContext, Injectable } from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { validationFailed } from '../../common/http/validation.pipe';
import { validateDto } from '../../common/http/validate-dto';
import { DomainError } from '../../common/problem/domain-error';
import { SignInModeQuery } from './auth.dto';
import { MfaVerifyDto } from './mfa.dto';

/** Validates `/mfa/verify` input, then runs the `totp` strategy; a refusal is 401, never 500. */
@Injectable()
export class MfaVerifyGuard extends AuthGuard('totp') {
  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const body = await validateDto(MfaVerifyDto, request.body);
    if (body.code !== undefined && body.recoveryCode !== undefined) {
      throw validationFailed([{ field: 'recoveryCode', message: 'send either code or recoveryCode, not both' }]);
    }
    request.body = body;
    await validateDto(SignInModeQuery, request.query, 'query');
    return (await super.canActivate(context)) as boolean;
  }

  override handleRequest<T>(err: unknown, user: T | false): T {
    if (err instanceof DomainError) throw err;
    if (err || !user) throw new DomainError('invalidCredentials', 'Invalid or expired code');
    return user;
  }
}
