// @ts-nocheck
import type { ObjectStore } from '../convert/stores/object-store';
import { runLayout, s3Uri } from './layout';

/** The label-categories file Ground Truth reads (`LabelCategoryConfigS3Uri`). */
export function labelCategoriesJson(classes: readonly string[]): string {
  return `${JSON.stringify({ 'document-version': '2018-11-28', labels: classes.map((label) => ({ label })) }, null, 2)}\n`;
}

/** An input manifest: one `source-ref` per image, JSON Lines. */
export function inputManifest(images: readonly string[]): string {
  return images.map((image) => `${JSON.stringify({ 'source-ref': image })}\n`).join('');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The worker UI: Ground Truth's `crowd-semantic-segmentation` element (there is no built-in UI ARN for it). */
export function semanticSegmentationTemplate(classes: readonly string[]): string {
  const header = escapeHtml(`Paint every pixel of each ${classes.join(', ')}`);
  return `<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>
<crowd-form>
  <crowd-semantic-segmentation
    name="crowd-semantic-segmentation"
    src="{{ task.input.taskObject | grant_read_access }}"
    header="${header}"
    labels="{{ task.input.labels | to_json | escape }}">
    <full-instructions header="Segmentation instructions">
      <p>Choose a label, then paint all of the pixels of each object with that label. Leave the background unpainted.</p>
      <p>Follow the outline of each object closely; zoom in for small objects and edges.</p>
    </full-instructions>
    <short-instructions>
      <p>Paint each object with its label; leave the background unpainted.</p>
    </short-instructions>
  </crowd-semantic-segmentation>
</crowd-form>
`;
}

export interface LabelingInputs {
  readonly inputManifestUri: string;
  readonly labelCategoriesUri: string;
  readonly uiTemplateUri: string;
  readonly outputPath: string;
}

/**
 * Writes what a labeling job reads, under the run's prefix: the images, a list given by the run's
 * input or a batch snapshot's input manifest (copied in S3, so the labeling role reads only the run's
 * labeling folder), the label categories and the worker UI.
 */
export async function writeLabelingInputs(
  store: ObjectStore,
  bucket: string,
  runId: string,
  images: readonly string[] | { readonly manifest: string; readonly count: number },
  classes: readonly string[],
): Promise<LabelingInputs> {
  const count = Array.isArray(images) ? images.length : (images as { count: number }).count;
  if (count === 0) throw new Error('the batch has no images to label');
  if (classes.length === 0) throw new Error('no label classes are configured: set labelClasses in the segpipe configuration');
  const layout = runLayout(runId);
  const manifestUri = s3Uri(bucket, layout.inputManifest);
  if (Array.isArray(images)) await store.write(manifestUri, Buffer.from(inputManifest(images)), 'application/x-ndjson');
  else await store.copyFrom(store, (images as { manifest: string }).manifest, manifestUri, 'application/x-ndjson');
  await store.write(s3Uri(bucket, layout.labelCategories), Buffer.from(labelCategoriesJson(classes)), 'application/json');
  await store.write(s3Uri(bucket, layout.uiTemplate), Buffer.from(semanticSegmentationTemplate(classes)), 'text/html');
  return {
    inputManifestUri: s3Uri(bucket, layout.inputManifest),
    labelCategoriesUri: s3Uri(bucket, layout.labelCategories),
    uiTemplateUri: s3Uri(bucket, layout.uiTemplate),
    outputPath: s3Uri(bucket, layout.labelingOutput),
  };
}
