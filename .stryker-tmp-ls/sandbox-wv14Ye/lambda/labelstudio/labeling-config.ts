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
import { hexColour } from '../evaluation/palette';

/** The names that tie a task, its predictions and the labeling configuration together. */
export const LABEL_STUDIO_NAMES = {
  /** `<Image name>` and the task's data key (`data.image`, `$image`). */
  image: 'image',
  /** `<BrushLabels name>`: brush results' `from_name`. */
  brush: 'brush',
  /** `<PolygonLabels name>`: polygon results' `from_name`. */
  polygon: 'poly'
} as const;
const escapeAttribute = stryMutAct_9fa48("147") ? () => undefined : (stryCov_9fa48("147"), (() => {
  const escapeAttribute = (text: string) => text.replace(stryMutAct_9fa48("148") ? /[^<>&"']/g : (stryCov_9fa48("148"), /[<>&"']/g), stryMutAct_9fa48("149") ? () => undefined : (stryCov_9fa48("149"), c => stryMutAct_9fa48("150") ? `` : (stryCov_9fa48("150"), `&#${c.charCodeAt(0)};`)));
  return escapeAttribute;
})());

/**
 * The Label Studio labeling configuration for `classes` (indices 1, 2, ... in order): brush and polygon
 * labels, each class in the colour segpipe's reports give its index, over one zoomable image.
 */
export function labelingConfig(classes: readonly string[]): string {
  if (stryMutAct_9fa48("151")) {
    {}
  } else {
    stryCov_9fa48("151");
    if (stryMutAct_9fa48("154") ? classes.length !== 0 : stryMutAct_9fa48("153") ? false : stryMutAct_9fa48("152") ? true : (stryCov_9fa48("152", "153", "154"), classes.length === 0)) throw new Error(stryMutAct_9fa48("155") ? "" : (stryCov_9fa48("155"), 'no label classes are configured: set labelClasses in the segpipe configuration'));
    const labels = classes.map(stryMutAct_9fa48("156") ? () => undefined : (stryCov_9fa48("156"), (name, i) => stryMutAct_9fa48("157") ? `` : (stryCov_9fa48("157"), `    <Label value="${escapeAttribute(name)}" background="${hexColour(stryMutAct_9fa48("158") ? i - 1 : (stryCov_9fa48("158"), i + 1))}"/>`))).join(stryMutAct_9fa48("159") ? "" : (stryCov_9fa48("159"), '\n'));
    const {
      image,
      brush,
      polygon
    } = LABEL_STUDIO_NAMES;
    return (stryMutAct_9fa48("160") ? [] : (stryCov_9fa48("160"), [stryMutAct_9fa48("161") ? "" : (stryCov_9fa48("161"), '<View>'), stryMutAct_9fa48("162") ? `` : (stryCov_9fa48("162"), `  <Image name="${image}" value="$${image}" zoom="true" zoomControl="true"/>`), stryMutAct_9fa48("163") ? `` : (stryCov_9fa48("163"), `  <BrushLabels name="${brush}" toName="${image}">`), labels, stryMutAct_9fa48("164") ? "" : (stryCov_9fa48("164"), '  </BrushLabels>'), stryMutAct_9fa48("165") ? `` : (stryCov_9fa48("165"), `  <PolygonLabels name="${polygon}" toName="${image}" strokeWidth="2">`), labels, stryMutAct_9fa48("166") ? "" : (stryCov_9fa48("166"), '  </PolygonLabels>'), stryMutAct_9fa48("167") ? "" : (stryCov_9fa48("167"), '</View>'), stryMutAct_9fa48("168") ? "Stryker was here!" : (stryCov_9fa48("168"), '')])).join(stryMutAct_9fa48("169") ? "" : (stryCov_9fa48("169"), '\n'));
  }
}