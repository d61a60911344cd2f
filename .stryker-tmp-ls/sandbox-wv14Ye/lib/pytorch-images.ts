/**
 * SageMaker's PyTorch containers (AWS Deep Learning Containers) by region, for the PyTorch trainer.
 *
 * Source: the `pytorch.json` image table of the SageMaker Python SDK (aws/sagemaker-python-sdk,
 * `sagemaker-core/src/sagemaker/core/image_uri_config/pytorch.json`, whose newest entries equal v2.257.6's
 * `src/sagemaker/image_uri_config/pytorch.json`), read 2026-12-07; the accounts agree with
 * aws/deep-learning-containers `region_availability.md`. Training and inference images share one
 * account per region. The ISO regions are left out: their newest images are PyTorch 2.3 / 2.2.
 *
 * Versions: `pytorch-training` 2.8.0 is the newest in the SDK's table (built for CUDA 12.9, which still
 * runs on ml.p3's V100; the 2.9+ images use CUDA 13, which does not), `pytorch-inference` 2.6.0 the
 * newest inference image anywhere; both Python 3.12. Tags are the SDK's `<version>-<cpu|gpu>-py312`.
 */
export const PYTORCH_TRAINING_VERSION = '2.8.0';
export const PYTORCH_INFERENCE_VERSION = '2.6.0';
export const PYTORCH_PYTHON = 'py312';

/** The account of most regions. */
const MAIN = '763104351884';

export const PYTORCH_IMAGE_ACCOUNTS: Readonly<Record<string, string>> = {
  'af-south-1': '626614931356',
  'ap-east-1': '871362719292',
  'ap-east-2': '975050140332',
  'ap-northeast-1': MAIN,
  'ap-northeast-2': MAIN,
  'ap-northeast-3': '364406365360',
  'ap-south-1': MAIN,
  'ap-south-2': '772153158452',
  'ap-southeast-1': MAIN,
  'ap-southeast-2': MAIN,
  'ap-southeast-3': '907027046896',
  'ap-southeast-4': '457447274322',
  'ap-southeast-5': '550225433462',
  'ap-southeast-6': '633930458069',
  'ap-southeast-7': '590183813437',
  'ca-central-1': MAIN,
  'ca-west-1': '204538143572',
  'cn-north-1': '727897471807',
  'cn-northwest-1': '727897471807',
  'eu-central-1': MAIN,
  'eu-central-2': '380420809688',
  'eu-north-1': MAIN,
  'eu-south-1': '692866216735',
  'eu-south-2': '503227376785',
  'eu-west-1': MAIN,
  'eu-west-2': MAIN,
  'eu-west-3': MAIN,
  'il-central-1': '780543022126',
  'me-central-1': '914824155844',
  'me-south-1': '217643126080',
  'mx-central-1': '637423239942',
  'sa-east-1': MAIN,
  'us-east-1': MAIN,
  'us-east-2': MAIN,
  'us-gov-east-1': '446045086412',
  'us-gov-west-1': '442386744353',
  'us-west-1': MAIN,
  'us-west-2': MAIN,
};

export const PYTORCH_REGIONS: readonly string[] = Object.keys(PYTORCH_IMAGE_ACCOUNTS).sort();

/** `<repository>:<tag>` of the PyTorch image for a job or endpoint on `gpu` or CPU instances. */
export function pytorchImage(kind: 'training' | 'inference', gpu: boolean): string {
  const version = kind === 'training' ? PYTORCH_TRAINING_VERSION : PYTORCH_INFERENCE_VERSION;
  return `pytorch-${kind}:${version}-${gpu ? 'gpu' : 'cpu'}-${PYTORCH_PYTHON}`;
}
