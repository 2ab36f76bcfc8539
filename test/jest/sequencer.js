const Sequencer = require('@jest/test-sequencer').default;

/**
 * Unit suites (constructs, handlers, CLI, emulator) run before the suites that run
 * the workflow on the local engine (test/local, test/faults), so a broken unit
 * fails in the first minute. Within each tier the default order holds: failed
 * first, then slowest first, which packs the workers best.
 */
const INTEGRATION = /[\\/]test[\\/](faults|local[\\/](workflow|lifecycle|customizations|topologies))/;

class UnitsFirstSequencer extends Sequencer {
  sort(tests) {
    const sorted = super.sort(tests);
    const tier = (test) => (INTEGRATION.test(test.path) ? 1 : 0);
    return [...sorted].sort((a, b) => tier(a) - tier(b));
  }
}

module.exports = UnitsFirstSequencer;
