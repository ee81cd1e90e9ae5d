/**
 * Loads the whole rule table: importing a file runs its defineRule(...) calls. One file per family of ops.
 */
import './elementwise.js';
import './reduce.js';
import './linalg.js';
import './views.js';
import './conv.js';
import './pool.js';
import './classification.js';
import './linear.js';

export { defineRule, getRule, definedRules, type BackwardRule, type RuleContext } from './registry.js';
export { sumToShape } from './helpers.js';
