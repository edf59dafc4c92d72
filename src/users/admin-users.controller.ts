import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsEmail, IsIn, IsString, IsUUID, Length, Matches, MaxLength } from 'class-validator';
import { MayBeAbsent, MayBeAbsentOrNull } from '../common/http/may-be-absent';
import { PASSWORD_INPUT_MAX, SessionView } from '../auth/http/auth.dto';
import { UuidPipe } from '../common/http/uuid.pipe';
import { ListQuery, type Page } from '../common/pagination/pagination';
import { Auth, type AuthContext } from '../policies/auth-context';
import { CheckPolicy } from '../policies/check-policy.decorator';
import { AdminUsersService } from './admin-users.service';
import { UserStatus } from './user.entity';
import { UserView } from './user.view';

const ROLE_NAME = /^[a-z][a-z0-9_-]{1,63}$/;
const trim = ({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value);

class UserListQueryDto extends ListQuery {
  @ApiPropertyOptional({ description: 'Search in email and display name' })
  @MayBeAbsent()
  @IsString()
  @MaxLength(100)
  q?: string;

  @ApiPropertyOptional({ enum: UserStatus })
  @MayBeAbsent()
  @IsIn(Object.values(UserStatus))
  status?: UserStatus;

  @ApiPropertyOptional()
  @MayBeAbsent()
  @Matches(ROLE_NAME)
  role?: string;
}

class CreateUserDto {
  @ApiProperty()
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim().toLowerCase() : value))
  @IsEmail({}, { message: 'must be an email address' })
  @MaxLength(254)
  email!: string;

  @ApiProperty({ minLength: 1, maxLength: 100 })
  @Transform(trim)
  @IsString()
  @Length(1, 100)
  displayName!: string;

  @ApiPropertyOptional({ type: [String], description: 'Needs assign on each role; omitted → viewer (no assign needed)' })
  @MayBeAbsent()
  @IsArray()
  @ArrayMaxSize(20)
  @Matches(ROLE_NAME, { each: true })
  roles?: string[];

  @ApiPropertyOptional({ format: 'uuid', nullable: true, type: String })
  @MayBeAbsentOrNull()
  @IsUUID()
  departmentId?: string | null;

  @ApiPropertyOptional({ description: 'Without one, the user gets a set-password mail' })
  @MayBeAbsent()
  @IsString()
  @Length(1, PASSWORD_INPUT_MAX)
  password?: string;
}

class UpdateUserDto {
  @ApiPropertyOptional({ minLength: 1, maxLength: 100 })
  @MayBeAbsent()
  @Transform(trim)
  @IsString()
  @Length(1, 100)
  displayName?: string;

  @ApiPropertyOptional({ type: [String], description: 'Needs update on field roles and assign on each role given or taken away' })
  @MayBeAbsent()
  @IsArray()
  @ArrayMaxSize(20)
  @Matches(ROLE_NAME, { each: true })
  roles?: string[];

  @ApiPropertyOptional({ format: 'uuid', nullable: true, type: String })
  @MayBeAbsentOrNull()
  @IsUUID()
  departmentId?: string | null;

  @ApiPropertyOptional({ enum: UserStatus, description: 'disabled ends every session' })
  @MayBeAbsent()
  @IsIn(Object.values(UserStatus))
  status?: UserStatus;
}

class UserPage {
  @ApiProperty({ type: [UserView] }) items!: UserView[];
  @ApiProperty() total!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
}

@ApiTags('users')
@Controller('api/v1/users')
export class AdminUsersController {
  constructor(private readonly users: AdminUsersService) {}

  @Get()
  @CheckPolicy('read', 'User')
  @ApiOkResponse({ type: UserPage })
  list(@Auth() auth: AuthContext, @Query() query: UserListQueryDto): Promise<Page<Partial<UserView>>> {
    return this.users.list(auth, query);
  }

  @Post()
  @CheckPolicy('create', 'User')
  @ApiCreatedResponse({ type: UserView })
  create(@Auth() auth: AuthContext, @Body() body: CreateUserDto): Promise<Partial<UserView>> {
    return this.users.create(auth, body);
  }

  @Get(':id')
  @CheckPolicy('read', 'User')
  @ApiOkResponse({ type: UserView })
  get(@Auth() auth: AuthContext, @Param('id', UuidPipe) id: string): Promise<Partial<UserView>> {
    return this.users.get(auth, id);
  }

  @Patch(':id')
  @CheckPolicy('update', 'User')
  @ApiOkResponse({ type: UserView })
  update(@Auth() auth: AuthContext, @Param('id', UuidPipe) id: string, @Body() body: UpdateUserDto): Promise<Partial<UserView>> {
    return this.users.update(auth, id, body);
  }

  @Delete(':id')
  @HttpCode(204)
  @CheckPolicy('delete', 'User')
  @ApiNoContentResponse({ description: 'Soft-deleted; every session ended' })
  remove(@Auth() auth: AuthContext, @Param('id', UuidPipe) id: string): Promise<void> {
    return this.users.remove(auth, id);
  }

  @Post(':id/unlock')
  @HttpCode(204)
  @CheckPolicy('update', 'User')
  @ApiNoContentResponse({ description: 'Lockout cleared (needs update on field status)' })
  unlock(@Auth() auth: AuthContext, @Param('id', UuidPipe) id: string): Promise<void> {
    return this.users.unlock(auth, id);
  }

  @Post(':id/mfa/reset')
  @HttpCode(204)
  @CheckPolicy('update', 'User')
  @ApiNoContentResponse({ description: "Removes the user's TOTP and recovery codes (lost phone) and ends their sessions (needs update on field mfaEnabled)" })
  resetMfa(@Auth() auth: AuthContext, @Param('id', UuidPipe) id: string): Promise<void> {
    return this.users.resetMfa(auth, id);
  }

  @Get(':id/sessions')
  @CheckPolicy('read', 'Session')
  @ApiOkResponse({ type: [SessionView] })
  listSessions(@Auth() auth: AuthContext, @Param('id', UuidPipe) id: string): Promise<SessionView[]> {
    return this.users.sessionsOf(auth, id);
  }

  @Delete(':id/sessions/:sid')
  @HttpCode(204)
  @CheckPolicy('delete', 'Session')
  @ApiNoContentResponse({ description: "Ends another user's session" })
  endSession(@Auth() auth: AuthContext, @Param('id', UuidPipe) id: string, @Param('sid', UuidPipe) sid: string): Promise<void> {
    return this.users.endSessionOf(auth, id, sid);
  }
}
