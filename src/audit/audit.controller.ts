import { Controller, Get, Query } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsISO8601, IsString, IsUUID, Matches, MaxLength } from 'class-validator';
import { MayBeAbsent } from '../common/http/may-be-absent';
import { ListQuery, type Page } from '../common/pagination/pagination';
import { Auth, type AuthContext } from '../policies/auth-context';
import { CheckPolicy } from '../policies/check-policy.decorator';
import { AuditQueryService, type AuditEventView } from './audit-query.service';

/**
 * A calendar date, or a date-time with an explicit offset (RFC 3339). ISO 8601 also allows week
 * and ordinal dates, basic format and offset-less times, which `new Date()` rejects or reads in
 * the server's time zone; those would reach PostgreSQL as an invalid date (500) or mean the wrong instant.
 */
const INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;
const INSTANT_MESSAGE = { message: '$property must be a date (YYYY-MM-DD) or a date-time with Z or an offset' };

class AuditQueryDto extends ListQuery {
  @ApiPropertyOptional({ example: 'auth.login.failed' }) @MayBeAbsent() @IsString() @Matches(/^[a-z._]{1,64}$/) type?: string;
  @ApiPropertyOptional({ format: 'uuid' }) @MayBeAbsent() @IsUUID() actorId?: string;
  @ApiPropertyOptional() @MayBeAbsent() @IsString() @MaxLength(64) targetId?: string;
  @ApiPropertyOptional({ format: 'date-time' }) @MayBeAbsent() @IsISO8601({ strict: true }) @Matches(INSTANT, INSTANT_MESSAGE) since?: string;
  @ApiPropertyOptional({ format: 'date-time' }) @MayBeAbsent() @IsISO8601({ strict: true }) @Matches(INSTANT, INSTANT_MESSAGE) until?: string;
}

class AuditEventResponse {
  @ApiProperty() id!: string;
  @ApiProperty() type!: string;
  @ApiProperty() at!: string;
  @ApiProperty({ nullable: true, type: String }) actorId!: string | null;
  @ApiProperty({ nullable: true, type: String }) targetType!: string | null;
  @ApiProperty({ nullable: true, type: String }) targetId!: string | null;
  @ApiProperty({ nullable: true, type: String }) ip!: string | null;
  @ApiProperty({ nullable: true, type: String }) userAgent!: string | null;
  @ApiProperty({ nullable: true, type: String }) requestId!: string | null;
  @ApiProperty({ enum: ['success', 'failure', 'denied'] }) outcome!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) details!: Record<string, unknown>;
}

class AuditPage {
  @ApiProperty({ type: [AuditEventResponse] }) items!: AuditEventResponse[];
  @ApiProperty() total!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
}

@ApiTags('audit')
@Controller('api/v1/audit-events')
export class AuditController {
  constructor(private readonly events: AuditQueryService) {}

  @Get()
  @CheckPolicy('read', 'AuditEvent')
  @ApiOkResponse({ type: AuditPage })
  list(@Auth() auth: AuthContext, @Query() query: AuditQueryDto): Promise<Page<Partial<AuditEventView>>> {
    return this.events.list(auth, query);
  }
}
