"""Serving code of a segpipe PyTorch model, in SageMaker's PyTorch inference container.

It answers as the built-in Semantic Segmentation algorithm does, so either can serve the same
endpoint: a JPEG (or PNG) image in, a PNG of the image's size out whose pixel values are class
indices (mode L). The training script copies this file and segmentation_model.py into the model's
`code/` folder, where the container's handler service finds `model_fn`, `input_fn`, `predict_fn`
and `output_fn`.
"""
import io
import json
import os

import numpy as np
import torch
from PIL import Image

from segmentation_model import build_model, predict_classes

IMAGE_TYPES = ('image/jpeg', 'application/x-image', 'image/png')
MASK_TYPE = 'image/png'


def model_fn(model_dir):
    """The trained network, from model.pth (a state_dict) and model_config.json of the model's folder."""
    with open(os.path.join(model_dir, 'model_config.json')) as f:
        config = json.load(f)
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    net = build_model(config['model'], config['backbone'], config['num_classes'])
    state = torch.load(os.path.join(model_dir, 'model.pth'), map_location='cpu')
    net.load_state_dict(state)
    net.to(device).eval()
    return {'net': net, 'config': config, 'device': device}


def input_fn(body, content_type):
    """The request's image as an H×W×3 uint8 array."""
    kind = (content_type or '').split(';')[0].strip().lower()
    if kind not in IMAGE_TYPES:
        raise ValueError('unsupported ContentType %s; send image/jpeg' % content_type)
    try:
        image = Image.open(io.BytesIO(body))
        image.load()
    except Exception as err:  # PIL raises several kinds for a body that is no image.
        raise ValueError('the image could not be decoded: %s' % err)
    return np.asarray(image.convert('RGB'))


def predict_fn(rgb, model):
    """The class index of every pixel."""
    return predict_classes(model['net'], rgb, model['config']['image_size'], model['device'])


def output_fn(classes, accept):
    """A mode-L PNG of class indices, as the built-in algorithm's `image/png` answer."""
    if accept and MASK_TYPE not in accept and '*/*' not in accept:
        raise ValueError('unsupported Accept %s; ask for image/png' % accept)
    out = io.BytesIO()
    Image.fromarray(classes).save(out, format='PNG')  # a 2-D uint8 array is mode L
    return out.getvalue(), MASK_TYPE
