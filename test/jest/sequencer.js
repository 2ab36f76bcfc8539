const Sequencer = require('@jest/test-sequencer').default;

/**
 * Unit suites (constructs, handlers, CLI, emulator) run before the suites that run
 * the workflow on the local engine (test/local, test/faults), so a broken unit
 * fails in the first minute. The two long explorations of the semaphore start first,
 * each on a worker of its own, so they do not end the run alone (on a clean clone jest
 * has no timings of its own to order by). The suites that wait on a scaled clock come
 * next, while the static checks still run beside jest. Within each tier the default order holds:
 * failed first, then slowest first, which packs the workers best.
 */
const INTEGRATION = /[\\/]test[\\/](faults|local[\\/](workflow|lifecycle|customizations|topologies))/;
const LONGEST = /[\\/]test[\\/](faults[\\/]semaphore-limits|lambda[\\/]semaphore-interleavings)\.test\.ts$/;
// Suites that wait on a scaled clock (a person approves in real time): mostly idle, so they
// start early, while the static checks still run beside jest and use the time they leave.
const WAITING = /[\\/]test[\\/](local[\\/]workflow[\\/]approvals|cli[\\/]approve)\.test\.ts$/;

class UnitsFirstSequencer extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    const tier = (test) =>
      LONGEST.test(test.path) ? -2 : WAITING.test(test.path) ? -1 : INTEGRATION.test(test.path) ? 1 : 0;
    return [...sorted].sort((a, b) => tier(a) - tier(b));
  }
}

module.exports = UnitsFirstSequencer;
