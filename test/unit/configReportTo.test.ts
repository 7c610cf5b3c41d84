import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfigText } from '../../common/config/validate';
import { generateJsonSchema } from '../../common/config/jsonSchema';
import { applyFix, codes, covered, find, VALID } from './configHelpers';

const withReportTo = (value: string) => VALID + `  report_to: ${value}\n`;

describe('training.report_to (HF TrainingArguments.report_to)', () => {
  it('defaults to none, and takes one value or a list', () => {
    assert.deepEqual(validateConfigText(VALID).config.training.report_to, ['none']);
    assert.deepEqual(validateConfigText(withReportTo('tensorboard')).config.training.report_to, ['tensorboard']);
    assert.deepEqual(validateConfigText(withReportTo('[tensorboard]')).config.training.report_to, ['tensorboard']);
    assert.deepEqual(validateConfigText(withReportTo('all')).diagnostics, []);
  });
  it('an integration this tool does not have is an error on that item, with did-you-mean', () => {
    const text = withReportTo('[tensorbaord, none]');
    const d = find(validateConfigText(text).diagnostics, 'invalid-enum');
    assert.ok(d, JSON.stringify(codes(validateConfigText(text).diagnostics)));
    assert.equal(covered(text, d), 'tensorbaord');
    assert.match(d.message, /`tensorbaord` is not one of `none`, `all`, `tensorboard`\. Did you mean `tensorboard`\?/);
    assert.deepEqual(validateConfigText(applyFix(text, d.fixes![0]!)).diagnostics, []);
    const wandb = find(validateConfigText(withReportTo('wandb')).diagnostics, 'invalid-enum');
    assert.ok(wandb && /not one of/.test(wandb.message));
  });
  it('the JSON schema lists the choices, alone or in a list', () => {
    const training = (generateJsonSchema() as { properties: Record<string, { properties: Record<string, unknown> }> })
      .properties['training']!.properties['report_to'] as { anyOf: { enum?: string[]; items?: { enum: string[] } }[] };
    assert.deepEqual(training.anyOf[0]!.enum, ['none', 'all', 'tensorboard']);
    assert.deepEqual(training.anyOf[1]!.items!.enum, ['none', 'all', 'tensorboard']);
  });
});
