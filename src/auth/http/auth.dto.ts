import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsEmail, IsIn, IsString, Length, MaxLength } from 'class-validator';
import { MayBeAbsent } from '../../common/http/may-be-absent';

// Long enough for any 128-code-point password after NFKC; far below what would make Argon2 costly.
export const PASSWORD_INPUT_MAX = 512;
const normaliseEmail = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value);

export class EmailDto {
  @ApiProperty({ example: 'ada@example.com', maxLength: 254 })
  @Transform(normaliseEmail)
  @IsEmail({}, { message: 'must be an email address' })
  @MaxLength(254)
  email!: string;
}

export class LoginDto extends EmailDto {
  @ApiProperty({ maxLength: PASSWORD_INPUT_MAX })
  @IsString()
  @Length(1, PASSWORD_INPUT_MAX)
  password!: string;
}

export class RegisterDto extends LoginDto {
  @ApiProperty({ minLength: 1, maxLength: 100 })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @Length(1, 100)
  displayName!: string;
}

export class SignInModeQuery {
  @ApiPropertyOptional({ enum: ['bearer', 'cookie'], description: 'cookie: set the __Host-sid browser session cookie instead of returning tokens' })
  @MayBeAbsent()
  @IsIn(['bearer', 'cookie'])
  mode?: 'bearer' | 'cookie';
}

export class LinkTokenDto {
  @ApiProperty({ description: 'The token= value from the mailed link' })
  @IsString()
  @Length(1, 256)
  token!: string;
}

export class ResetPasswordDto extends LinkTokenDto {
  @ApiProperty({ maxLength: PASSWORD_INPUT_MAX })
  @IsString()
  @Length(1, PASSWORD_INPUT_MAX)
  newPassword!: string;
}

export class RefreshDto {
  @ApiPropertyOptional({ description: 'Omit in cookie mode: the __Host-sid cookie is rotated instead' })
  @MayBeAbsent()
  @IsString()
  @Length(1, 256)
  refreshToken?: string;
}

export class TokenPairView {
  @ApiProperty() accessToken!: string;
  @ApiProperty() refreshToken!: string;
  @ApiProperty({ enum: ['Bearer'] }) tokenType!: 'Bearer';
  @ApiProperty({ description: 'Seconds until the access token expires' }) expiresIn!: number;
}

export class CookieSessionView {
  @ApiProperty({ description: 'Send as X-CSRF-Token on POST/PUT/PATCH/DELETE' }) csrfToken!: string;
  @ApiProperty({ description: "Seconds until the session's idle timeout" }) expiresIn!: number;
}

export class MessageView {
  @ApiProperty() message!: string;
}

export class WhoAmIView {
  @ApiProperty() userId!: string;
  @ApiProperty() sessionId!: string;
  @ApiProperty({ type: [String] }) amr!: string[];
  @ApiProperty({ type: [String] }) roles!: string[];
  @ApiProperty({ nullable: true, type: String }) departmentId!: string | null;
  @ApiProperty({ description: 'When the presented credential expires (ISO 8601)' }) expiresAt!: string;
}

export class SessionView {
  @ApiProperty() id!: string;
  @ApiProperty() createdAt!: string;
  @ApiProperty() lastUsedAt!: string;
  @ApiProperty({ nullable: true, type: String }) ip!: string | null;
  @ApiProperty({ nullable: true, type: String }) userAgent!: string | null;
  @ApiProperty({ type: [String] }) amr!: string[];
  @ApiProperty() current!: boolean;
}

export class CsrfView {
  @ApiProperty() csrfToken!: string;
}
