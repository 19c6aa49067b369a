/**
 * The scoring tests in one process, for mutation testing (npm run mutation): Stryker runs this once per
 * mutant, and one process loads the modules once instead of once per test file.
 */
import './unit/score.test.js';
import './unit/score-golden.test.js';
import './unit/profiles.test.js';
import './unit/host.test.js';
import './unit/fault.test.js';
