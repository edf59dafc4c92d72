import { Body, Controller, Get, HttpCode, Post } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsIn, IsString, IsUUID, MaxLength } from 'class-validator';
import { MayBeAbsent } from '../../common/http/may-be-absent';
import { Auth, type AuthContext } from '../auth-context';
import { SignedIn } from '../check-policy.decorator';
import { PolicyCheckService, type CheckResult } from '../policy-check.service';
import { ACTIONS, type Action, SUBJECTS, type SubjectName } from '../policy-schema';

class PolicyCheckDto {
  @ApiProperty({ enum: ACTIONS })
  @IsIn(ACTIONS)
  action!: Action;

  @ApiProperty({ enum: SUBJECTS })
  @IsIn(SUBJECTS)
  subject!: SubjectName;

  @ApiPropertyOptional({ format: 'uuid' })
  @MayBeAbsent()
  @IsUUID()
  id?: string;

  @ApiPropertyOptional()
  @MayBeAbsent()
  @IsString()
  @MaxLength(64)
  field?: string;

  @ApiPropertyOptional({ format: 'uuid', description: 'Check for another user (needs read on Role)' })
  @MayBeAbsent()
  @IsUUID()
  userId?: string;
}

class RulesView {
  @ApiProperty({ type: 'array', items: { type: 'object' }, description: 'Raw CASL rules, placeholders resolved' })
  rules!: unknown[];
}

class CheckView {
  @ApiProperty() allowed!: boolean;
  @ApiPropertyOptional() reason?: string;
}

@ApiTags('policies')
@Controller('api/v1/policies')
export class PoliciesController {
  constructor(private readonly checks: PolicyCheckService) {}

  @Get('me')
  @SignedIn()
  @ApiOkResponse({ type: RulesView, description: "The caller's rules, ready for createMongoAbility in a front end" })
  me(@Auth() auth: AuthContext): { rules: unknown[] } {
    return { rules: auth.ability.rules };
  }

  @Post('check')
  @HttpCode(200)
  @SignedIn()
  @ApiOkResponse({ type: CheckView })
  check(@Auth() auth: AuthContext, @Body() body: PolicyCheckDto): Promise<CheckResult> {
    return this.checks.check(auth, body);
  }
}
