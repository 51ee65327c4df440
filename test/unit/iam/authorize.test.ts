import { describe, expect, it } from 'vitest';
import { decide, grantedActions, type Policy, type PolicyAttribute, type Resource, type Subject } from '../../../src/iam/authorize.js';

// Tables spell roles, CRNs and actions out literally instead of importing roles.ts, so a wrong
// entry there fails here rather than being copied into the expectation.
const CRN = {
  Reader: 'crn:v1:bluemix:public:iam::::serviceRole:Reader',
  Writer: 'crn:v1:bluemix:public:iam::::serviceRole:Writer',
  Manager: 'crn:v1:bluemix:public:iam::::serviceRole:Manager',
  Viewer: 'crn:v1:bluemix:public:iam::::role:Viewer',
  Operator: 'crn:v1:bluemix:public:iam::::role:Operator',
  Editor: 'crn:v1:bluemix:public:iam::::role:Editor',
  Administrator: 'crn:v1:bluemix:public:iam::::role:Administrator',
} as const;
type Role = keyof typeof CRN;

const A = 'acct-a';
const B = 'acct-b';
const ALICE: Subject = { iamId: 'iam-ServiceId-alice', accountId: A, isAccountOwner: false };
const CR = 'container-registry';

interface Scope {
  account?: string;
  service?: string;
  region?: string;
  namespace?: string;
  extra?: PolicyAttribute[];
}

function attrs(scope: Scope): PolicyAttribute[] {
  const list: PolicyAttribute[] = [
    { name: 'accountId', value: scope.account ?? A },
    { name: 'serviceName', value: scope.service ?? CR },
  ];
  if (scope.region) list.push({ name: 'region', value: scope.region });
  if (scope.namespace) list.push({ name: 'resourceType', value: 'namespace' }, { name: 'resource', value: scope.namespace });
  return [...list, ...(scope.extra ?? [])];
}

function policy(roles: Array<Role | string>, scope: Scope = {}, id = 'p1'): Policy {
  const roleCrns = roles.map((role) => (role in CRN ? CRN[role as Role] : role));
  return { id, subjectIamIds: [ALICE.iamId], roleCrns, resources: [{ attributes: attrs(scope) }] };
}

/** A registry resource: service-level without a namespace, namespace-level with one. */
function on(namespace?: string, region = 'us-south', account = A, service = CR): Resource {
  const resource: Resource = { accountId: account, serviceName: service, region };
  return namespace ? { ...resource, resourceType: 'namespace', resource: namespace } : resource;
}

const allowed = (action: string, resource: Resource, policies: Policy[], subject = ALICE) =>
  decide({ subject, action, resource }, policies).allowed;

describe('decide: each role grants exactly the Container Registry actions of §3.7', () => {
  // action                          Reader Writer Manager
  const table: Array<[string, boolean, boolean, boolean]> = [
    ['image.pull',                    true,  true,  true],
    ['image.push',                    false, true,  true],
    ['image.delete',                  false, true,  true],
    ['image.list',                    true,  false, true],
    ['image.inspect',                 true,  false, true],
    ['image.vulnerabilities',         true,  false, true],
    ['namespace.list',                true,  false, true],
    ['namespace.create',              false, false, true],
    ['namespace.delete',              false, false, true],
    ['quota.get',                     true,  true,  true],
    ['quota.set',                     false, false, true],
    ['plan.get',                      false, false, true],
    ['plan.set',                      false, false, true],
    ['auth.get',                      true,  true,  true],
    ['auth.set',                      false, false, true],
    ['settings.get',                  true,  true,  true],
    ['settings.set',                  false, false, true],
    ['retention.analyze',             true,  false, true],
    ['retention.get',                 true,  false, true],
    ['retention.list',                true,  false, true],
    ['retention.set',                 false, true,  true],
    ['exemption.list',                true,  false, true],
    ['exemption.manager',             false, false, true],
    ['config.read',                   false, false, false],
  ];
  const rows = table.flatMap(([action, reader, writer, manager]) =>
    (
      [
        ['Reader', reader],
        ['Writer', writer],
        ['Manager', manager],
        // §3.7: no registry action is mapped to a platform role, Administrator included.
        ['Viewer', false],
        ['Operator', false],
        ['Editor', false],
        ['Administrator', false],
      ] as const
    ).map(([role, expected]) => ({ role, action: `container-registry.${action}`, expected })),
  );

  it.each(rows)('$role → $action: $expected', ({ role, action, expected }) => {
    expect(allowed(action, on(), [policy([role])])).toBe(expected);
  });
});

describe('decide: service-wide versus namespace scope (§3.8)', () => {
  const rows: Array<{ case: string; policy: Policy; action: string; resource: Resource; expected: boolean }> = [
    { case: 'service-wide Writer pushes to any namespace', policy: policy(['Writer']), action: 'container-registry.image.push', resource: on('team-b'), expected: true },
    { case: 'service-wide Manager creates a namespace', policy: policy(['Manager']), action: 'container-registry.namespace.create', resource: on(), expected: true },
    { case: 'namespace Manager cannot create namespaces', policy: policy(['Manager'], { namespace: 'team-a' }), action: 'container-registry.namespace.create', resource: on(), expected: false },
    { case: 'namespace Manager cannot set quota', policy: policy(['Manager'], { namespace: 'team-a' }), action: 'container-registry.quota.set', resource: on(), expected: false },
    { case: 'namespace Writer pushes to its namespace', policy: policy(['Writer'], { namespace: 'team-a' }), action: 'container-registry.image.push', resource: on('team-a'), expected: true },
    { case: 'namespace Writer cannot push to another', policy: policy(['Writer'], { namespace: 'team-a' }), action: 'container-registry.image.push', resource: on('team-b'), expected: false },
    { case: 'namespace Writer has no service-level push', policy: policy(['Writer'], { namespace: 'team-a' }), action: 'container-registry.image.push', resource: on(), expected: false },
    { case: 'namespace prefix is not the namespace', policy: policy(['Writer'], { namespace: 'team' }), action: 'container-registry.image.push', resource: on('team-a'), expected: false },
  ];
  it.each(rows)('$case: $expected', ({ policy: p, action, resource, expected }) => {
    expect(allowed(action, resource, [p])).toBe(expected);
  });
});

describe('decide: regions (§3.8: empty region = all regions)', () => {
  const push = 'container-registry.image.push';
  const rows: Array<{ case: string; policyRegion?: string; requestRegion?: string; expected: boolean }> = [
    { case: 'no region, request us-south', requestRegion: 'us-south', expected: true },
    { case: 'no region, request eu-de', requestRegion: 'eu-de', expected: true },
    { case: 'no region, request without region', requestRegion: undefined, expected: true },
    { case: 'us-south, request us-south', policyRegion: 'us-south', requestRegion: 'us-south', expected: true },
    { case: 'us-south, request eu-de', policyRegion: 'us-south', requestRegion: 'eu-de', expected: false },
    { case: 'us-south, request without region', policyRegion: 'us-south', requestRegion: undefined, expected: false },
  ];
  it.each(rows)('policy $case: $expected', ({ policyRegion, requestRegion, expected }) => {
    for (const namespace of [undefined, 'team-a']) {
      const resource: Resource = { ...on(namespace), region: requestRegion };
      if (requestRegion === undefined) delete resource.region;
      expect(allowed(push, resource, [policy(['Writer'], { region: policyRegion, namespace })])).toBe(expected);
    }
  });
});

describe('decide: accounts are never crossed', () => {
  const pull = 'container-registry.image.pull';
  const owner: Subject = { ...ALICE, isAccountOwner: true };
  const inB: Subject = { ...ALICE, accountId: B };
  const rows: Array<{ case: string; subject: Subject; policies: Policy[]; resource: Resource; expected: boolean }> = [
    { case: 'same account, matching policy', subject: ALICE, policies: [policy(['Reader'])], resource: on('ns'), expected: true },
    { case: 'same account, no policy', subject: ALICE, policies: [], resource: on('ns'), expected: false },
    { case: 'resource in other account, policy names it', subject: ALICE, policies: [policy(['Reader'], { account: B })], resource: on('ns', 'us-south', B), expected: false },
    { case: 'resource in other account, policy names ours', subject: ALICE, policies: [policy(['Reader'])], resource: on('ns', 'us-south', B), expected: false },
    { case: 'policy of another account in ours', subject: inB, policies: [policy(['Reader'], { account: A })], resource: on('ns', 'us-south', B), expected: false },
    { case: 'owner, no policy, own account', subject: owner, policies: [], resource: on('ns'), expected: true },
    { case: 'owner, other account', subject: owner, policies: [policy(['Manager'], { account: B })], resource: on('ns', 'us-south', B), expected: false },
  ];
  it.each(rows)('$case: $expected', ({ subject, policies, resource, expected }) => {
    expect(allowed(pull, resource, policies, subject)).toBe(expected);
  });

  it('the owner may do anything in the account, IAM administration included', () => {
    for (const action of ['container-registry.namespace.delete', 'iam-identity.apikey.create', 'iam-access-management.policy.create']) {
      const service = action.split('.')[0]!;
      const decision = decide({ subject: owner, action, resource: { accountId: A, serviceName: service } }, []);
      expect(decision).toEqual({ allowed: true, reason: expect.stringContaining('owns account') });
    }
  });
});

describe('decide: several policies and roles add up', () => {
  const readerEverywhere = policy(['Reader'], {}, 'reader');
  const writerInA = policy(['Writer'], { namespace: 'team-a' }, 'writer');
  const twoScopes: Policy = {
    ...policy(['Writer'], {}, 'two'),
    resources: [{ attributes: attrs({ namespace: 'team-a' }) }, { attributes: attrs({ namespace: 'team-b' }) }],
  };
  const rows: Array<{ case: string; policies: Policy[]; action: string; resource: Resource; expected: boolean }> = [
    { case: 'Reader everywhere + Writer in team-a: push team-a', policies: [readerEverywhere, writerInA], action: 'container-registry.image.push', resource: on('team-a'), expected: true },
    { case: 'Reader everywhere + Writer in team-a: push team-b', policies: [readerEverywhere, writerInA], action: 'container-registry.image.push', resource: on('team-b'), expected: false },
    { case: 'Reader everywhere + Writer in team-a: list team-b', policies: [readerEverywhere, writerInA], action: 'container-registry.image.list', resource: on('team-b'), expected: true },
    { case: 'Writer + Reader in team-a: inspect team-a', policies: [writerInA, policy(['Reader'], { namespace: 'team-a' }, 'r')], action: 'container-registry.image.inspect', resource: on('team-a'), expected: true },
    { case: 'one policy, two namespaces: second one', policies: [twoScopes], action: 'container-registry.image.push', resource: on('team-b'), expected: true },
    { case: 'one policy, two namespaces: a third', policies: [twoScopes], action: 'container-registry.image.push', resource: on('team-c'), expected: false },
    { case: 'unknown role beside Writer', policies: [policy(['crn:v1:bluemix:public:iam::::serviceRole:Owner', 'Writer'])], action: 'container-registry.image.push', resource: on('ns'), expected: true },
    { case: 'only unknown and custom roles', policies: [policy(['crn:v1:bluemix:public:iam::::serviceRole:Owner', `crn:v1:bluemix:public:iam::${A}::customRole:Pusher`])], action: 'container-registry.image.push', resource: on('ns'), expected: false },
    { case: "someone else's policy", policies: [{ ...policy(['Manager']), subjectIamIds: ['iam-ServiceId-bob'] }], action: 'container-registry.image.pull', resource: on('ns'), expected: false },
  ];
  it.each(rows)('$case: $expected', ({ policies, action, resource, expected }) => {
    expect(allowed(action, resource, policies)).toBe(expected);
  });

  it('names the granting policy and role in the reason', () => {
    const decision = decide({ subject: ALICE, action: 'container-registry.image.push', resource: on('team-a') }, [readerEverywhere, writerInA]);
    expect(decision).toEqual({ allowed: true, reason: 'policy writer grants container-registry.image.push through Writer' });
  });
});

describe('decide: names are compared as IBM compares them (case-sensitive, unknowns grant nothing)', () => {
  const push = 'container-registry.image.push';
  const rows: Array<{ case: string; policy: Policy; action?: string; resource?: Resource; expected: boolean }> = [
    { case: 'namespace Team-A does not cover team-a', policy: policy(['Writer'], { namespace: 'Team-A' }), expected: false },
    { case: 'lowercase role CRN is unknown', policy: policy(['crn:v1:bluemix:public:iam::::serviceRole:writer']), expected: false },
    { case: 'Container-Registry is another service', policy: policy(['Writer'], { service: 'Container-Registry' }), expected: false },
    { case: 'action names are case-sensitive', policy: policy(['Writer']), action: 'container-registry.Image.Push', expected: false },
    { case: 'attribute name AccountId is not accountId', policy: { ...policy(['Writer']), resources: [{ attributes: [{ name: 'AccountId', value: A }, { name: 'serviceName', value: CR }] }] }, expected: false },
    { case: 'Registry-docs CRN form is accepted', policy: policy(['crn:v1:bluemix:public:container-registry::::serviceRole:Writer']), expected: true },
    { case: "another service's CRN form is not", policy: policy(['crn:v1:bluemix:public:iam-identity::::serviceRole:Writer']), expected: false },
    { case: 'policy without accountId', policy: { ...policy(['Writer']), resources: [{ attributes: [{ name: 'serviceName', value: CR }] }] }, expected: false },
    { case: 'policy with accountId only', policy: { ...policy(['Writer']), resources: [{ attributes: [{ name: 'accountId', value: A }] }] }, expected: false },
    { case: 'serviceType=service covers container-registry', policy: { ...policy(['Writer']), resources: [{ attributes: [{ name: 'accountId', value: A }, { name: 'serviceType', value: 'service' }] }] }, expected: true },
    { case: 'serviceType=platform_service does not', policy: { ...policy(['Writer']), resources: [{ attributes: [{ name: 'accountId', value: A }, { name: 'serviceType', value: 'platform_service' }] }] }, expected: false },
    { case: 'serviceName with a contradicting serviceType', policy: policy(['Writer'], { extra: [{ name: 'serviceType', value: 'platform_service' }] }), expected: false },
    { case: 'a scope with access tags (not evaluated)', policy: { ...policy(['Writer']), resources: [{ attributes: attrs({}), tags: [{ name: 'env', value: 'dev' }] }] }, expected: false },
    { case: 'a scope with an empty tag list', policy: { ...policy(['Writer']), resources: [{ attributes: attrs({}), tags: [] }] }, expected: true },
    { case: 'serviceInstance is not understood', policy: policy(['Writer'], { extra: [{ name: 'serviceInstance', value: 'x' }] }), expected: false },
    { case: 'geography=global is not understood', policy: policy(['Writer'], { extra: [{ name: 'geography', value: 'global' }] }), expected: false },
  ];
  it.each(rows)('$case: $expected', ({ policy: p, action, resource, expected }) => {
    expect(allowed(action ?? push, resource ?? on('team-a'), [p])).toBe(expected);
  });

  const matchRows: Array<{ case: string; pattern: string; operator: string; namespace: string; expected: boolean }> = [
    { case: 'stringMatch * spans characters', pattern: 'team-*', operator: 'stringMatch', namespace: 'team-abc', expected: true },
    { case: 'stringMatch ? is one character', pattern: 'team-?', operator: 'stringMatch', namespace: 'team-ab', expected: false },
    { case: 'stringMatch is anchored', pattern: 'team', operator: 'stringMatch', namespace: 'my-team', expected: false },
    { case: 'stringMatch treats . literally', pattern: 'a.b', operator: 'stringMatch', namespace: 'axb', expected: false },
    { case: 'stringEquals has no wildcards', pattern: 'team-*', operator: 'stringEquals', namespace: 'team-a', expected: false },
    { case: 'unknown operator grants nothing', pattern: 'team-a', operator: 'stringExists', namespace: 'team-a', expected: false },
  ];
  it.each(matchRows)('$case: $expected', ({ pattern, operator, namespace, expected }) => {
    const p = policy(['Writer'], { extra: [{ name: 'resourceType', value: 'namespace' }, { name: 'resource', value: pattern, operator }] });
    expect(allowed(push, on(namespace), [p])).toBe(expected);
  });
});

describe('decide: IAM administration roles (Berth choice, see roles.ts)', () => {
  const rows: Array<{ service: string; role: Role | string; action: string; expected: boolean }> = [
    { service: 'iam-identity', role: 'Viewer', action: 'iam-identity.serviceid.get', expected: true },
    { service: 'iam-identity', role: 'Viewer', action: 'iam-identity.serviceid.create', expected: false },
    { service: 'iam-identity', role: 'Operator', action: 'iam-identity.apikey.lock', expected: true },
    { service: 'iam-identity', role: 'Operator', action: 'iam-identity.apikey.create', expected: false },
    { service: 'iam-identity', role: 'Editor', action: 'iam-identity.serviceid.create', expected: true },
    { service: 'iam-identity', role: 'Administrator', action: 'iam-identity.apikey.delete', expected: true },
    { service: 'iam-identity', role: 'Manager', action: 'iam-identity.apikey.create', expected: false },
    { service: 'iam-identity', role: 'Editor', action: 'iam-identity.apikey.disable', expected: true },
    { service: 'iam-identity', role: 'crn:v1:bluemix:public:iam-identity::::serviceRole:ServiceIdCreator', action: 'iam-identity.serviceid.create', expected: true },
    { service: 'iam-identity', role: 'crn:v1:bluemix:public:iam-identity::::serviceRole:ServiceIdCreator', action: 'iam-identity.serviceid.get', expected: false },
    { service: 'iam-access-management', role: 'Viewer', action: 'iam-access-management.policy.read', expected: true },
    { service: 'iam-access-management', role: 'Reader', action: 'iam-access-management.policy.read', expected: false },
    { service: 'user-management', role: 'Viewer', action: 'user-management.user.get', expected: true },
    { service: 'user-management', role: 'Viewer', action: 'user-management.user.invite', expected: false },
    { service: 'user-management', role: 'Editor', action: 'user-management.user.remove', expected: true },
    { service: 'container-registry', role: 'Manager', action: 'iam-identity.serviceid.create', expected: false },
    { service: 'container-registry', role: 'Administrator', action: 'iam-identity.serviceid.create', expected: false },
  ];
  it.each(rows)('$role on $service → $action: $expected', ({ service, role, action, expected }) => {
    // The action is asked about on its own service, whatever service the policy names.
    const resource: Resource = { accountId: A, serviceName: action.split('.')[0]! };
    expect(allowed(action, resource, [policy([role], { service })])).toBe(expected);
  });

  const serviceId = (id: string): Resource => ({ accountId: A, serviceName: 'iam-identity', resourceType: 'serviceid', resource: id });
  const scoped = (id: string) => policy(['Editor'], { service: 'iam-identity', extra: [{ name: 'resourceType', value: 'serviceid' }, { name: 'resource', value: id }] });
  const scopeRows: Array<{ case: string; policy: Policy; action: string; resource: Resource; expected: boolean }> = [
    { case: 'Editor on one service ID deletes it', policy: scoped('ServiceId-1'), action: 'iam-identity.serviceid.delete', resource: serviceId('ServiceId-1'), expected: true },
    { case: 'Editor on one service ID creates its keys', policy: scoped('ServiceId-1'), action: 'iam-identity.apikey.create', resource: serviceId('ServiceId-1'), expected: true },
    { case: 'Editor on one service ID, another one', policy: scoped('ServiceId-1'), action: 'iam-identity.serviceid.delete', resource: serviceId('ServiceId-2'), expected: false },
    { case: 'Editor on one service ID cannot create service IDs', policy: scoped('ServiceId-1'), action: 'iam-identity.serviceid.create', resource: { accountId: A, serviceName: 'iam-identity' }, expected: false },
    { case: 'service-wide Editor, any service ID', policy: policy(['Editor'], { service: 'iam-identity' }), action: 'iam-identity.serviceid.delete', resource: serviceId('ServiceId-2'), expected: true },
    { case: 'platform_service Editor covers iam-identity', policy: { ...policy(['Editor']), resources: [{ attributes: [{ name: 'accountId', value: A }, { name: 'serviceType', value: 'platform_service' }] }] }, action: 'iam-identity.serviceid.create', resource: { accountId: A, serviceName: 'iam-identity' }, expected: true },
    { case: 'service (IAM-enabled) Editor does not', policy: { ...policy(['Editor']), resources: [{ attributes: [{ name: 'accountId', value: A }, { name: 'serviceType', value: 'service' }] }] }, action: 'iam-identity.serviceid.create', resource: { accountId: A, serviceName: 'iam-identity' }, expected: false },
  ];
  it.each(scopeRows)('$case: $expected', ({ policy: p, action, resource, expected }) => {
    expect(allowed(action, resource, [p])).toBe(expected);
  });
});

describe('decide: granting access (iam.policy.assign) needs Administrator on what the policy names', () => {
  const assign = 'iam.policy.assign';
  /** The resource attributes of a policy someone wants to write. */
  const target = (scope: Scope & { operator?: string } = {}) => ({
    attributes: attrs(scope).map((attribute) => (attribute.name === 'resource' && scope.operator ? { ...attribute, operator: scope.operator } : attribute)),
  });
  const rows: Array<{ case: string; policies: Policy[]; target: { attributes: PolicyAttribute[] }; subject?: Subject; expected: boolean }> = [
    { case: 'service-wide Administrator, namespace policy', policies: [policy(['Administrator'])], target: target({ namespace: 'team-a' }), expected: true },
    { case: 'service-wide Administrator, service-wide policy', policies: [policy(['Administrator'])], target: target(), expected: true },
    { case: 'namespace Administrator, same namespace', policies: [policy(['Administrator'], { namespace: 'team-a' })], target: target({ namespace: 'team-a' }), expected: true },
    { case: 'namespace Administrator, other namespace', policies: [policy(['Administrator'], { namespace: 'team-a' })], target: target({ namespace: 'team-b' }), expected: false },
    { case: 'namespace Administrator, service-wide policy', policies: [policy(['Administrator'], { namespace: 'team-a' })], target: target(), expected: false },
    { case: 'Manager is not Administrator', policies: [policy(['Manager'])], target: target({ namespace: 'team-a' }), expected: false },
    { case: 'Editor is not Administrator', policies: [policy(['Editor'])], target: target({ namespace: 'team-a' }), expected: false },
    { case: 'Administrator on another service', policies: [policy(['Administrator'], { service: 'iam-identity' })], target: target({ namespace: 'team-a' }), expected: false },
    { case: 'region Administrator, same region', policies: [policy(['Administrator'], { region: 'eu-de' })], target: target({ region: 'eu-de' }), expected: true },
    { case: 'region Administrator, policy for all regions', policies: [policy(['Administrator'], { region: 'eu-de' })], target: target(), expected: false },
    { case: 'glob Administrator team-*, literal team-a', policies: [policy(['Administrator'], { extra: [{ name: 'resourceType', value: 'namespace' }, { name: 'resource', value: 'team-*', operator: 'stringMatch' }] })], target: target({ namespace: 'team-a' }), expected: true },
    { case: 'glob Administrator team-*, wider glob *', policies: [policy(['Administrator'], { extra: [{ name: 'resourceType', value: 'namespace' }, { name: 'resource', value: 'team-*', operator: 'stringMatch' }] })], target: target({ namespace: '*', operator: 'stringMatch' }), expected: false },
    { case: 'glob Administrator *, any glob', policies: [policy(['Administrator'], { extra: [{ name: 'resourceType', value: 'namespace' }, { name: 'resource', value: '*', operator: 'stringMatch' }] })], target: target({ namespace: 'te?m', operator: 'stringMatch' }), expected: true },
    { case: 'literal Administrator, glob policy of the same text', policies: [policy(['Administrator'], { namespace: 'team-*' })], target: target({ namespace: 'team-*', operator: 'stringMatch' }), expected: false },
    { case: 'all-services Administrator, serviceType=service policy', policies: [{ ...policy(['Administrator']), resources: [{ attributes: [{ name: 'accountId', value: A }, { name: 'serviceType', value: 'service' }] }] }], target: { attributes: [{ name: 'accountId', value: A }, { name: 'serviceType', value: 'service' }] }, expected: true },
    { case: 'registry Administrator, serviceType=service policy', policies: [policy(['Administrator'])], target: { attributes: [{ name: 'accountId', value: A }, { name: 'serviceType', value: 'service' }] }, expected: false },
    { case: 'a policy in another account', policies: [policy(['Administrator'], { account: B })], target: target({ account: B }), expected: false },
    { case: 'the owner, any policy of the account', policies: [], subject: { ...ALICE, isAccountOwner: true }, target: target({ namespace: '*', operator: 'stringMatch' }), expected: true },
    { case: 'the owner, a policy of another account', policies: [], subject: { ...ALICE, isAccountOwner: true }, target: target({ account: B }), expected: false },
  ];
  it.each(rows)('$case: $expected', ({ policies, target: resource, subject, expected }) => {
    expect(decide({ subject: subject ?? ALICE, action: assign, resource }, policies).allowed).toBe(expected);
  });
});

describe('grantedActions: what a registry login may carry in one namespace (§3.9)', () => {
  const scope = { accountId: A, region: 'us-south', namespace: 'team-a' };
  const rows: Array<{ case: string; subject?: Subject; policies: Policy[]; expected: string[] }> = [
    { case: 'no policy', policies: [], expected: [] },
    { case: 'Reader in the namespace', policies: [policy(['Reader'], { namespace: 'team-a' })], expected: ['pull'] },
    { case: 'Writer in the namespace', policies: [policy(['Writer'], { namespace: 'team-a' })], expected: ['pull', 'push', 'delete'] },
    { case: 'Manager service-wide', policies: [policy(['Manager'])], expected: ['pull', 'push', 'delete'] },
    { case: 'Writer in another namespace', policies: [policy(['Writer'], { namespace: 'team-b' })], expected: [] },
    { case: 'Writer in another region', policies: [policy(['Writer'], { region: 'eu-de' })], expected: [] },
    { case: 'Reader everywhere, Writer elsewhere', policies: [policy(['Reader']), policy(['Writer'], { namespace: 'team-b' })], expected: ['pull'] },
    { case: 'account owner', subject: { ...ALICE, isAccountOwner: true }, policies: [], expected: ['pull', 'push', 'delete'] },
    { case: 'owner of another account', subject: { ...ALICE, accountId: B, isAccountOwner: true }, policies: [], expected: [] },
  ];
  it.each(rows)('$case → $expected', ({ subject, policies, expected }) => {
    expect(grantedActions(subject ?? ALICE, scope, policies)).toEqual(expected);
  });
});
