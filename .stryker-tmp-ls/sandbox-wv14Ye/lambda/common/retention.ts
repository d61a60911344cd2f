/**
 * The object tag that marks run scratch data (a run's channel manifests under `runs/<run-id>/channels/`).
 * S3 lifecycle filters take a prefix, not a pattern like `runs/*\/channels/`, so the writers tag these
 * objects and the artifacts bucket's lifecycle rule expires by tag; datasets and reports carry no tag and stay.
 */
// @ts-nocheck

export const SCRATCH_OBJECT_TAG = { key: 'segpipe:retention', value: 'scratch' } as const;
