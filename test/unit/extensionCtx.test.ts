// The extension's lifetime scopes (extension/ctx.ts): a run's disposables go with its scope, a disposable that
// went on its own leaves it, and deactivation disposes everything, the runs' scopes first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as vscode from 'vscode';
import { Ctx } from '../../extension/ctx';

const ctxFor = () => new Ctx({} as vscode.ExtensionContext);

function disposable(log: string[], name: string) {
  return { dispose: () => void log.push(name) };
}

test("a run scope disposes its own disposables, not the extension's or another run's", () => {
  const log: string[] = [];
  const ctx = ctxFor();
  ctx.push(disposable(log, 'life'));
  ctx.pushForRun('a', disposable(log, 'a1'));
  ctx.pushForRun('a', disposable(log, 'a2'));
  ctx.pushForRun('b', disposable(log, 'b1'));
  ctx.disposeRunScope('a');
  assert.deepEqual(log, ['a1', 'a2']);
  assert.equal(ctx.runScopeSize('a'), 0);
  assert.equal(ctx.runScopeSize('b'), 1);
  ctx.dispose();
  assert.deepEqual(log, ['a1', 'a2', 'b1', 'life']);
});

test('a disposable forgotten by its run scope is not disposed with it', () => {
  const log: string[] = [];
  const ctx = ctxFor();
  const panel = ctx.pushForRun('a', disposable(log, 'panel'));
  ctx.forgetForRun('a', panel);
  assert.equal(ctx.runScopeSize('a'), 0);
  ctx.disposeRunScope('a');
  assert.deepEqual(log, []);
});

test('after deactivation, anything pushed is disposed at once', () => {
  const log: string[] = [];
  const ctx = ctxFor();
  ctx.dispose();
  ctx.push(disposable(log, 'late'));
  ctx.pushForRun('a', disposable(log, 'late run'));
  assert.deepEqual(log, ['late', 'late run']);
});
