import { BATCHES_PREFIX, datasetLayout, MODELS_PREFIX, RUN_PATHS, runLayout, s3ConsoleUrl, s3Uri } from '../../../lambda/workflow/layout';

// The bucket layout is a contract: the README documents it, the IAM grants are scoped to it, and a
// stack upgraded in place must find what earlier runs wrote under it.
describe('artifacts bucket layout', () => {
  test("a run's keys", () => {
    const run = runLayout('turtles-7');
    expect({
      ...run,
      conversionReport: run.conversionReport(3),
      conversionIndex: run.conversionIndex(3),
      channelManifest: run.channelManifest('validation_annotation'),
    }).toEqual({
      prefix: 'runs/turtles-7/',
      inputManifest: 'runs/turtles-7/labeling/input.manifest',
      labelCategories: 'runs/turtles-7/labeling/label-categories.json',
      uiTemplate: 'runs/turtles-7/labeling/template.liquid',
      labelingOutput: 'runs/turtles-7/labeling/output/',
      conversionReport: 'runs/turtles-7/conversion/chunk-00003.json',
      conversionIndex: 'runs/turtles-7/conversion/index/chunk-00003.json',
      channels: 'runs/turtles-7/channels/',
      conversionClasses: 'runs/turtles-7/conversion/classes.json',
      staging: 'runs/turtles-7/staging/',
      channelManifest: 'runs/turtles-7/channels/validation_annotation.manifest',
      report: 'runs/turtles-7/report.json',
      evaluationMetrics: 'runs/turtles-7/evaluation/metrics.json',
      evaluationReport: 'runs/turtles-7/evaluation/report.html',
      model: 'models/turtles-7/',
    });
    expect(RUN_PATHS).toEqual({
      labeling: 'runs/*/labeling/',
      labelingOutput: 'runs/*/labeling/output/',
      conversion: 'runs/*/conversion/',
      staging: 'runs/*/staging/',
      channels: 'runs/*/channels/',
      evaluation: 'runs/*/evaluation/',
      labelStudio: 'runs/*/labelstudio/',
    });
    expect([MODELS_PREFIX, BATCHES_PREFIX]).toEqual(['models/', 'batches/']);
  });

  test("the dataset's keys, in the algorithm's channel folders", () => {
    const dataset = datasetLayout();
    expect({
      prefix: dataset.prefix,
      classes: dataset.classes,
      legacyItems: dataset.legacyItems,
      index: dataset.index,
      indexShard: dataset.indexShard('r1'),
      channelPrefix: dataset.channelPrefix('train_annotation'),
      image: dataset.image('validation', 'a-1'),
      mask: dataset.mask('train', 'a-1'),
    }).toEqual({
      prefix: 'datasets/main/',
      classes: 'datasets/main/classes.json',
      legacyItems: 'datasets/main/items.json',
      index: 'datasets/main/index/',
      indexShard: 'datasets/main/index/r1.jsonl',
      channelPrefix: 'datasets/main/train_annotation/',
      image: 'datasets/main/validation/a-1.jpg',
      mask: 'datasets/main/train_annotation/a-1.png',
    });
  });

  test('addresses: an S3 URI and the console page of an object, every part escaped', () => {
    expect(s3Uri('b', 'runs/x/report.json')).toBe('s3://b/runs/x/report.json');
    expect(s3ConsoleUrl('my-bucket', 'runs/a b/report.json', 'eu-west-1')).toBe(
      'https://console.aws.amazon.com/s3/object/my-bucket?region=eu-west-1&bucketType=general&prefix=runs%2Fa%20b%2Freport.json',
    );
  });
});
