import type { FastifyRequest } from 'fastify';
import type { PolicyRecord } from '../../iam/policies.js';
import { describeRole } from '../../iam/policy-roles.js';

/** A policy as the v1 API shows it (§3.2): subjects and resources exactly as stored, roles with their names. */
export function policyView(request: FastifyRequest, record: PolicyRecord) {
  const roles = (JSON.parse(record.roles) as { role_id: string }[]).map(({ role_id }) => {
    const role = describeRole(role_id);
    return { role_id, ...(role ? { display_name: role.displayName, description: role.description } : {}) };
  });
  return {
    id: record.id,
    type: record.type,
    ...(record.description !== null ? { description: record.description } : {}),
    subjects: JSON.parse(record.subjects) as unknown,
    roles,
    resources: JSON.parse(record.resources) as unknown,
    href: `${request.protocol}://${request.host}/v1/policies/${record.id}`,
    created_at: new Date(record.created_at).toISOString(),
    created_by_id: record.created_by_id,
    last_modified_at: new Date(record.last_modified_at).toISOString(),
    last_modified_by_id: record.last_modified_by_id,
    state: record.state,
  };
}
