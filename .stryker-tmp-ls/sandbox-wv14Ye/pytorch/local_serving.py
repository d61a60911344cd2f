"""Used by `segpipe local` only (not shipped to SageMaker). LOCAL STAND-IN for SageMaker's PyTorch inference container: loads a model folder's code/inference.py
and answers requests with its model_fn, input_fn, predict_fn and output_fn, as the container's handler
service calls them. Requests come on stdin, one JSON header line ({"contentType", "accept", "length"})
then the body; answers go to stdout the same way ({"contentType", "length"} or {"error"})."""
import importlib
import json
import sys

model_dir = sys.argv[1]
sys.path.insert(0, model_dir + '/code')
handlers = importlib.import_module('inference')
model = handlers.model_fn(model_dir)
out = sys.stdout.buffer  # buffered: a write is whole, however large (flushed after each answer)
out.write(b'{"ready": true}\n')
out.flush()
for header in sys.stdin.buffer:
    request = json.loads(header)
    body = sys.stdin.buffer.read(request['length'])
    try:
        data = handlers.input_fn(body, request['contentType'])
        answer, content_type = handlers.output_fn(handlers.predict_fn(data, model), request['accept'])
        out.write(json.dumps({'contentType': content_type, 'length': len(answer)}).encode() + b'\n' + answer)
    except Exception as err:  # the container answers a failing handler with an error, and serves on
        out.write(json.dumps({'error': '%s: %s' % (type(err).__name__, err)}).encode() + b'\n')
    out.flush()
