import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { Strategy } from 'passport-local';
import { type PasswordAccount, PasswordLoginService } from '../login/password-login.service';

/** Email + password, validated by the login guard before this runs. */
@Injectable()
export class LocalStrategy extends PassportStrategy(Strategy, 'local') {
  constructor(private readonly logins: PasswordLoginService) {
    super({ usernameField: 'email', passwordField: 'password', session: false });
  }

  validate(email: string, password: string): Promise<PasswordAccount> {
    return this.logins.verify(email, password);
  }
}
