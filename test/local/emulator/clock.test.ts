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

  describe('virtual mode', () => {
    const realTick = () => new Promise((r) => setTimeout(r, 5));

    test('jumps to the next deadline when nothing is in flight, in deadline order', async () => {
      const clock = new ScaledClock({ virtual: true, start: 0 });
      const woke: string[] = [];
      const late = clock.sleep(3_600_000).then(() => woke.push(`late@${clock.nowMs()}`));
      const early = clock.sleep(60_000).then(() => woke.push(`early@${clock.nowMs()}`));
      await Promise.all([late, early]);
      expect(woke).toEqual(['early@60000', 'late@3600000']);
      await clock.shutdown();
    });

    test('stands still while tracked work runs, and moves once it ends', async () => {
      const clock = new ScaledClock({ virtual: true, start: 0 });
      let woke = false;
      const slept = clock.sleep(1000).then(() => (woke = true));
      let finish!: () => void;
      const work = clock.track(() => new Promise<void>((r) => (finish = r)));
      // Real time passes (timers, I/O): the sleeper stays asleep while the work is in flight.
      await realTick();
      await realTick();
      expect([woke, clock.nowMs(), clock.workInFlight]).toEqual([false, 0, 1]);
      finish();
      await work;
      await slept;
      expect([woke, clock.nowMs(), clock.workInFlight]).toEqual([true, 1000, 0]);
      await clock.shutdown();
    });

    test('a sleep started inside tracked work, not awaited by it, wakes after the work ends', async () => {
      const clock = new ScaledClock({ virtual: true, start: 0 });
      let completed: Promise<number> | undefined;
      const work = clock.track(async () => {
        // Started, not awaited: a completion due later (as an operation's end in the emulator).
        completed = clock.sleep(600_000).then(() => clock.nowMs());
        return clock.nowMs();
      });
      expect(await work).toBe(0);
      expect(await completed).toBe(600_000);
      await clock.shutdown();
    });

    test('background sleepers wake as time passes but do not move it', async () => {
      const clock = new ScaledClock({ virtual: true, start: 0 });
      const ticks: number[] = [];
      void (async () => {
        for (;;) {
          await clock.sleep(1000, { background: true });
          ticks.push(clock.nowMs());
        }
      })();
      await realTick();
      expect([ticks, clock.nowMs()]).toEqual([[], 0]);
      await clock.sleep(3000);
      await clock.sleep(0); // the background sleeper due at 3000 has run by the time this wakes
      expect(ticks).toEqual([1000, 2000, 3000]);
      expect(clock.nowMs()).toBe(3000);
      await clock.shutdown();
    });

    test('time keeps moving when many pieces of work end at staggered moments around its checks', async () => {
      const clock = new ScaledClock({ virtual: true, start: 0 });
      for (let round = 0; round < 50; round++) {
        const sleeper = clock.sleep(1000);
        const works = Array.from({ length: 5 }, (_, i) =>
          clock.track(async () => {
            for (let k = 0; k < (round + i) % 7; k++) await new Promise((r) => setImmediate(r));
          }),
        );
        await Promise.all(works);
        await sleeper;
      }
      expect(clock.nowMs()).toBe(50_000);
      await clock.shutdown();
    });

    test('manual and virtual are exclusive; toRealMs is 0 (no real timers on a virtual clock)', () => {
      expect(() => new ScaledClock({ virtual: true, manual: true })).toThrow(/exclusive/);
      expect(new ScaledClock({ virtual: true }).toRealMs(60_000)).toBe(0);
    });
  });
});
