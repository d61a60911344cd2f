import { trainerOfImage } from '../../../lambda/evaluation/trainer';

test("the trainer of a model is told by its serving image's repository, in any region and by tag or digest", () => {
  expect(trainerOfImage('811284229777.dkr.ecr.us-east-1.amazonaws.com/semantic-segmentation:1')).toBe(
    'built-in Semantic Segmentation algorithm',
  );
  expect(trainerOfImage('763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference:2.6.0-cpu-py312')).toBe('PyTorch');
  expect(trainerOfImage('763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-inference@sha256:abc')).toBe('PyTorch');
  expect(trainerOfImage('123456789012.dkr.ecr.us-east-1.amazonaws.com/my-own-model:3')).toBe('my-own-model');
  expect(trainerOfImage('')).toBeUndefined();
  expect(trainerOfImage(undefined)).toBeUndefined();
});
