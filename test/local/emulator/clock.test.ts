import { ScaledClock } from '../../../local/emulator/clock';

describe('ScaledClock', () => {
  test('manual mode stands still until advanced, and wakes sleepers in deadline order', async () => {
    const clock = new ScaledClock({ manual: true, start: Date.parse('2026-01-05T09:00:00Z') });
    const woke: string[] = [];
    void clock.sleep(3000).then(() => woke.push(`late@${clock.now().toISOString()}`));
    void clock.sleep(1000).then(() => woke.push(`early@${clock.now().toISOString()}`));

    await clock.advance(999);
    expect(woke).toEqual([]);
    expect(clock.now().toISOString()).toBe('2026-01-05T09:00:00.999Z');

    await clock.advance(5000);
    expect(woke).toEqual(['early@2026-01-05T09:00:01.000Z', 'late@2026-01-05T09:00:03.000Z']);
    expect(clock.now().toISOString()).toBe('2026-01-05T09:00:05.999Z');
    expect(clock.pendingSleeps).toBe(0);
  });

  test('a sleep started by a woken sleeper inside the window also wakes', async () => {
    const clock = new ScaledClock({ manual: true, start: 0 });
    let steps = 0;
    const chain = (async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(1000);
        steps += 1;
      }
    })();
    await clock.advance(3000);
    await chain;
    expect(steps).toBe(3);
    expect(clock.nowMs()).toBe(3000);
  });

  test('scaled mode runs emulated time faster than the wall clock', async () => {
    const clock = new ScaledClock({ scale: 60_000, start: 0 });
    expect(clock.toRealMs(60_000)).toBe(1);
    const before = clock.nowMs();
    await clock.sleep(10 * 60_000); // ten emulated minutes: ~10 real ms
    expect(clock.nowMs() - before).toBeGreaterThanOrEqual(10 * 60_000);
  });

  test('advance works in scaled mode too', async () => {
    const clock = new ScaledClock({ scale: 1, start: 0 });
    let woke = false;
    void clock.sleep(3_600_000).then(() => (woke = true));
    await clock.advance(3_600_000);
    expect(woke).toBe(true);
    clock.dispose();
  });

  test('rejects a scale that is not positive', () => {
    expect(() => new ScaledClock({ scale: 0 })).toThrow(/positive/);
  });
});
