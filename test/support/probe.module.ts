import { EntityManager, RequestContext } from '@mikro-orm/postgresql';
import { Body, Controller, Get, Module, Param, Post } from '@nestjs/common';
import { UuidPipe } from '../../src/common/http/uuid.pipe';
import { IsInt, IsString, MaxLength, Min } from 'class-validator';
import { Public } from '../../src/common/decorators/public.decorator';

class ProbeBody {
  @IsString()
  @MaxLength(10)
  name!: string;

  @IsInt()
  @Min(0)
  count!: number;
}

/**
 * Routes registered only by tests, to prove framework behaviour (deny by default, validation,
 * error shape, request contexts) without stub endpoints in the product.
 */
@Controller('test-probe')
class ProbeController {
  constructor(private readonly em: EntityManager) {}

  @Get('protected')
  protectedRoute(): string {
    return 'should never be reached anonymously';
  }

  @Public()
  @Post('validate')
  validate(@Body() body: ProbeBody): ProbeBody {
    return body;
  }

  @Public()
  @Get('items/:id')
  item(@Param('id', UuidPipe) id: string): { id: string } {
    return { id };
  }

  @Public()
  @Get('boom')
  boom(): never {
    throw new Error('secret internal detail at /srv/app/file.ts SELECT * FROM users');
  }

  /** Which EntityManager fork served this request (after an await, so requests overlap). */
  @Public()
  @Post('em')
  async entityManager(@Body() body: Record<string, unknown>): Promise<{ contextId: number | null; body: unknown }> {
    await this.em.getConnection().execute('SELECT pg_sleep(0.05)');
    const forked = RequestContext.getEntityManager();
    return { contextId: forked ? forked.id : null, body };
  }
}

@Module({ controllers: [ProbeController] })
export class ProbeModule {}
