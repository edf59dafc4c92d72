import { loadConfigFromProcessEnv } from '../config/app-config';
import { ormOptions } from './orm-options';

/** Entry point of the MikroORM CLI (`npm run migrate`, `npx mikro-orm migration:create`). */
const config = loadConfigFromProcessEnv();
if (!config.database.url) {
  throw new Error('DATABASE_URL must be set for the MikroORM CLI');
}
export default ormOptions(config.database.url, { pool: { min: 0, max: 2 } });
