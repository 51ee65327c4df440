import type { Kysely } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import type { Dialect } from '../db/database.js';
import type { Database } from '../db/schema.js';
import type { Clock } from '../registry/clock.js';
import type { ServerSecret } from './server-secret.js';

/** What the IAM services work with; built once per app, passed explicitly. */
export interface IamContext {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Where IAM changes are recorded, in their own transactions; absent, nothing is. */
  audit?: AuditLog;
  secret: ServerSecret;
  clock: Clock;
  /** `iss` of access tokens: this service's base URL plus `/identity`. */
  issuer: string;
}
