import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

export const BEARER_AUTH = 'bearer';
export const COOKIE_AUTH = 'cookie';

/** Serves Swagger UI at /docs and the OpenAPI 3 document at /docs-json. */
export function setupOpenApi(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Bastion')
    .setDescription(
      'Authentication and authorization for internal apps. Errors are RFC 9457 problem details ' +
        '(application/problem+json). Every route needs credentials unless documented without security.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, BEARER_AUTH)
    .addCookieAuth('__Host-sid', { type: 'apiKey', in: 'cookie', name: '__Host-sid' }, COOKIE_AUTH)
    .build();
  const document = SwaggerModule.createDocument(app, config);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json', yamlDocumentUrl: 'docs-yaml' });
}
