import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import type { FastifyRequest } from 'fastify';
import { Strategy as PassportStrategyBase } from 'passport-strategy';
import { SecondFactorService, type VerifiedSecondStep } from '../mfa/second-factor.service';

type Verify = (request: FastifyRequest, done: (err: unknown, user?: VerifiedSecondStep | false) => void) => void;

class SecondStepStrategy extends PassportStrategyBase {
  constructor(private readonly verify: Verify) {
    super();
  }

  override authenticate(request: unknown): void {
    this.verify(request as FastifyRequest, (err, user) => {
      if (err) return this.error(err as Error);
      if (!user) return this.fail('invalid code', 401);
      this.success(user);
    });
  }
}

/**
 * The second factor as a Passport strategy, beside `local` and `google`: it turns an mfaToken and
 * a TOTP or recovery code (validated by the guard before this runs) into the signed-in user.
 */
@Injectable()
export class TotpStrategy extends PassportStrategy(SecondStepStrategy, 'totp') {
  constructor(private readonly secondFactor: SecondFactorService) {
    super();
  }

  validate(request: FastifyRequest): Promise<VerifiedSecondStep> {
    const body = request.body as { mfaToken: string; code?: string; recoveryCode?: string };
    return this.secondFactor.completeChallenge(body.mfaToken, { code: body.code, recoveryCode: body.recoveryCode });
  }
}
