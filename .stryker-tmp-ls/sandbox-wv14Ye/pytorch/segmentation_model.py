"""The segmentation network and its input, shared by training (train.py) and serving (inference.py).

Runs on torchvision 0.14 (Debian's python3-torchvision) and on the 0.21/0.23 of SageMaker's PyTorch
containers: both take `weights=` and `weights_backbone=`; releases before 0.13 took `pretrained=`.
"""
import numpy as np
import torch
import torch.nn.functional as F
import torchvision

# (model, backbone) -> torchvision builder name, and the ImageNet weights of that backbone.
BUILDERS = {
    ('deeplabv3', 'mobilenet_v3_large'): 'deeplabv3_mobilenet_v3_large',
    ('deeplabv3', 'resnet50'): 'deeplabv3_resnet50',
    ('deeplabv3', 'resnet101'): 'deeplabv3_resnet101',
    ('lraspp', 'mobilenet_v3_large'): 'lraspp_mobilenet_v3_large',
    ('fcn', 'resnet50'): 'fcn_resnet50',
    ('fcn', 'resnet101'): 'fcn_resnet101',
}
BACKBONE_WEIGHTS = {
    'mobilenet_v3_large': 'MobileNet_V3_Large_Weights',
    'resnet50': 'ResNet50_Weights',
    'resnet101': 'ResNet101_Weights',
}

# ImageNet statistics, which torchvision's backbones expect (pretrained or not, the same input scale).
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def build_model(model, backbone, num_classes, pretrained_backbone=False):
    """A torchvision segmentation network with `num_classes` outputs and no auxiliary head.

    With `pretrained_backbone`, the backbone's ImageNet weights are downloaded (to $TORCH_HOME),
    which raises when the container cannot reach download.pytorch.org.
    """
    name = BUILDERS.get((model, backbone))
    if name is None:
        raise ValueError('no %s with a %s backbone; choose one of %s' % (
            model, backbone, ', '.join('%s/%s' % key for key in BUILDERS)))
    builder = getattr(torchvision.models.segmentation, name)
    try:
        weights_backbone = None
        if pretrained_backbone:
            weights_backbone = getattr(torchvision.models, BACKBONE_WEIGHTS[backbone]).IMAGENET1K_V1
        return builder(weights=None, weights_backbone=weights_backbone, num_classes=num_classes, aux_loss=False)
    except TypeError:
        # torchvision before 0.13 has no `weights=` keywords.
        return builder(pretrained=False, pretrained_backbone=pretrained_backbone, num_classes=num_classes, aux_loss=False)


def to_input(rgb):
    """An H×W×3 uint8 array as the network's normalised 1×3×H×W float tensor."""
    tensor = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).float().div_(255)
    mean = torch.tensor(MEAN).view(3, 1, 1)
    std = torch.tensor(STD).view(3, 1, 1)
    return ((tensor - mean) / std).unsqueeze(0)


def fit_within(width, height, max_side):
    """The size (w, h) of an image scaled down, keeping its aspect, so its longer side is at most max_side."""
    scale = min(1.0, float(max_side) / max(width, height))
    return max(1, int(round(width * scale))), max(1, int(round(height * scale)))


@torch.no_grad()
def predict_logits(net, rgb, max_side, device):
    """Class scores (1×C×H×W, at the image's own size) of one H×W×3 uint8 image.

    The network sees the image scaled so its longer side is at most `max_side` (the size it was
    trained at); its scores are scaled back to every pixel of the image.
    """
    height, width = rgb.shape[:2]
    x = to_input(rgb).to(device)
    w, h = fit_within(width, height, max_side)
    if (w, h) != (width, height):
        x = F.interpolate(x, size=(h, w), mode='bilinear', align_corners=False)
    logits = net(x)['out']
    if (w, h) != (width, height):
        logits = F.interpolate(logits, size=(height, width), mode='bilinear', align_corners=False)
    return logits


def predict_classes(net, rgb, max_side, device):
    """The class index of every pixel of an H×W×3 uint8 image, as an H×W uint8 array."""
    return predict_logits(net, rgb, max_side, device).argmax(1)[0].to(torch.uint8).cpu().numpy()
