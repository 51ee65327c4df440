import { describe, expect, it } from 'vitest';
import { formatTime } from '../../../src/cli/date-time.js';

describe('formatTime', () => {
  it.each([
    // Epoch milliseconds (images' Created is seconds; the caller multiplies), a Date, ISO strings.
    [Date.UTC(2026, 11, 2, 7, 45, 43, 512), '2026-12-02 07:45:43 UTC'],
    [new Date(Date.UTC(2026, 0, 5, 0, 0, 0)), '2026-01-05 00:00:00 UTC'],
    ['2026-12-02T07:45:43.123Z', '2026-12-02 07:45:43 UTC'],
    // IBM IAM's created_at: minutes and an offset without a colon.
    ['2026-12-02T07:45+0000', '2026-12-02 07:45:00 UTC'],
    ['2026-12-02T09:45:00+0200', '2026-12-02 07:45:00 UTC'],
    ['2026-12-02T09:45:00+02:00', '2026-12-02 07:45:00 UTC'],
  ])('%s reads %s', (moment, text) => {
    expect(formatTime(moment)).toBe(text);
  });

  it('shows nothing for no date, and a string that is no date as it came', () => {
    expect(formatTime(undefined)).toBe('');
    expect(formatTime('')).toBe('');
    expect(formatTime('yesterday')).toBe('yesterday');
  });
});
