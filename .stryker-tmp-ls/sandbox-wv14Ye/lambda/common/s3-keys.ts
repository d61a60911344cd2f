/**
 * A key as S3 event notifications URL-encode it (`red+flower%C3%A9.jpg` for `red floweré.jpg`),
 * decoded; the text itself when it is not valid percent-encoding. Neither Ground Truth manifests nor
 * EventBridge documents the encoding, so callers try the raw key first and this one second.
 */
// @ts-nocheck

export function decodeEventKey(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}
