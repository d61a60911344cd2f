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
import { decodeBinary, encodeBinary } from '@thi.ng/rle-pack';

/** The value of index-mask pixels that are ignored (the algorithm's ignore label): never a region. */
export const IGNORE_INDEX = 255;

/**
 * Label Studio's brush RLE of the pixels where `mask` holds `index`: the image's RGBA bytes, row by row
 * from the top left, with R=G=B=A=255 on the region and 0 elsewhere (the frontend counts a pixel as
 * painted when its alpha is not 0), packed by `@thi.ng/rle-pack`'s binary encoder with its defaults
 * (8-bit words, repeat classes 3, 4, 8, 16), as the frontend's own `Canvas.Region2RLE` does.
 * `rgba` is a buffer of `mask.length * 4` bytes to reuse between classes (it is overwritten).
 */
export function brushRle(mask: Uint8Array, index: number, rgba = new Uint8Array(stryMutAct_9fa48("0") ? mask.length / 4 : (stryCov_9fa48("0"), mask.length * 4))): number[] {
  if (stryMutAct_9fa48("1")) {
    {}
  } else {
    stryCov_9fa48("1");
    if (stryMutAct_9fa48("4") ? rgba.length === mask.length * 4 : stryMutAct_9fa48("3") ? false : stryMutAct_9fa48("2") ? true : (stryCov_9fa48("2", "3", "4"), rgba.length !== (stryMutAct_9fa48("5") ? mask.length / 4 : (stryCov_9fa48("5"), mask.length * 4)))) throw new Error(stryMutAct_9fa48("6") ? `` : (stryCov_9fa48("6"), `the RGBA buffer holds ${rgba.length} bytes, not ${stryMutAct_9fa48("7") ? mask.length / 4 : (stryCov_9fa48("7"), mask.length * 4)}`));
    for (let p = 0; stryMutAct_9fa48("10") ? p >= mask.length : stryMutAct_9fa48("9") ? p <= mask.length : stryMutAct_9fa48("8") ? false : (stryCov_9fa48("8", "9", "10"), p < mask.length); stryMutAct_9fa48("11") ? p-- : (stryCov_9fa48("11"), p++)) {
      if (stryMutAct_9fa48("12")) {
        {}
      } else {
        stryCov_9fa48("12");
        const on = (stryMutAct_9fa48("15") ? mask[p] !== index : stryMutAct_9fa48("14") ? false : stryMutAct_9fa48("13") ? true : (stryCov_9fa48("13", "14", "15"), mask[p] === index)) ? 255 : 0;
        rgba[stryMutAct_9fa48("16") ? p / 4 : (stryCov_9fa48("16"), p * 4)] = on;
        rgba[stryMutAct_9fa48("17") ? p * 4 - 1 : (stryCov_9fa48("17"), (stryMutAct_9fa48("18") ? p / 4 : (stryCov_9fa48("18"), p * 4)) + 1)] = on;
        rgba[stryMutAct_9fa48("19") ? p * 4 - 2 : (stryCov_9fa48("19"), (stryMutAct_9fa48("20") ? p / 4 : (stryCov_9fa48("20"), p * 4)) + 2)] = on;
        rgba[stryMutAct_9fa48("21") ? p * 4 - 3 : (stryCov_9fa48("21"), (stryMutAct_9fa48("22") ? p / 4 : (stryCov_9fa48("22"), p * 4)) + 3)] = on;
      }
    }
    return Array.from(encodeBinary(rgba, rgba.length));
  }
}

/** The alpha channel of a brush RLE (the frontend's painted pixels where it is not 0); `undefined` when it is not `width × height` pixels. */
export function brushAlpha(rle: readonly number[], width: number, height: number): Uint8Array | undefined {
  if (stryMutAct_9fa48("23")) {
    {}
  } else {
    stryCov_9fa48("23");
    const rgba = decodeBinary(Uint8Array.from(rle));
    if (stryMutAct_9fa48("26") ? rgba.length === width * height * 4 : stryMutAct_9fa48("25") ? false : stryMutAct_9fa48("24") ? true : (stryCov_9fa48("24", "25", "26"), rgba.length !== (stryMutAct_9fa48("27") ? width * height / 4 : (stryCov_9fa48("27"), (stryMutAct_9fa48("28") ? width / height : (stryCov_9fa48("28"), width * height)) * 4)))) return undefined;
    const alpha = new Uint8Array(stryMutAct_9fa48("29") ? width / height : (stryCov_9fa48("29"), width * height));
    for (let p = 0; stryMutAct_9fa48("32") ? p >= alpha.length : stryMutAct_9fa48("31") ? p <= alpha.length : stryMutAct_9fa48("30") ? false : (stryCov_9fa48("30", "31", "32"), p < alpha.length); stryMutAct_9fa48("33") ? p-- : (stryCov_9fa48("33"), p++)) alpha[p] = rgba[stryMutAct_9fa48("34") ? p * 4 - 3 : (stryCov_9fa48("34"), (stryMutAct_9fa48("35") ? p / 4 : (stryCov_9fa48("35"), p * 4)) + 3)];
    return alpha;
  }
}

/** The class indices a mask holds, ascending, without the background (0) and the ignore label. */
export function classesInMask(mask: Uint8Array): number[] {
  if (stryMutAct_9fa48("36")) {
    {}
  } else {
    stryCov_9fa48("36");
    const seen = new Uint8Array(256);
    for (const index of mask) seen[index] = 1;
    const present: number[] = stryMutAct_9fa48("37") ? ["Stryker was here"] : (stryCov_9fa48("37"), []);
    for (let i = 1; stryMutAct_9fa48("40") ? i >= 256 : stryMutAct_9fa48("39") ? i <= 256 : stryMutAct_9fa48("38") ? false : (stryCov_9fa48("38", "39", "40"), i < 256); stryMutAct_9fa48("41") ? i-- : (stryCov_9fa48("41"), i++)) if (stryMutAct_9fa48("44") ? seen[i] || i !== IGNORE_INDEX : stryMutAct_9fa48("43") ? false : stryMutAct_9fa48("42") ? true : (stryCov_9fa48("42", "43", "44"), seen[i] && (stryMutAct_9fa48("46") ? i === IGNORE_INDEX : stryMutAct_9fa48("45") ? true : (stryCov_9fa48("45", "46"), i !== IGNORE_INDEX)))) present.push(i);
    return present;
  }
}