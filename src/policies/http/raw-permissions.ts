import { type CallHandler, createParamDecorator, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Observable } from 'rxjs';

const RAW = Symbol('rawPermissions');
type RequestWithRaw = { body?: unknown; [RAW]?: unknown };

/**
 * Keeps a copy of the body's `permissions` exactly as parsed. The global ValidationPipe strips
 * `constructor`, `prototype` and `__proto__` keys in place (and class-transformer drops keys such
 * as `toString`), so the permission validator would see — and the service save — a rule with a
 * condition silently removed: broader than the one sent. Interceptors run before pipes. The copy is
 * a JSON round trip: lossless for a JSON body, and own `constructor`/`__proto__` keys stay plain data.
 */
@Injectable()
export class RawPermissionsInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<RequestWithRaw>();
    const body = request.body;
    if (body && typeof body === 'object' && !Array.isArray(body) && 'permissions' in body) {
      request[RAW] = JSON.parse(JSON.stringify((body as { permissions: unknown }).permissions) ?? 'null');
    }
    return next.handle();
  }
}

/** The `permissions` of the body as sent (undefined when absent); needs RawPermissionsInterceptor. */
export const RawPermissions = createParamDecorator((_data: unknown, context: ExecutionContext): unknown => {
  return context.switchToHttp().getRequest<RequestWithRaw>()[RAW];
});
