/**
 * Where Label Studio meets the inbox. Tasks and annotations have prefixes of their own, apart: a
 * source storage reading its own target storage's files imports them as new, broken tasks.
 */
// @ts-nocheck

/** Label Studio's source storage (the "tasks" import method): `<prefix><batch>/<generation>/<image>.json`. */function stryNS_9fa48() {
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
export const LABELSTUDIO_TASKS_PREFIX = stryMutAct_9fa48("276") ? "" : (stryCov_9fa48("276"), 'labelstudio/tasks/');
/**
 * Label Studio's target storage. Its prefix is given without the trailing slash: Label Studio joins
 * `prefix + "/" + key`, so `labelstudio/annotations/` would write `labelstudio/annotations//7`.
 */
export const LABELSTUDIO_ANNOTATIONS_PREFIX = stryMutAct_9fa48("277") ? "" : (stryCov_9fa48("277"), 'labelstudio/annotations/');