import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiProperty, ApiTags } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, Length } from 'class-validator';
import { UuidPipe } from '../common/http/uuid.pipe';
import { ListQuery, type Page } from '../common/pagination/pagination';
import { Auth, type AuthContext } from '../policies/auth-context';
import { CheckPolicy } from '../policies/check-policy.decorator';
import { DepartmentsService, type DepartmentView } from './departments.service';

class DepartmentDto {
  @ApiProperty({ minLength: 1, maxLength: 100 })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @Length(1, 100)
  name!: string;
}

class DepartmentResponse {
  @ApiProperty() id!: string;
  @ApiProperty() name!: string;
  @ApiProperty() createdAt!: string;
}

class DepartmentPage {
  @ApiProperty({ type: [DepartmentResponse] }) items!: DepartmentResponse[];
  @ApiProperty() total!: number;
  @ApiProperty() limit!: number;
  @ApiProperty() offset!: number;
}

@ApiTags('departments')
@Controller('api/v1/departments')
export class DepartmentsController {
  constructor(private readonly departments: DepartmentsService) {}

  @Get()
  @CheckPolicy('read', 'Department')
  @ApiOkResponse({ type: DepartmentPage })
  list(@Auth() auth: AuthContext, @Query() query: ListQuery): Promise<Page<Partial<DepartmentView>>> {
    return this.departments.list(auth, query);
  }

  @Post()
  @CheckPolicy('create', 'Department')
  @ApiCreatedResponse({ type: DepartmentResponse })
  create(@Auth() auth: AuthContext, @Body() body: DepartmentDto): Promise<DepartmentView> {
    return this.departments.create(auth, body.name);
  }

  @Get(':id')
  @CheckPolicy('read', 'Department')
  @ApiOkResponse({ type: DepartmentResponse })
  get(@Auth() auth: AuthContext, @Param('id', UuidPipe) id: string): Promise<Partial<DepartmentView>> {
    return this.departments.get(auth, id);
  }

  @Patch(':id')
  @CheckPolicy('update', 'Department')
  @ApiOkResponse({ type: DepartmentResponse })
  rename(@Auth() auth: AuthContext, @Param('id', UuidPipe) id: string, @Body() body: DepartmentDto): Promise<DepartmentView> {
    return this.departments.rename(auth, id, body.name);
  }

  @Delete(':id')
  @HttpCode(204)
  @CheckPolicy('delete', 'Department')
  @ApiNoContentResponse({ description: 'Deleted; 409 while it still has documents' })
  remove(@Auth() auth: AuthContext, @Param('id', UuidPipe) id: string): Promise<void> {
    return this.departments.remove(auth, id);
  }
}
