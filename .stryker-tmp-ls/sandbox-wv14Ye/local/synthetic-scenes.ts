import sharp from 'sharp';

/** A deterministic pseudo-random generator (mulberry32), so a seed always draws the same scene. */
export function randomGenerator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SyntheticScene {
  readonly width: number;
  readonly height: number;
  /** RGB pixels, 3 bytes each. */
  readonly rgb: Buffer;
  /** The true class of each pixel: 0 background, 1..objectClasses. */
  readonly classIndices: Uint8Array;
}

/** Base colour of each object class: class 1 a warm brown shell, class 2 a grey stone, then others. */
const CLASS_COLOURS = [
  [0, 0, 0],
  [150, 96, 48],
  [120, 124, 130],
  [60, 140, 60],
  [180, 60, 60],
];

/**
 * A photo-like scene: a textured background whose colour and light vary from scene to scene, with
 * one to three objects (ellipses of class 1, rotated boxes of class 2, ...) of noisy colour.
 */
export function renderSyntheticScene(seed: number, width: number, height: number, objectClasses = 2): SyntheticScene {
  const random = randomGenerator(seed);
  const rgb = Buffer.alloc(width * height * 3);
  const classIndices = new Uint8Array(width * height);
  const sky = [60 + random() * 140, 90 + random() * 120, 90 + random() * 140];
  const ground = [40 + random() * 120, 60 + random() * 100, 30 + random() * 90];
  const horizon = 0.3 + random() * 0.4;
  const objects = Array.from({ length: 1 + Math.floor(random() * 3) }, (_, i) => ({
    cls: 1 + ((Math.floor(random() * objectClasses) + i) % objectClasses),
    cx: width * (0.2 + random() * 0.6),
    cy: height * (0.25 + random() * 0.5),
    rx: width * (0.08 + random() * 0.15),
    ry: height * (0.08 + random() * 0.15),
    angle: random() * Math.PI,
    shade: 0.75 + random() * 0.5,
  }));
  for (let y = 0; y < height; y++) {
    const v = y / height;
    const base = v < horizon ? sky : ground;
    const light = 0.8 + 0.4 * (1 - v);
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      let cls = 0;
      let shade = light;
      for (const o of objects) {
        const dx = x - o.cx;
        const dy = y - o.cy;
        const u = (dx * Math.cos(o.angle) + dy * Math.sin(o.angle)) / o.rx;
        const w = (-dx * Math.sin(o.angle) + dy * Math.cos(o.angle)) / o.ry;
        const inside = o.cls % 2 === 1 ? u * u + w * w <= 1 : Math.abs(u) <= 1 && Math.abs(w) <= 1;
        if (inside) {
          cls = o.cls;
          shade = o.shade * (0.9 + 0.1 * Math.sin(x * 0.2) * Math.cos(y * 0.2));
        }
      }
      classIndices[i] = cls;
      const colour = cls === 0 ? base : CLASS_COLOURS[cls % CLASS_COLOURS.length];
      const noise = (random() - 0.5) * 40;
      for (let c = 0; c < 3; c++) rgb[i * 3 + c] = Math.max(0, Math.min(255, colour[c] * shade + noise));
    }
  }
  return { width, height, rgb, classIndices };
}

/** The scene as a JPEG, as a camera would save it. */
export function sceneToJpeg(scene: SyntheticScene, quality = 90): Promise<Buffer> {
  return sharp(scene.rgb, { raw: { width: scene.width, height: scene.height, channels: 3 } })
    .jpeg({ quality })
    .toBuffer();
}
