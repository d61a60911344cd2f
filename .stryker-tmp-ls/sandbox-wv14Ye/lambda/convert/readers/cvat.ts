// @ts-nocheck
import type { ExportReader } from '../export-item';
import type { ObjectStore } from '../stores/object-store';
import { LABEL_MAP_FILE, type LabelMapEntry, parseLabelMap } from './label-map';
import { type SegmentationFolderOptions, segmentationFolderItems } from './segmentation-folder';

export interface CvatReaderOptions extends SegmentationFolderOptions {
  /**
   * CVAT's label map when the export lacks it (`--labelmap`).
   * @default - the export's own `labelmap.txt`
   */
  readonly labelMap?: { readonly store: ObjectStore; readonly location: string };
}

/**
 * CVAT's "Segmentation mask 1.1" export: Pascal VOC's layout with RGB colour masks, classes by colour
 * from `labelmap.txt`. CVAT never writes alpha: a mask's colours count as they are.
 */
export function cvatReader(options: CvatReaderOptions): ExportReader {
  const { store, root } = options;
  let labelMap: Promise<LabelMapEntry[]> | undefined;
  const labelMapFile = options.labelMap ?? { store, location: store.join(root, LABEL_MAP_FILE) };
  const readLabelMap = () =>
    (labelMap ??= labelMapFile.store.read(labelMapFile.location).then((data) => parseLabelMap(data.toString('utf8'))));
  return {
    format: 'cvat',
    input: options.input,
    declaredClasses: readLabelMap,
    items: () =>
      segmentationFolderItems(options, async () => {
        const colours = await readLabelMap();
        return (file) => ({ kind: 'colour-png', file, colours, transparentIsBackground: false });
      }),
  };
}
