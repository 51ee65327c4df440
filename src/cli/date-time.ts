/**
 * A moment as every table shows it: `2026-12-02 07:45:43 UTC`. Always UTC, so two people (or a
 * table and the server's log) compare times without converting; seconds, because audit events
 * a second apart matter. `--output json` keeps the server's own value.
 *
 * Takes epoch milliseconds, a Date, or a server's date string (IBM's IAM writes
 * `2026-12-02T07:45+0000`); a string that is no date is shown as it came, never hidden.
 */
export function formatTime(moment: number | string | Date | undefined): string {
  if (moment === undefined || moment === '') return '';
  const date = moment instanceof Date ? moment : new Date(typeof moment === 'string' ? withColonOffset(moment) : moment);
  if (Number.isNaN(date.getTime())) return String(moment);
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** `+0000` as `+00:00`: the offset form ECMAScript's date format defines (engines need not take IBM's). */
function withColonOffset(text: string): string {
  return text.replace(/([+-]\d{2})(\d{2})$/, '$1:$2');
}
