import { describe, expect, it } from 'vitest';
import { main } from '../examples/event-bus.js';

describe('examples', () => {
  it('event-bus runs end to end', async () => {
    const lines: string[] = [];
    const result = await main((line) => lines.push(line));
    expect(result).toEqual({ payments: 4, charged: 1250 + 999 + 300 + 4200 });
    expect(lines.filter((l) => l.startsWith('billing: charged'))).toHaveLength(4);
    expect(lines.at(-1)).toBe('done: 4 payments, 67.49 charged in all');
  });
});
