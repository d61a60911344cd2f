import type { ObjectStore } from '../../../lambda/convert/stores/object-store';
import { inputManifest, labelCategoriesJson, semanticSegmentationTemplate, writeLabelingInputs } from '../../../lambda/workflow/labeling';

/**
 * What a labeling job reads, written out exactly: the input manifest, the label categories and the
 * worker template (found missing by `npm run mutate`: only the end-to-end workflow tests wrote them).
 */
describe('labeling inputs', () => {
  test("the label categories are Ground Truth's document, one entry per class in order", () => {
    expect(labelCategoriesJson(['turtle', 'rock'])).toBe(
      `${JSON.stringify({ 'document-version': '2018-11-28', labels: [{ label: 'turtle' }, { label: 'rock' }] }, null, 2)}\n`,
    );
  });

  test('the input manifest holds one source-ref per image, one JSON object a line', () => {
    expect(inputManifest(['s3://in/images/b/a.jpg', 's3://in/images/b/"q".jpg'])).toBe(
      '{"source-ref":"s3://in/images/b/a.jpg"}\n{"source-ref":"s3://in/images/b/\\"q\\".jpg"}\n',
    );
    expect(inputManifest([])).toBe('');
  });

  test('the worker template names the classes in its header, with HTML characters escaped', () => {
    const template = semanticSegmentationTemplate(['fish & chips', '<b>', 'say "hi"', "it's"]);
    expect(template).toContain('header="Paint every pixel of each fish &#38; chips, &#60;b&#62;, say &#34;hi&#34;, it&#39;s"');
    expect(template).toContain('<crowd-semantic-segmentation\n    name="crowd-semantic-segmentation"');
    expect(template).toContain('labels="{{ task.input.labels | to_json | escape }}"');
  });

  describe('writeLabelingInputs', () => {
    function recordingStore(): { store: ObjectStore; writes: { location: string; body: string; contentType: string }[] } {
      const writes: { location: string; body: string; contentType: string }[] = [];
      const store = {
        write: async (location: string, body: Buffer, contentType: string) => {
          writes.push({ location, body: body.toString(), contentType });
        },
      } as unknown as ObjectStore;
      return { store, writes };
    }

    test("writes the three inputs under the run's prefix and returns where they are", async () => {
      const { store, writes } = recordingStore();
      const inputs = await writeLabelingInputs(store, 'art', 'run-1', ['s3://in/a.jpg'], ['turtle']);
      expect(inputs).toStrictEqual({
        inputManifestUri: 's3://art/runs/run-1/labeling/input.manifest',
        labelCategoriesUri: 's3://art/runs/run-1/labeling/label-categories.json',
        uiTemplateUri: 's3://art/runs/run-1/labeling/template.liquid',
        outputPath: 's3://art/runs/run-1/labeling/output/',
      });
      expect(writes).toStrictEqual([
        { location: inputs.inputManifestUri, body: inputManifest(['s3://in/a.jpg']), contentType: 'application/x-ndjson' },
        { location: inputs.labelCategoriesUri, body: labelCategoriesJson(['turtle']), contentType: 'application/json' },
        { location: inputs.uiTemplateUri, body: semanticSegmentationTemplate(['turtle']), contentType: 'text/html' },
      ]);
    });

    test('refuses a batch without images, and a configuration without classes, before writing anything', async () => {
      const { store, writes } = recordingStore();
      await expect(writeLabelingInputs(store, 'art', 'run-1', [], ['turtle'])).rejects.toThrow('the batch has no images to label');
      await expect(writeLabelingInputs(store, 'art', 'run-1', ['s3://in/a.jpg'], [])).rejects.toThrow(
        'no label classes are configured: set labelClasses in the segpipe configuration',
      );
      expect(writes).toEqual([]);
    });
  });
});
