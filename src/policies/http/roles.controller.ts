import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, UseInterceptors } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { IsArray, IsBoolean, IsString, Length, Matches, MaxLength } from 'class-validator';
import { MayBeAbsent } from '../../common/http/may-be-absent';
import { UuidPipe } from '../../common/http/uuid.pipe';
import { Auth, type AuthContext } from '../auth-context';
import { CheckPolicy } from '../check-policy.decorator';
import { RolesService, type RoleView } from '../roles.service';
import { RawPermissions, RawPermissionsInterceptor } from './raw-permissions';

const PERMISSIONS_DOC = {
  description: 'CASL raw rules: {action, subject, conditions?, fields?, inverted?, reason?} (validated); each granting rule must be one the caller holds, unless it may escalate on Role',
  type: 'array',
  items: { type: 'object' },
} as const;

class CreateRoleDto {
  @ApiProperty({ pattern: '^[a-z][a-z0-9_-]{1,63}$' })
  @IsString()
  @Matches(/^[a-z][a-z0-9_-]{1,63}$/, { message: 'must be 2–64 lower-case letters, digits, _ or -, starting with a letter' })
  name!: string;

  @ApiPropertyOptional({ maxLength: 500 })
  @MayBeAbsent()
  @IsString()
  @MaxLength(500)
  description?: string;

  @ApiProperty(PERMISSIONS_DOC)
  @IsArray()
  permissions!: unknown[];

  @ApiPropertyOptional()
  @MayBeAbsent()
  @IsBoolean()
  requireMfa?: boolean;
}

class UpdateRoleDto {
  @ApiPropertyOptional()
  @MayBeAbsent()
  @IsString()
  @Matches(/^[a-z][a-z0-9_-]{1,63}$/, { message: 'must be 2–64 lower-case letters, digits, _ or -, starting with a letter' })
  name?: string;

  @ApiPropertyOptional({ maxLength: 500 })
  @MayBeAbsent()
  @IsString()
  @Length(0, 500)
  description?: string;

  @ApiPropertyOptional(PERMISSIONS_DOC)
  @MayBeAbsent()
  @IsArray()
  permissions?: unknown[];

  @ApiPropertyOptional()
  @MayBeAbsent()
  @IsBoolean()
  requireMfa?: boolean;
}

class RoleResponse {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() description!: string;
  @ApiProperty(PERMISSIONS_DOC) permissions!: unknown[];
  @ApiProperty() requireMfa!: boolean;
  @ApiProperty() builtIn!: boolean;
}

@ApiTags('policies')
@Controller('api/v1/roles')
@UseInterceptors(RawPermissionsInterceptor)
export class RolesController {
  constructor(private readonly roles: RolesService) {}

  @Get()
  @CheckPolicy('read', 'Role')
  @ApiOkResponse({ type: [RoleResponse] })
  list(@Auth() auth: AuthContext): Promise<RoleView[]> {
    return this.roles.list(auth);
  }

  @Post()
  @CheckPolicy('create', 'Role')
  @ApiCreatedResponse({ type: RoleResponse })
  create(@Auth() auth: AuthContext, @Body() body: CreateRoleDto, @RawPermissions() permissions: unknown): Promise<RoleView> {
    return this.roles.create(auth, { ...body, permissions });
  }

  @Get(':id')
  @CheckPolicy('read', 'Role')
  @ApiOkResponse({ type: RoleResponse })
  get(@Auth() auth: AuthContext, @Param('id', UuidPipe) id: string): Promise<RoleView> {
    return this.roles.get(auth, id);
  }

  @Patch(':id')
  @CheckPolicy('update', 'Role')
  @ApiOkResponse({ type: RoleResponse })
  update(@Auth() auth: AuthContext, @Param('id', UuidPipe) id: string, @Body() body: UpdateRoleDto, @RawPermissions() permissions: unknown): Promise<RoleView> {
    return this.roles.update(auth, id, { ...body, permissions });
  }

  @Delete(':id')
  @HttpCode(204)
  @CheckPolicy('delete', 'Role')
  @ApiNoContentResponse({ description: 'Deleted; built-in roles answer 409' })
  remove(@Auth() auth: AuthContext, @Param('id', UuidPipe) id: string): Promise<void> {
    return this.roles.remove(auth, id);
  }
}
