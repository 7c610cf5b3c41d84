/** Defect 6 of issue 13: absurd sizes in a config are diagnostics on their line, from the one schema. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfigText } from '../../common/config/validate';
import { codes, covered, find, SCRATCH, VALID } from './configHelpers';

const arch = (line: string) => SCRATCH.replace('    hidden_size: 128\n', `    hidden_size: 128\n${line}\n`);

describe('sizes and counts have upper bounds', () => {
  const cases: [string, string, RegExp][] = [
    [
      SCRATCH.replace('hidden_size: 128', 'hidden_size: 1e9'),
      '1e9',
      /hidden_size` = 1000000000 is out of range: it must be in \[1, 8192\]/,
    ],
    [arch('    intermediate_size: 1e12'), '1e12', /intermediate_size` = 1000000000000 is out of range/],
    [arch('    vocab_size: 1e9'), '1e9', /vocab_size` = 1000000000 is out of range: it must be in \[1, 1000000\]/],
    [
      arch('    num_hidden_layers: 1e6'),
      '1e6',
      /num_hidden_layers` = 1000000 is out of range: it must be in \[1, 48\]/,
    ],
    [
      VALID + '  num_train_epochs: 1e308\n',
      '1e308',
      /num_train_epochs` = 1e\+308 is out of range: it must be in \(0, 100000\]/,
    ],
    [VALID + '  max_steps: 1e300\n', '1e300', /max_steps` = 1e\+300 is out of range/],
    [VALID + '  seed: 99999999999\n', '99999999999', /seed` = 99999999999 is out of range/],
  ];
  for (const [text, value, message] of cases) {
    it(`${value}: ${message.source.slice(0, 40)}`, () => {
      const d = find(validateConfigText(text).diagnostics, 'out-of-range');
      assert.ok(d, codes(validateConfigText(text).diagnostics).join());
      assert.match(d.message, message);
      assert.equal(covered(text, d), value);
    });
  }
  it("learning_rates values have the learning rate's bound; a `__proto__` pattern is kept as a pattern", () => {
    const v = validateConfigText(VALID + '  learning_rates:\n    classifier: 1e9\n    __proto__: 1e-3\n');
    assert.match(
      find(v.diagnostics, 'out-of-range')!.message,
      /learning_rates\.classifier` must be a number > 0 and ≤ 10/,
    );
    assert.equal(v.config.training.learning_rates?.['__proto__'], 1e-3);
  });
});
