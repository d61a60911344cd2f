import { hexColour } from '../evaluation/palette';

/** The names that tie a task, its predictions and the labeling configuration together. */
export const LABEL_STUDIO_NAMES = {
  /** `<Image name>` and the task's data key (`data.image`, `$image`). */
  image: 'image',
  /** `<BrushLabels name>`: brush results' `from_name`. */
  brush: 'brush',
  /** `<PolygonLabels name>`: polygon results' `from_name`. */
  polygon: 'poly',
} as const;

const escapeAttribute = (text: string) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The Label Studio labeling configuration for `classes` (indices 1, 2, ... in order): brush and polygon
 * labels, each class in the colour segpipe's reports give its index, over one zoomable image.
 */
export function labelingConfig(classes: readonly string[]): string {
  if (classes.length === 0) throw new Error('no label classes are configured: set labelClasses in the segpipe configuration');
  const labels = classes.map((name, i) => `    <Label value="${escapeAttribute(name)}" background="${hexColour(i + 1)}"/>`).join('\n');
  const { image, brush, polygon } = LABEL_STUDIO_NAMES;
  return [
    '<View>',
    `  <Image name="${image}" value="$${image}" zoom="true" zoomControl="true"/>`,
    `  <BrushLabels name="${brush}" toName="${image}">`,
    labels,
    '  </BrushLabels>',
    `  <PolygonLabels name="${polygon}" toName="${image}" strokeWidth="2">`,
    labels,
    '  </PolygonLabels>',
    '</View>',
    '',
  ].join('\n');
}
