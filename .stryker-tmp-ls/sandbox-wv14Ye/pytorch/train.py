"""Trains a torchvision segmentation network on segpipe's four channels, in SageMaker's PyTorch
training container or on a developer's machine (Debian's python3-torch, CPU or CUDA).

SageMaker runs `python train.py --<hyperparameter> <value> ...` with the channels under
/opt/ml/input/data/<channel> (SM_CHANNEL_<NAME>): `train` and `validation` hold JPEG images,
`train_annotation` and `validation_annotation` their class-index PNG masks (255: ignored), paired by
file name. A ManifestFile channel places each object under its full key, so channels are walked
recursively. Each epoch prints `validation:mIOU=<v>;` and `validation:pixel_accuracy=<v>;`, the lines
the training job's metric definitions read; the best epoch's model is saved and its metrics printed
last. With /opt/ml/checkpoints (managed spot training), an interrupted job resumes from its last epoch.
"""
import argparse
import json
import os
import random
import shutil
import socket
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from segmentation_model import build_model, fit_within, predict_logits, to_input

IGNORE = 255
CHANNELS = ('train', 'validation', 'train_annotation', 'validation_annotation')
IMAGE_SUFFIXES = ('.jpg', '.jpeg')
CODE_FILES = ('inference.py', 'segmentation_model.py')


def flag(value):
    """A boolean hyperparameter as SageMaker passes it (`True`, `true`, `"true"`, `1`...)."""
    text = str(value).strip().strip('"').lower()
    if text in ('true', '1', 'yes'):
        return True
    if text in ('false', '0', 'no'):
        return False
    raise argparse.ArgumentTypeError('%r is not a boolean (true or false)' % value)


def text(value):
    """A string hyperparameter, JSON-quoted or not."""
    return str(value).strip().strip('"')


def parse_args(argv):
    env = os.environ.get
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--num_classes', type=int, required=True, help='classes, background (0) included')
    p.add_argument('--model', type=text, default='deeplabv3', help='deeplabv3, lraspp or fcn')
    p.add_argument('--backbone', type=text, default='mobilenet_v3_large', help='mobilenet_v3_large, resnet50 or resnet101')
    p.add_argument('--pretrained', type=text, default='auto',
                   help='auto: ImageNet backbone weights when they can be downloaded, else from scratch; false: from scratch')
    p.add_argument('--epochs', type=int, default=30)
    p.add_argument('--batch_size', type=int, default=8)
    p.add_argument('--learning_rate', type=float, default=0.001)
    p.add_argument('--image_size', type=int, default=512, help='training crops are this square; images are scaled to fit it')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--workers', type=int, default=-1, help='data-loading processes; -1: up to 4 on a GPU, none on a CPU')
    p.add_argument('--model_dir', default=env('SM_MODEL_DIR', '/opt/ml/model'))
    p.add_argument('--checkpoint_dir', default='/opt/ml/checkpoints')
    for channel in CHANNELS:
        p.add_argument('--%s_dir' % channel, default=env('SM_CHANNEL_%s' % channel.upper(), '/opt/ml/input/data/%s' % channel))
    args = p.parse_args(argv)
    if args.pretrained not in ('auto', 'false', 'False'):
        flag(args.pretrained)  # raises for anything but a boolean
    if args.num_classes < 2 or args.num_classes > 254:
        p.error('--num_classes must be from 2 to 254, not %d' % args.num_classes)
    for name in ('epochs', 'batch_size', 'image_size'):
        if getattr(args, name) < 1:
            p.error('--%s must be at least 1' % name)
    return args


def files_by_stem(folder, suffixes):
    """Every file under `folder` (recursively) with one of `suffixes`, by its name without suffix."""
    found = {}
    for root, _, names in os.walk(folder):
        for name in names:
            stem, suffix = os.path.splitext(name)
            if suffix.lower() in suffixes:
                if stem in found:
                    raise ValueError('%s: two files named %s (%s and %s)' % (folder, stem, found[stem], os.path.join(root, name)))
                found[stem] = os.path.join(root, name)
    return found


def paired_items(images_dir, masks_dir):
    """(image, mask) paths paired by name; unpaired files are reported and left out."""
    images = files_by_stem(images_dir, IMAGE_SUFFIXES)
    masks = files_by_stem(masks_dir, ('.png',))
    for stem in sorted(set(images) ^ set(masks)):
        print('skipped %s: no %s' % (images.get(stem) or masks.get(stem), 'mask' if stem in images else 'image'), flush=True)
    pairs = [(images[s], masks[s]) for s in sorted(set(images) & set(masks))]
    if not pairs:
        raise ValueError('no image and mask pairs in %s and %s' % (images_dir, masks_dir))
    return pairs


def read_pair(image_path, mask_path, num_classes):
    rgb = np.asarray(Image.open(image_path).convert('RGB'))
    mask_image = Image.open(mask_path)
    if mask_image.mode not in ('L', 'P'):
        raise ValueError('%s: a mask must be single-channel 8-bit (mode L or P), not mode %s' % (mask_path, mask_image.mode))
    mask = np.asarray(mask_image)  # palette indices for mode P: the class indices, never colours
    if mask.shape != rgb.shape[:2]:
        raise ValueError('%s: mask is %dx%d, image %dx%d' % (mask_path, mask.shape[1], mask.shape[0], rgb.shape[1], rgb.shape[0]))
    bad = (mask >= num_classes) & (mask != IGNORE)
    if bad.any():
        raise ValueError('%s: class %d is past num_classes %d' % (mask_path, int(mask[bad][0]), num_classes))
    return rgb, mask


class TrainingCrops(torch.utils.data.Dataset):
    """Random square crops of randomly scaled, randomly mirrored train images (mask padding: ignored).
    Images are read when a crop is drawn, so a large channel never has to fit in memory."""

    def __init__(self, pairs, num_classes, size):
        self.pairs = pairs
        self.num_classes = num_classes
        self.size = size

    def __len__(self):
        return len(self.pairs)

    def __getitem__(self, index):
        rgb, mask = read_pair(*self.pairs[index], self.num_classes)
        x = to_input(rgb)[0]
        y = torch.from_numpy(mask.astype(np.int64))
        w, h = fit_within(rgb.shape[1], rgb.shape[0], self.size * random.uniform(0.75, 1.5))
        x = F.interpolate(x[None], size=(h, w), mode='bilinear', align_corners=False)[0]
        y = F.interpolate(y[None, None].float(), size=(h, w), mode='nearest')[0, 0].long()
        pad_h, pad_w = max(0, self.size - h), max(0, self.size - w)
        x = F.pad(x, (0, pad_w, 0, pad_h), value=0.0)
        y = F.pad(y, (0, pad_w, 0, pad_h), value=IGNORE)
        top = random.randint(0, x.shape[1] - self.size)
        left = random.randint(0, x.shape[2] - self.size)
        x = x[:, top:top + self.size, left:left + self.size]
        y = y[top:top + self.size, left:left + self.size]
        if random.random() < 0.5:
            x, y = x.flip(-1), y.flip(-1)
        return x, y


def evaluate(net, pairs, num_classes, image_size, device):
    """Pixel accuracy and mean IoU on whole images, counted as the built-in algorithm and segpipe's
    evaluation count them: 255 ignored; the mean over classes found in the truth or the prediction."""
    net.eval()
    confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
    for image_path, mask_path in pairs:
        rgb, mask = read_pair(image_path, mask_path, num_classes)
        predicted = predict_logits(net, rgb, image_size, device).argmax(1)[0].cpu().numpy()
        keep = mask != IGNORE
        confusion += np.bincount(mask[keep].astype(np.int64) * num_classes + predicted[keep], minlength=num_classes ** 2).reshape(num_classes, num_classes)
    hits = np.diag(confusion).astype(np.float64)
    union = confusion.sum(0) + confusion.sum(1) - hits
    present = union > 0
    miou = float((hits[present] / union[present]).mean()) if present.any() else 0.0
    accuracy = float(hits.sum() / confusion.sum()) if confusion.sum() else 0.0
    return miou, accuracy


@torch.no_grad()
def refresh_batch_norm(net, loader, device, max_batches=25):
    """Batch-norm statistics measured again on train crops with the epoch's final weights.

    torchvision's MobileNetV3 moves its running statistics by 1% a step: after the few hundred steps of
    a small dataset they still hold mostly their initial values, and a network evaluated with them
    predicts one class everywhere. An average over fresh batches gives eval mode what training saw.
    """
    norms = [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average of the batches below
    net.train()
    for i, (x, _) in enumerate(loader):
        if i == max_batches:
            break
        net(x.to(device))
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum


def print_metrics(epoch, loss, miou, accuracy):
    # The training job's metric definitions read these: `validation:mIOU=([0-9.eE+-]+);`.
    print('epoch=%d; train:loss=%.6f; validation:mIOU=%.6f; validation:pixel_accuracy=%.6f;' % (epoch, loss, miou, accuracy), flush=True)


def make_model(args):
    pretrained = args.pretrained == 'auto'
    if pretrained:
        # A container without internet access (network isolation, no NAT) fails fast instead of hanging.
        socket.setdefaulttimeout(30)
        try:
            net = build_model(args.model, args.backbone, args.num_classes, pretrained_backbone=True)
            print('backbone: ImageNet weights', flush=True)
            return net
        except Exception as err:  # URLError, timeout, HTTP errors: anything that stops the download.
            print('backbone: ImageNet weights could not be downloaded (%s); training from scratch' % err, flush=True)
        finally:
            socket.setdefaulttimeout(None)
    else:
        print('backbone: from scratch (pretrained false)', flush=True)
    return build_model(args.model, args.backbone, args.num_classes)


def save_atomically(obj, path):
    tmp = path + '.tmp'
    torch.save(obj, tmp)
    os.replace(tmp, path)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    train_pairs = paired_items(args.train_dir, args.train_annotation_dir)
    validation_pairs = paired_items(args.validation_dir, args.validation_annotation_dir)
    dataset = TrainingCrops(train_pairs, args.num_classes, args.image_size)
    print('%s/%s, %d classes, %d train and %d validation images, %d epochs on %s (torch %s)' % (
        args.model, args.backbone, args.num_classes, len(dataset), len(validation_pairs), args.epochs, device, torch.__version__), flush=True)

    net = make_model(args).to(device)
    optimizer = torch.optim.AdamW(net.parameters(), lr=args.learning_rate, weight_decay=1e-4)
    # Batch norm needs two samples a batch: a batch never holds fewer (the train set repeats if need be).
    batch_size = max(2, args.batch_size)
    steps_per_epoch = max(1, len(dataset) // batch_size)
    total_steps = args.epochs * steps_per_epoch
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: (1 - min(step, total_steps - 1) / total_steps) ** 0.9)
    sampler = torch.utils.data.RandomSampler(dataset, replacement=len(dataset) < batch_size, num_samples=steps_per_epoch * batch_size)
    workers = args.workers if args.workers >= 0 else (min(4, os.cpu_count() or 1) if device.type == 'cuda' else 0)
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, sampler=sampler, drop_last=True,
                                         num_workers=workers, pin_memory=device.type == 'cuda')
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=IGNORE)

    identity = {'model': args.model, 'backbone': args.backbone, 'num_classes': args.num_classes, 'image_size': args.image_size}
    checkpoint_path = os.path.join(args.checkpoint_dir, 'checkpoint.pth')
    start_epoch, best = 1, {'miou': -1.0}
    if os.path.exists(checkpoint_path):
        saved = torch.load(checkpoint_path, map_location='cpu')
        if saved.get('identity') == identity:
            net.load_state_dict(saved['model'])
            optimizer.load_state_dict(saved['optimizer'])
            schedule.load_state_dict(saved['schedule'])
            start_epoch, best = saved['epoch'] + 1, saved['best']
            print('resumed from %s after epoch %d' % (checkpoint_path, saved['epoch']), flush=True)
        else:
            print('ignored %s: it is of another model (%s)' % (checkpoint_path, saved.get('identity')), flush=True)

    for epoch in range(start_epoch, args.epochs + 1):
        net.train()
        losses = []
        started = time.time()
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            loss = loss_fn(net(x)['out'], y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            losses.append(loss.item())
        refresh_batch_norm(net, loader, device)
        miou, accuracy = evaluate(net, validation_pairs, args.num_classes, args.image_size, device)
        print_metrics(epoch, float(np.mean(losses)), miou, accuracy)
        print('epoch %d took %.1f s' % (epoch, time.time() - started), flush=True)
        if miou > best['miou']:
            best = {'miou': miou, 'accuracy': accuracy, 'loss': float(np.mean(losses)), 'epoch': epoch,
                    'model': {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}}
        os.makedirs(args.checkpoint_dir, exist_ok=True)
        save_atomically({'identity': identity, 'epoch': epoch, 'model': net.state_dict(), 'optimizer': optimizer.state_dict(),
                         'schedule': schedule.state_dict(), 'best': best}, checkpoint_path)

    if 'model' not in best:
        raise ValueError('no epoch was trained: the checkpoint in %s is already past --epochs %d' % (args.checkpoint_dir, args.epochs))
    # The model the gate judges: the best epoch's, its metrics printed last (what a job reports last).
    os.makedirs(args.model_dir, exist_ok=True)
    torch.save(best['model'], os.path.join(args.model_dir, 'model.pth'))
    with open(os.path.join(args.model_dir, 'model_config.json'), 'w') as f:
        json.dump(dict(identity, epoch=best['epoch'], miou=best['miou']), f, indent=2)
    code_dir = os.path.join(args.model_dir, 'code')
    os.makedirs(code_dir, exist_ok=True)
    here = os.path.dirname(os.path.abspath(__file__))
    for name in CODE_FILES:
        shutil.copy(os.path.join(here, name), os.path.join(code_dir, name))
    print('best epoch %d of %d:' % (best['epoch'], args.epochs), flush=True)
    print_metrics(best['epoch'], best['loss'], best['miou'], best['accuracy'])


if __name__ == '__main__':
    main()
