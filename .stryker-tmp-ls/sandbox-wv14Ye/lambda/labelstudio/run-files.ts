/**
 * A run's own list of the Label Studio target-storage files it converts: a round's run lists its
 * round's files when it closes the round, a corrections run the files kept for its generation. The
 * conversion then reads those files, not every file the target storage ever received (all batches',
 * all rounds'), and lists nothing.
 */
// @ts-nocheck
function stryNS_9fa48() {
  var g = typeof globalThis === 'object' && globalThis && globalThis.Math === Math && globalThis || new Function("return this")();
  var ns = g.__stryker__ || (g.__stryker__ = {});
  if (ns.activeMutant === undefined && g.process && g.process.env && g.process.env.__STRYKER_ACTIVE_MUTANT__) {
    ns.activeMutant = g.process.env.__STRYKER_ACTIVE_MUTANT__;
  }
  function retrieveNS() {
    return ns;
  }
  stryNS_9fa48 = retrieveNS;
  return retrieveNS();
}
stryNS_9fa48();
function stryCov_9fa48() {
  var ns = stryNS_9fa48();
  var cov = ns.mutantCoverage || (ns.mutantCoverage = {
    static: {},
    perTest: {}
  });
  function cover() {
    var c = cov.static;
    if (ns.currentTestId) {
      c = cov.perTest[ns.currentTestId] = cov.perTest[ns.currentTestId] || {};
    }
    var a = arguments;
    for (var i = 0; i < a.length; i++) {
      c[a[i]] = (c[a[i]] || 0) + 1;
    }
  }
  stryCov_9fa48 = cover;
  cover.apply(null, arguments);
}
function stryMutAct_9fa48(id) {
  var ns = stryNS_9fa48();
  function isActive(id) {
    if (ns.activeMutant === id) {
      if (ns.hitCount !== void 0 && ++ns.hitCount > ns.hitLimit) {
        throw new Error('Stryker: Hit count limit reached (' + ns.hitCount + ')');
      }
      return true;
    }
    return false;
  }
  stryMutAct_9fa48 = isActive;
  return isActive(id);
}
import type { ObjectStore } from '../convert/stores/object-store';
import { runLayout, s3Uri } from '../workflow/layout';

/** Where a run's list of files is (artifacts bucket). */
export function labelStudioFilesKey(runId: string): string {
  if (stryMutAct_9fa48("170")) {
    {}
  } else {
    stryCov_9fa48("170");
    return stryMutAct_9fa48("171") ? `` : (stryCov_9fa48("171"), `${runLayout(runId).prefix}labelstudio/files.json`);
  }
}

/** Writes a run's list; returns its location, which the run hands to its conversion. */
export async function writeLabelStudioFiles(store: Pick<ObjectStore, 'write'>, bucket: string, runId: string, files: readonly string[]): Promise<string> {
  if (stryMutAct_9fa48("172")) {
    {}
  } else {
    stryCov_9fa48("172");
    const list = s3Uri(bucket, labelStudioFilesKey(runId));
    await store.write(list, Buffer.from(stryMutAct_9fa48("173") ? `` : (stryCov_9fa48("173"), `${JSON.stringify(files)}\n`)), stryMutAct_9fa48("174") ? "" : (stryCov_9fa48("174"), 'application/json'));
    return list;
  }
}

/** The files of a run's list, refused unless it is that run's own (a payload cannot point a run at another's). */
export async function readLabelStudioFiles(store: Pick<ObjectStore, 'read'>, bucket: string, runId: string, list: string): Promise<string[]> {
  if (stryMutAct_9fa48("175")) {
    {}
  } else {
    stryCov_9fa48("175");
    const own = s3Uri(bucket, labelStudioFilesKey(runId));
    if (stryMutAct_9fa48("178") ? list === own : stryMutAct_9fa48("177") ? false : stryMutAct_9fa48("176") ? true : (stryCov_9fa48("176", "177", "178"), list !== own)) throw new Error(stryMutAct_9fa48("179") ? `` : (stryCov_9fa48("179"), `a run reads its own list of Label Studio files (${own}), not ${list}`));
    const files: unknown = JSON.parse((await store.read(list)).toString(stryMutAct_9fa48("180") ? "" : (stryCov_9fa48("180"), 'utf8')));
    if (stryMutAct_9fa48("183") ? !Array.isArray(files) && !files.every(f => typeof f === 'string') : stryMutAct_9fa48("182") ? false : stryMutAct_9fa48("181") ? true : (stryCov_9fa48("181", "182", "183"), (stryMutAct_9fa48("184") ? Array.isArray(files) : (stryCov_9fa48("184"), !Array.isArray(files))) || (stryMutAct_9fa48("185") ? files.every(f => typeof f === 'string') : (stryCov_9fa48("185"), !(stryMutAct_9fa48("186") ? files.some(f => typeof f === 'string') : (stryCov_9fa48("186"), files.every(stryMutAct_9fa48("187") ? () => undefined : (stryCov_9fa48("187"), f => stryMutAct_9fa48("190") ? typeof f !== 'string' : stryMutAct_9fa48("189") ? false : stryMutAct_9fa48("188") ? true : (stryCov_9fa48("188", "189", "190"), typeof f === (stryMutAct_9fa48("191") ? "" : (stryCov_9fa48("191"), 'string'))))))))))) throw new Error(stryMutAct_9fa48("192") ? `` : (stryCov_9fa48("192"), `${list} is not a list of files`));
    return files as string[];
  }
}