import { type ArgumentMetadata, Injectable, type PipeTransform } from '@nestjs/common';
import { validationFailed } from '../../common/http/validation.pipe';
import { isCredentialId } from './client-data';

/** Passkey path ids are credential IDs (base64url); anything else is a 400 naming the parameter. */
@Injectable()
export class PasskeyIdPipe implements PipeTransform<unknown, string> {
  transform(value: unknown, metadata: ArgumentMetadata): string {
    if (!isCredentialId(value)) throw validationFailed([{ field: metadata.data ?? 'id', message: 'must be a base64url credential ID' }]);
    return value;
  }
}
