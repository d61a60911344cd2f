// @ts-nocheck
function stryNS_9fa48() {
  var g = typeof globalThis === 'object' && globalThis && globalThis.Math === Math && globalThis || new Function("return this")();
  var ns = g.__stryker__ || (g.__stryker__ = {});
  if (ns.activeMutant === undefined && g.process && g.process.env && g.process.env.__STRYKER_ACTIVE_MUTANT__) {
    ns.activeMutant = g.process.env.__STRYKER_ACTIVE_MUTANT__;
  }
  function retrieveNS() {
    return ns;
  }
  stryNS_9fa48 = retrieveNS;
  return retrieveNS();
}
stryNS_9fa48();
function stryCov_9fa48() {
  var ns = stryNS_9fa48();
  var cov = ns.mutantCoverage || (ns.mutantCoverage = {
    static: {},
    perTest: {}
  });
  function cover() {
    var c = cov.static;
    if (ns.currentTestId) {
      c = cov.perTest[ns.currentTestId] = cov.perTest[ns.currentTestId] || {};
    }
    var a = arguments;
    for (var i = 0; i < a.length; i++) {
      c[a[i]] = (c[a[i]] || 0) + 1;
    }
  }
  stryCov_9fa48 = cover;
  cover.apply(null, arguments);
}
function stryMutAct_9fa48(id) {
  var ns = stryNS_9fa48();
  function isActive(id) {
    if (ns.activeMutant === id) {
      if (ns.hitCount !== void 0 && ++ns.hitCount > ns.hitLimit) {
        throw new Error('Stryker: Hit count limit reached (' + ns.hitCount + ')');
      }
      return true;
    }
    return false;
  }
  stryMutAct_9fa48 = isActive;
  return isActive(id);
}
import { IMAGES_PREFIX } from '../workflow/layout';
import { labelingConfig } from './labeling-config';
import { LABELSTUDIO_ANNOTATIONS_PREFIX, LABELSTUDIO_TASKS_PREFIX } from './storage-layout';
export interface LabelStudioSetupInput {
  readonly inboxBucket: string;
  readonly region: string;
  readonly classes: readonly string[];
  /** The Label Studio address browsers load it from, e.g. `https://label-studio.example.com`. */
  readonly origin: string;
  /** The data key of the inbox when it is encrypted with KMS. @default - S3-managed encryption, no key to grant */
  readonly kmsKeyArn?: string;
  /** What the project's "Model or predictions to use" is set to. @default - the `model_version` the tasks carry (`segpipe prelabel --model-version`, by default the endpoint's name) */
  readonly modelVersion?: string;
}

/** The origin of a Label Studio address (scheme, host, port), or why it is not one. */
export function parseOrigin(address: string): string {
  if (stryMutAct_9fa48("193")) {
    {}
  } else {
    stryCov_9fa48("193");
    let url: URL;
    try {
      if (stryMutAct_9fa48("194")) {
        {}
      } else {
        stryCov_9fa48("194");
        url = new URL(address);
      }
    } catch {
      if (stryMutAct_9fa48("195")) {
        {}
      } else {
        stryCov_9fa48("195");
        throw new Error(stryMutAct_9fa48("196") ? `` : (stryCov_9fa48("196"), `--origin ${JSON.stringify(address)} is not a URL: give the address browsers open Label Studio at, e.g. https://label-studio.example.com`));
      }
    }
    if (stryMutAct_9fa48("199") ? url.protocol !== 'https:' || !(url.protocol === 'http:' && /^(localhost|127\.0\.0\.1)$/.test(url.hostname)) : stryMutAct_9fa48("198") ? false : stryMutAct_9fa48("197") ? true : (stryCov_9fa48("197", "198", "199"), (stryMutAct_9fa48("201") ? url.protocol === 'https:' : stryMutAct_9fa48("200") ? true : (stryCov_9fa48("200", "201"), url.protocol !== (stryMutAct_9fa48("202") ? "" : (stryCov_9fa48("202"), 'https:')))) && (stryMutAct_9fa48("203") ? url.protocol === 'http:' && /^(localhost|127\.0\.0\.1)$/.test(url.hostname) : (stryCov_9fa48("203"), !(stryMutAct_9fa48("206") ? url.protocol === 'http:' || /^(localhost|127\.0\.0\.1)$/.test(url.hostname) : stryMutAct_9fa48("205") ? false : stryMutAct_9fa48("204") ? true : (stryCov_9fa48("204", "205", "206"), (stryMutAct_9fa48("208") ? url.protocol !== 'http:' : stryMutAct_9fa48("207") ? true : (stryCov_9fa48("207", "208"), url.protocol === (stryMutAct_9fa48("209") ? "" : (stryCov_9fa48("209"), 'http:')))) && (stryMutAct_9fa48("211") ? /^(localhost|127\.0\.0\.1)/ : stryMutAct_9fa48("210") ? /(localhost|127\.0\.0\.1)$/ : (stryCov_9fa48("210", "211"), /^(localhost|127\.0\.0\.1)$/)).test(url.hostname))))))) {
      if (stryMutAct_9fa48("212")) {
        {}
      } else {
        stryCov_9fa48("212");
        throw new Error(stryMutAct_9fa48("213") ? `` : (stryCov_9fa48("213"), `--origin ${address}: Label Studio must be served over https (http only for localhost)`));
      }
    }
    return url.origin;
  }
}

/** The IAM policy Label Studio's S3 storages use: read the images and the tasks, write the annotations, nothing else. */
export function labelStudioPolicy(input: Pick<LabelStudioSetupInput, 'inboxBucket' | 'kmsKeyArn' | 'region'>): Record<string, unknown> {
  if (stryMutAct_9fa48("214")) {
    {}
  } else {
    stryCov_9fa48("214");
    const bucket = stryMutAct_9fa48("215") ? `` : (stryCov_9fa48("215"), `arn:aws:s3:::${input.inboxBucket}`);
    const annotations = LABELSTUDIO_ANNOTATIONS_PREFIX;
    return stryMutAct_9fa48("216") ? {} : (stryCov_9fa48("216"), {
      Version: stryMutAct_9fa48("217") ? "" : (stryCov_9fa48("217"), '2012-10-17'),
      Statement: stryMutAct_9fa48("218") ? [] : (stryCov_9fa48("218"), [stryMutAct_9fa48("219") ? {} : (stryCov_9fa48("219"), {
        Sid: stryMutAct_9fa48("220") ? "" : (stryCov_9fa48("220"), 'ListTasksAndAnnotations'),
        Effect: stryMutAct_9fa48("221") ? "" : (stryCov_9fa48("221"), 'Allow'),
        Action: stryMutAct_9fa48("222") ? "" : (stryCov_9fa48("222"), 's3:ListBucket'),
        Resource: bucket,
        // Label Studio lists with the prefix as configured (no trailing slash) or under it.
        Condition: stryMutAct_9fa48("223") ? {} : (stryCov_9fa48("223"), {
          StringLike: stryMutAct_9fa48("224") ? {} : (stryCov_9fa48("224"), {
            's3:prefix': stryMutAct_9fa48("225") ? [] : (stryCov_9fa48("225"), [LABELSTUDIO_TASKS_PREFIX.replace(stryMutAct_9fa48("226") ? /\// : (stryCov_9fa48("226"), /\/$/), stryMutAct_9fa48("227") ? "Stryker was here!" : (stryCov_9fa48("227"), '')), stryMutAct_9fa48("228") ? `` : (stryCov_9fa48("228"), `${LABELSTUDIO_TASKS_PREFIX}*`), annotations.replace(stryMutAct_9fa48("229") ? /\// : (stryCov_9fa48("229"), /\/$/), stryMutAct_9fa48("230") ? "Stryker was here!" : (stryCov_9fa48("230"), '')), stryMutAct_9fa48("231") ? `` : (stryCov_9fa48("231"), `${annotations}*`)])
          })
        })
      }), stryMutAct_9fa48("232") ? {} : (stryCov_9fa48("232"), {
        Sid: stryMutAct_9fa48("233") ? "" : (stryCov_9fa48("233"), 'ReadImagesAndTasks'),
        Effect: stryMutAct_9fa48("234") ? "" : (stryCov_9fa48("234"), 'Allow'),
        Action: stryMutAct_9fa48("235") ? "" : (stryCov_9fa48("235"), 's3:GetObject'),
        Resource: stryMutAct_9fa48("236") ? [] : (stryCov_9fa48("236"), [stryMutAct_9fa48("237") ? `` : (stryCov_9fa48("237"), `${bucket}/${IMAGES_PREFIX}*`), stryMutAct_9fa48("238") ? `` : (stryCov_9fa48("238"), `${bucket}/${LABELSTUDIO_TASKS_PREFIX}*`)])
      }), stryMutAct_9fa48("239") ? {} : (stryCov_9fa48("239"), {
        Sid: stryMutAct_9fa48("240") ? "" : (stryCov_9fa48("240"), 'WriteAnnotations'),
        Effect: stryMutAct_9fa48("241") ? "" : (stryCov_9fa48("241"), 'Allow'),
        Action: stryMutAct_9fa48("242") ? "" : (stryCov_9fa48("242"), 's3:PutObject'),
        Resource: stryMutAct_9fa48("243") ? `` : (stryCov_9fa48("243"), `${bucket}/${annotations}*`)
      }), ...(input.kmsKeyArn ? stryMutAct_9fa48("244") ? [] : (stryCov_9fa48("244"), [stryMutAct_9fa48("245") ? {} : (stryCov_9fa48("245"), {
        Sid: stryMutAct_9fa48("246") ? "" : (stryCov_9fa48("246"), 'UseTheInboxKey'),
        Effect: stryMutAct_9fa48("247") ? "" : (stryCov_9fa48("247"), 'Allow'),
        Action: stryMutAct_9fa48("248") ? [] : (stryCov_9fa48("248"), [stryMutAct_9fa48("249") ? "" : (stryCov_9fa48("249"), 'kms:Decrypt'), stryMutAct_9fa48("250") ? "" : (stryCov_9fa48("250"), 'kms:GenerateDataKey')]),
        Resource: input.kmsKeyArn,
        // Only through S3, for the inbox's objects: never the key directly.
        Condition: stryMutAct_9fa48("251") ? {} : (stryCov_9fa48("251"), {
          StringEquals: stryMutAct_9fa48("252") ? {} : (stryCov_9fa48("252"), {
            'kms:ViaService': stryMutAct_9fa48("253") ? `` : (stryCov_9fa48("253"), `s3.${input.region}.amazonaws.com`)
          })
        })
      })]) : stryMutAct_9fa48("254") ? ["Stryker was here"] : (stryCov_9fa48("254"), []))])
    });
  }
}

/** The inbox's CORS rule for presigned image URLs: GET and HEAD from the Label Studio origin only. */
export function labelStudioCorsRule(origin: string): Record<string, unknown> {
  if (stryMutAct_9fa48("255")) {
    {}
  } else {
    stryCov_9fa48("255");
    return stryMutAct_9fa48("256") ? {} : (stryCov_9fa48("256"), {
      AllowedMethods: stryMutAct_9fa48("257") ? [] : (stryCov_9fa48("257"), [stryMutAct_9fa48("258") ? "" : (stryCov_9fa48("258"), 'GET'), stryMutAct_9fa48("259") ? "" : (stryCov_9fa48("259"), 'HEAD')]),
      AllowedOrigins: stryMutAct_9fa48("260") ? [] : (stryCov_9fa48("260"), [origin]),
      AllowedHeaders: stryMutAct_9fa48("261") ? [] : (stryCov_9fa48("261"), [stryMutAct_9fa48("262") ? "" : (stryCov_9fa48("262"), '*')]),
      ExposeHeaders: stryMutAct_9fa48("263") ? [] : (stryCov_9fa48("263"), [stryMutAct_9fa48("264") ? "" : (stryCov_9fa48("264"), 'x-amz-server-side-encryption'), stryMutAct_9fa48("265") ? "" : (stryCov_9fa48("265"), 'x-amz-request-id'), stryMutAct_9fa48("266") ? "" : (stryCov_9fa48("266"), 'x-amz-id-2')]),
      MaxAgeSeconds: 3000
    });
  }
}

/** What a person pastes into Label Studio, and into AWS, to label the inbox's batches. */
export function labelStudioSetupText(input: LabelStudioSetupInput): string {
  if (stryMutAct_9fa48("267")) {
    {}
  } else {
    stryCov_9fa48("267");
    const origin = parseOrigin(input.origin);
    const tasks = LABELSTUDIO_TASKS_PREFIX.replace(stryMutAct_9fa48("268") ? /\// : (stryCov_9fa48("268"), /\/$/), stryMutAct_9fa48("269") ? "Stryker was here!" : (stryCov_9fa48("269"), ''));
    const annotations = LABELSTUDIO_ANNOTATIONS_PREFIX.replace(stryMutAct_9fa48("270") ? /\// : (stryCov_9fa48("270"), /\/$/), stryMutAct_9fa48("271") ? "Stryker was here!" : (stryCov_9fa48("271"), ''));
    return stryMutAct_9fa48("272") ? `` : (stryCov_9fa48("272"), `Label Studio for the inbox s3://${input.inboxBucket} (${input.region})

1. Project > Settings > Labeling Interface > Code: paste

${labelingConfig(input.classes)}
2. Project > Settings > Cloud Storage > Add Source Storage
   Storage type:            AWS S3
   Bucket name:             ${input.inboxBucket}
   Bucket prefix:           ${tasks}
   File filter regex:       .*\\.json$
   Import method:           Tasks ("Treat every bucket object as a source file" off): each file is a task
   Recursive scan:          on (tasks go under ${LABELSTUDIO_TASKS_PREFIX}<batch>/)
   Region name:             ${input.region}
   Use pre-signed URLs:     on (the images load from S3 directly; CORS below)
   Expire pre-signed URLs:  15 (minutes)
   Then "Sync Storage" whenever a batch's tasks are written, e.g. by
     npx segpipe prelabel --images s3://${input.inboxBucket}/${IMAGES_PREFIX}<batch>/ --out s3://${input.inboxBucket}/${LABELSTUDIO_TASKS_PREFIX}<batch>/ --endpoint <EndpointName> --classes ${input.classes.join(stryMutAct_9fa48("273") ? "" : (stryCov_9fa48("273"), ','))}

3. Project > Settings > Cloud Storage > Add Target Storage
   Storage type:            AWS S3
   Bucket name:             ${input.inboxBucket}
   Bucket prefix:           ${annotations}    (no trailing slash: Label Studio adds one)
   Region name:             ${input.region}
   Can delete objects:      off
   Every submitted or updated annotation is written there as it is saved.

4. Project > Settings > Machine Learning (or Annotation):
   "Use predictions to pre-label tasks": on
   "Model or predictions to use": ${stryMutAct_9fa48("274") ? input.modelVersion && "the model_version of the tasks (segpipe prelabel --model-version; by default the endpoint's name)" : (stryCov_9fa48("274"), input.modelVersion ?? (stryMutAct_9fa48("275") ? "" : (stryCov_9fa48("275"), "the model_version of the tasks (segpipe prelabel --model-version; by default the endpoint's name)")))}
   Label Studio shows only the predictions of the selected model version.

5. Credentials: Label Studio's storages use access keys (or a session token) of an IAM user or role
   with this policy, and nothing more:

${JSON.stringify(labelStudioPolicy(input), null, 2)}

   Label Studio Enterprise can assume a role instead ("Amazon S3 with IAM role"): set
   labeling.labelStudio.role.externalId (and trustedPrincipal, for a self-hosted Enterprise) in cdk.json,
   deploy, and give the storages the stack's output LabelStudioRoleArn with that external ID.

6. CORS on the inbox, for the pre-signed image URLs (only this origin may read them from a browser):

${JSON.stringify(labelStudioCorsRule(origin), null, 2)}

   put-bucket-cors replaces a bucket's whole CORS configuration: keep any rule already there.
`);
  }
}