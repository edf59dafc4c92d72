import { Body, Controller, Get, Module, Post } from '@nestjs/common';

export const UNDECLARED_PREFIX = 'test-undeclared';

/** How often a handler of this module ran: a fail-closed route must never get that far. */
export const undeclaredCalls = { count: 0 };

/**
 * Authenticated routes that forget their access rule: neither @CheckPolicy nor @SignedIn (and not
 * @Public). DESIGN.md "Deny by default, twice": the PoliciesGuard must refuse them for everybody,
 * admins included. Registered only by tests, never part of the product.
 */
@Controller(UNDECLARED_PREFIX)
export class UndeclaredController {
  @Get('read')
  read(): { reached: true } {
    undeclaredCalls.count += 1;
    return { reached: true };
  }

  @Post('write')
  write(@Body() body: Record<string, unknown>): { reached: true; body: unknown } {
    undeclaredCalls.count += 1;
    return { reached: true, body };
  }
}

@Module({ controllers: [UndeclaredController] })
export class UndeclaredModule {}
