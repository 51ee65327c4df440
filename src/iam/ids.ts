import { randomBytes, randomUUID } from 'node:crypto';

/** Identifier formats, shaped like IBM Cloud's so clients that parse them keep working. */
export const ids = {
  /** 32 lowercase hex characters, like an IBM `bss` account id. */
  account: () => randomBytes(16).toString('hex'),
  /** Users live in Berth's own realm, `BERTHid`, as IBM's live in `IBMid`. */
  user: () => `BERTHid-${randomBytes(6).toString('hex').toUpperCase()}`,
  serviceId: () => {
    const uuid = randomUUID();
    return { id: `ServiceId-${uuid}`, iamId: `iam-ServiceId-${uuid}` };
  },
  apiKey: () => `ApiKey-${randomUUID()}`,
};

export const USER_REALM = 'BERTHid';

export function apiKeyCrn(accountId: string, id: string): string {
  return `crn:v1:berth:public:iam-identity::a/${accountId}::apikey:${id}`;
}

export function serviceIdCrn(accountId: string, id: string): string {
  return `crn:v1:berth:public:iam-identity::a/${accountId}::serviceid:${id}`;
}
