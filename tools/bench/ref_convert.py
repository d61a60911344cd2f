#!/usr/bin/python3
"""Reference converter in plain Python with PIL and numpy: what a careful user would write by hand to
turn a labeling export into the built-in Semantic Segmentation algorithm's channels, done right
(classes from colours or polygons, unknown colours to 255, whole JPEGs copied, a seeded split).

It is the performance anchor of `npm run bench:convert`: segpipe's whole command is timed against
this whole command on the same data. It does for each item what a careful PIL user does: open and
decode the image to check that it is readable (then copy a JPEG's bytes rather than re-encode it),
read the mask, write both, count pixels per class, in one process, as a hand-written script would.

usage:
  ref_convert.py --manifest M --local-root R --out O    Ground Truth output manifest, s3://B/K read from R/B/K
  ref_convert.py --cvat DIR --out O                     CVAT "Segmentation mask 1.1" export folder
  ref_convert.py --coco FILE [--images DIR] --out O     COCO instances JSON with polygons (images default: FILE's folder)
options: --validation-fraction F (0.2), --seed S (segpipe)

Needs Debian's python3-pil and python3-numpy.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import sys

try:
    import numpy as np
    from PIL import Image
except ImportError as missing:
    sys.exit(f"ref_convert.py: Python module {missing.name} is missing: install Debian's python3-pil and python3-numpy "
             f"(apt-get install python3-pil python3-numpy) and run it with /usr/bin/python3")

IGNORE = 255
EXIF_ORIENTATION = 0x0112
BACKGROUND = "background"


def rgb_keys(mask_path):
    """The mask's pixels as 0xRRGGBB integers, whatever its PNG type (palette, RGB, RGBA, grey)."""
    rgb = np.asarray(Image.open(mask_path).convert("RGB"))
    return (rgb[..., 0].astype(np.uint32) << 16) | (rgb[..., 1].astype(np.uint32) << 8) | rgb[..., 2]


def indices_from_colours(keys, colour_to_index):
    indices = np.full(keys.shape, IGNORE, np.uint8)
    for colour, index in colour_to_index.items():
        indices[keys == colour] = index
    return indices


def jpeg_is_whole(path):
    """A JPEG that was cut short has no end-of-image marker near its end (a few bytes of padding may follow it)."""
    with open(path, "rb") as f:
        f.seek(max(0, os.path.getsize(path) - 32))
        return b"\xff\xd9" in f.read()


def open_image(path):
    """The image, opened and decoded to check that it is readable, or the reason it cannot be used."""
    try:
        image = Image.open(path)
        image.load()
        return image, None
    except FileNotFoundError:
        return None, "image missing"
    except OSError as error:
        return None, f"image unreadable: {error}"


def paint_polygon(indices, xy, index):
    """Sets to `index` the pixels whose centre is inside the polygon (even-odd rule): COCO's convention,
    with pixel (x, y) covering [x, x+1) x [y, y+1)."""
    height, width = indices.shape
    points = np.asarray(xy, float).reshape(-1, 2)
    x0, y0 = points[:, 0], points[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    top = max(0, int(np.ceil(y0.min() - 0.5)))
    bottom = min(height, int(np.ceil(y0.max() - 0.5)))
    if bottom <= top or len(points) < 3:
        return
    centres = np.arange(top, bottom)[:, None] + 0.5
    crosses = (y0 <= centres) != (y1 <= centres)
    with np.errstate(divide="ignore", invalid="ignore"):
        at = np.where(crosses, x0 + (centres - y0) * (x1 - x0) / (y1 - y0), np.inf)
    at.sort(axis=1)
    # Each pair of crossings on a row bounds a run; its first pixel is the first whose centre is at or past the crossing.
    columns = np.clip(np.ceil(at - 0.5), 0, width).astype(np.intp).tolist()
    for row, runs, crossings in zip(range(top, bottom), columns, crosses.sum(axis=1).tolist()):
        for k in range(0, crossings - 1, 2):
            indices[row, runs[k]:runs[k + 1]] = index


class Channels:
    """The four channel folders and report.json under `out`, with a split hashed from the seed and the source."""

    def __init__(self, out, validation_fraction, seed, input_format):
        self.out, self.fraction, self.seed = out, validation_fraction, seed
        self.report = {"format": input_format, "classes": [], "items": [], "skipped": []}
        for folder in ("train", "validation", "train_annotation", "validation_annotation"):
            os.makedirs(os.path.join(out, folder), exist_ok=True)

    def skip(self, source, reason):
        self.report["skipped"].append({"source": source, "reason": reason})

    def add(self, source, image, image_path, indices):
        """Writes the item unless its image and mask disagree in size or the image cannot be read."""
        if (indices.shape[1], indices.shape[0]) != image.size:
            return self.skip(source, f"image is {image.size[0]}x{image.size[1]}, mask {indices.shape[1]}x{indices.shape[0]}")
        base = re.sub(r"[^A-Za-z0-9._-]+", "_", os.path.splitext(source.rsplit("/", 1)[-1])[0])
        name = f"{base}-{hashlib.sha256(source.encode()).hexdigest()[:8]}"
        draw = int(hashlib.sha256(f"{self.seed}:{source}".encode()).hexdigest()[:8], 16) / 2**32
        split = "validation" if draw < self.fraction else "train"
        jpeg = os.path.join(self.out, split, name + ".jpg")
        copied = (image.format == "JPEG" and image.mode != "CMYK"
                  and image.getexif().get(EXIF_ORIENTATION, 1) == 1 and jpeg_is_whole(image_path))
        try:
            if copied:
                shutil.copyfile(image_path, jpeg)
            else:
                image.convert("RGB").save(jpeg, "JPEG", quality=95)
        except OSError as error:
            return self.skip(source, f"image unreadable: {error}")
        Image.fromarray(indices, "L").save(os.path.join(self.out, split + "_annotation", name + ".png"))
        counts = np.bincount(indices.ravel(), minlength=256)
        self.report["items"].append({
            "source": source, "name": name, "split": split, "width": image.size[0], "height": image.size[1],
            "image": "copied" if copied else "re-encoded",
            "pixelsPerClass": [int(n) for n in counts[:len(self.report["classes"])]], "ignoredPixels": int(counts[IGNORE]),
        })

    def finish(self):
        items = self.report["items"]
        self.report["counts"] = {
            "converted": len(items), "skipped": len(self.report["skipped"]),
            "train": sum(item["split"] == "train" for item in items),
            "validation": sum(item["split"] == "validation" for item in items),
        }
        with open(os.path.join(self.out, "report.json"), "w", encoding="utf-8") as f:
            json.dump(self.report, f, indent=1)
        counts = self.report["counts"]
        print(f"{counts['converted']} converted ({counts['train']} train, {counts['validation']} validation), "
              f"{counts['skipped']} skipped, {len(self.report['classes'])} classes")
        return 0 if items else 1


def convert_ground_truth(args, channels):
    classes = channels.report["classes"]
    classes.append("BACKGROUND")

    def local(uri):
        match = re.match(r"s3://([^/]+)/(.+)", uri)
        return os.path.join(args.local_root, match.group(1), match.group(2)) if match else os.path.join(args.local_root, uri)

    with open(args.manifest, encoding="utf-8") as manifest:
        for number, raw in enumerate(manifest, 1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
                source = line["source-ref"]
            except (ValueError, KeyError, TypeError):
                channels.skip(f"line {number}", "not a manifest line")
                continue
            attribute = next((key for key in line if key.endswith("-ref") and key != "source-ref"
                              and line.get(key + "-metadata", {}).get("type") == "groundtruth/semantic-segmentation"), None)
            metadata = line.get(attribute + "-metadata", {}) if attribute else next(
                (value for key, value in line.items() if key.endswith("-ref-metadata")), {})
            if attribute is None or "internal-color-map" not in metadata:
                channels.skip(source, metadata.get("failure-reason", "no semantic-segmentation label"))
                continue
            colour_to_index = {}
            for entry in metadata["internal-color-map"].values():
                name = entry["class-name"]
                if name not in classes:
                    classes.append(name)
                colour_to_index[int(entry["hex-color"].lstrip("#"), 16)] = classes.index(name)
            image, reason = open_image(local(source))
            if reason:
                channels.skip(source, reason)
                continue
            try:
                keys = rgb_keys(local(line[attribute]))
            except FileNotFoundError:
                channels.skip(source, "mask missing")
                continue
            except OSError as error:
                channels.skip(source, f"mask unreadable: {error}")
                continue
            channels.add(source, image, local(source), indices_from_colours(keys, colour_to_index))


def read_cvat_labelmap(path):
    """(name, 0xRRGGBB) of each label of a `name:r,g,b:parts:actions` label map, in file order."""
    labels = []
    with open(path, encoding="utf-8") as labelmap:
        for line in labelmap:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, colour = line.split(":")[:2]
            r, g, b = (int(value) for value in colour.split(","))
            labels.append((name, (r << 16) | (g << 8) | b))
    return labels


def convert_cvat(args, channels):
    labels = read_cvat_labelmap(os.path.join(args.cvat, "labelmap.txt"))
    background = next((colour for name, colour in labels if name.lower() == BACKGROUND), 0x000000)
    others = [(name, colour) for name, colour in labels if name.lower() != BACKGROUND]
    if len(others) > 254:
        sys.exit(f"ref_convert.py: the label map has {len(others)} classes besides the background; the algorithm takes at most 254")
    channels.report["classes"] += [BACKGROUND] + [name for name, _ in others]
    colour_to_index = {colour: index for index, (_, colour) in enumerate(others, 1)}
    colour_to_index[background] = 0

    images = {}
    image_root = os.path.join(args.cvat, "JPEGImages")
    for folder, _, files in os.walk(image_root):
        for file in files:
            relative = os.path.relpath(os.path.join(folder, file), image_root)
            images[os.path.splitext(relative)[0].replace(os.sep, "/")] = relative
    lists = os.path.join(args.cvat, "ImageSets", "Segmentation")
    stems = {}
    if os.path.isdir(lists):
        for list_file in sorted(os.listdir(lists)):
            with open(os.path.join(lists, list_file), encoding="utf-8") as listed:
                stems.update((stem.strip(), None) for stem in listed if stem.strip())
    else:
        mask_root = os.path.join(args.cvat, "SegmentationClass")
        for folder, _, files in os.walk(mask_root):
            stems.update((os.path.relpath(os.path.join(folder, f), mask_root)[:-4].replace(os.sep, "/"), None)
                         for f in sorted(files) if f.endswith(".png"))

    for stem in stems:
        if stem not in images:
            channels.skip(stem, "image missing")
            continue
        source = f"JPEGImages/{images[stem]}"
        image_path = os.path.join(image_root, images[stem])
        image, reason = open_image(image_path)
        if reason:
            channels.skip(source, reason)
            continue
        try:
            keys = rgb_keys(os.path.join(args.cvat, "SegmentationClass", stem + ".png"))
        except FileNotFoundError:
            channels.skip(source, "mask missing")
            continue
        except OSError as error:
            channels.skip(source, f"mask unreadable: {error}")
            continue
        channels.add(source, image, image_path, indices_from_colours(keys, colour_to_index))


def polygon_area(xy):
    points = np.asarray(xy, float).reshape(-1, 2)
    return 0.5 * abs(np.dot(points[:, 0], np.roll(points[:, 1], -1)) - np.dot(points[:, 1], np.roll(points[:, 0], -1)))


def convert_coco(args, channels):
    with open(args.coco, encoding="utf-8") as f:
        coco = json.load(f)
    images_root = args.images or os.path.dirname(os.path.abspath(args.coco))
    categories = sorted(coco.get("categories", []), key=lambda category: category["id"])
    index_of = {}
    classes = channels.report["classes"]
    classes.append(BACKGROUND)
    for category in categories:
        if category["name"].lower() == BACKGROUND:
            index_of[category["id"]] = 0
        else:
            index_of[category["id"]] = len(classes)
            classes.append(category["name"])
    annotations = {}
    for annotation in coco.get("annotations", []):
        annotations.setdefault(annotation["image_id"], []).append(annotation)
    unpainted = 0

    for record in coco.get("images", []):
        source = record["file_name"]
        image_path = os.path.join(images_root, source)
        if not os.path.exists(image_path):
            image_path = os.path.join(images_root, os.path.basename(source))
        image, reason = open_image(image_path)
        if reason:
            channels.skip(source, reason)
            continue
        width, height = image.size
        if (record.get("width", width), record.get("height", height)) != (width, height):
            channels.skip(source, f"image is {width}x{height}, the JSON says {record.get('width')}x{record.get('height')}")
            continue
        shapes = []
        for annotation in annotations.get(record["id"], []):
            polygons = annotation.get("segmentation")
            if annotation.get("category_id") not in index_of or not isinstance(polygons, list):
                unpainted += 1  # an unknown category, or RLE, which this reference does not decode
                continue
            area = annotation.get("area") or sum(polygon_area(polygon) for polygon in polygons)
            shapes.append((area, index_of[annotation["category_id"]], polygons))
        indices = np.zeros((height, width), np.uint8)
        # Largest first, so that a small object on a large one stays visible.
        for _, index, polygons in sorted(shapes, key=lambda shape: -shape[0]):
            for polygon in polygons:
                paint_polygon(indices, polygon, index)
        channels.add(source, image, image_path, indices)
    channels.report["unpaintedAnnotations"] = unpainted


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    given = parser.add_mutually_exclusive_group(required=True)
    given.add_argument("--manifest", help="Ground Truth output.manifest")
    given.add_argument("--cvat", help='CVAT "Segmentation mask 1.1" export folder')
    given.add_argument("--coco", help="COCO instances JSON with polygons")
    parser.add_argument("--local-root", help="with --manifest: folder holding BUCKET/KEY for each s3://BUCKET/KEY")
    parser.add_argument("--images", help="with --coco: folder holding the file_names (default: the JSON's folder)")
    parser.add_argument("--out", required=True)
    parser.add_argument("--validation-fraction", type=float, default=0.2)
    parser.add_argument("--seed", default="segpipe")
    args = parser.parse_args()
    if args.manifest and not args.local_root:
        parser.error("--manifest needs --local-root")
    input_format = "groundtruth" if args.manifest else "cvat" if args.cvat else "coco"
    channels = Channels(args.out, args.validation_fraction, args.seed, input_format)
    {"groundtruth": convert_ground_truth, "cvat": convert_cvat, "coco": convert_coco}[input_format](args, channels)
    return channels.finish()


if __name__ == "__main__":
    sys.exit(main())
