import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '../../common/decorators/public.decorator';
import { AppConfig } from '../../config/app-config';

/**
 * BRAND_PRIMARY_COLOR as a stylesheet, since the pages allow no inline style. The colour is a
 * validated hex value (config.schema.ts). `:root:not(#brand)` outranks Pico's own `:root:not(…)`.
 */
export function brandCss(color: string): string {
  return `:root:not(#brand) {
  --pico-primary: ${color};
  --pico-primary-background: ${color};
  --pico-primary-border: ${color};
  --pico-primary-underline: color-mix(in srgb, ${color} 50%, transparent);
  --pico-primary-hover: color-mix(in srgb, ${color} 80%, black);
  --pico-primary-hover-background: color-mix(in srgb, ${color} 80%, black);
  --pico-primary-hover-border: color-mix(in srgb, ${color} 80%, black);
  --pico-primary-focus: color-mix(in srgb, ${color} 40%, transparent);
  --pico-primary-inverse: #fff;
}
`;
}

@ApiExcludeController()
@Public()
@Controller('assets')
export class BrandCssController {
  private readonly css: string;

  constructor(@Inject(AppConfig) config: AppConfig) {
    this.css = brandCss(config.pages.brand.primaryColor);
  }

  @Get('brand.css')
  @Header('content-type', 'text/css; charset=utf-8')
  @Header('cache-control', 'public, max-age=3600')
  stylesheet(): string {
    return this.css;
  }
}
