/** Who made a request, as an audit event names them: never a secret, only ids and the address. */
export interface Actor {
  principalId: string | null;
  principalName: string | null;
  client: string | null;
  requestId: string | null;
}
