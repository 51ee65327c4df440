import type { ApiKeyRecord } from '../../iam/api-keys.js';
import { entityTag } from '../../iam/entity-tag.js';
import type { HistoryEntry } from '../../iam/history.js';
import { apiKeyCrn, serviceIdCrn } from '../../iam/ids.js';
import type { ServiceIdRecord } from '../../iam/service-ids.js';

/** IBM's identity timestamps: minute precision, `yyyy-MM-ddTHH:mm+0000`. */
export function identityTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16)}+0000`;
}

/** What a read may add to an entity: `include_history` and `include_activity`. */
export interface ViewExtras {
  history?: HistoryEntry[];
  activity?: boolean;
}

function historyView(history: HistoryEntry[]) {
  return history.map((entry) => ({
    timestamp: identityTime(entry.timestamp),
    iam_id: entry.iamId,
    iam_id_account: entry.iamIdAccount,
    action: entry.action,
    params: entry.params,
    message: entry.message,
  }));
}

/** An API key as the Identity API shows it; `secret` only in the answer to its creation. */
export function apiKeyView(record: ApiKeyRecord, options: ViewExtras & { secret?: string } = {}) {
  return {
    id: record.id,
    entity_tag: entityTag(record.id, record.version),
    crn: apiKeyCrn(record.account_id, record.id),
    locked: record.locked === 1,
    disabled: record.disabled === 1,
    created_at: identityTime(record.created_at),
    created_by: record.created_by,
    modified_at: identityTime(record.modified_at),
    name: record.name,
    ...(record.description !== null ? { description: record.description } : {}),
    iam_id: record.iam_id,
    account_id: record.account_id,
    support_sessions: record.support_sessions === 1,
    // Recorded as asked; Berth itself does no leak scanning.
    action_when_leaked: record.action_when_leaked,
    ...(record.expires_at !== null ? { expires_at: identityTime(record.expires_at) } : {}),
    ...(options.secret !== undefined ? { apikey: options.secret } : {}),
    ...(options.history ? { history: historyView(options.history) } : {}),
    ...(options.activity
      ? { activity: { ...(record.last_authn_at !== null ? { last_authn: identityTime(record.last_authn_at) } : {}), authn_count: record.authn_count } }
      : {}),
  };
}

export function serviceIdView(record: ServiceIdRecord, options: ViewExtras & { apiKey?: { record: ApiKeyRecord; secret: string } } = {}) {
  const { apiKey } = options;
  return {
    id: record.id,
    iam_id: record.iam_id,
    entity_tag: entityTag(record.id, record.version),
    crn: serviceIdCrn(record.account_id, record.id),
    locked: record.locked === 1,
    created_at: identityTime(record.created_at),
    created_by: record.created_by,
    modified_at: identityTime(record.modified_at),
    account_id: record.account_id,
    name: record.name,
    ...(record.description !== null ? { description: record.description } : {}),
    unique_instance_crns: JSON.parse(record.unique_instance_crns) as string[],
    ...(options.history ? { history: historyView(options.history) } : {}),
    ...(apiKey ? { apikey: apiKeyView(apiKey.record, { secret: apiKey.secret }) } : {}),
  };
}
