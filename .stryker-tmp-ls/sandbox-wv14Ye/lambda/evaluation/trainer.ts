/**
 * Which trainer made a model, from its serving container's image: the built-in algorithm's
 * `semantic-segmentation` repository, or SageMaker's `pytorch-inference` one (segpipe's PyTorch
 * trainer). The report names it beside each variant, so a PyTorch challenger against a built-in
 * champion says so.
 */
// @ts-nocheck

export function trainerOfImage(image: string | undefined): string | undefined {
  if (!image) return undefined;
  const repository = /\/([^/:@]+)(?:[:@][^/]*)?$/.exec(image)?.[1];
  if (repository === 'semantic-segmentation') return 'built-in Semantic Segmentation algorithm';
  if (repository === 'pytorch-inference') return 'PyTorch';
  return repository;
}
