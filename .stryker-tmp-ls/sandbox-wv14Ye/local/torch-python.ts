import { spawnSync } from 'node:child_process';

/**
 * A Python that imports torch and torchvision: `$SEGPIPE_PYTHON`, else `python3` on the PATH, else
 * Debian's `/usr/bin/python3` (where `apt-get install python3-torch python3-torchvision` puts them).
 */
export function findTorchPython(): string | undefined {
  const candidates = process.env.SEGPIPE_PYTHON ? [process.env.SEGPIPE_PYTHON] : ['python3', '/usr/bin/python3'];
  return candidates.find((python) => spawnSync(python, ['-c', 'import torch, torchvision'], { stdio: 'ignore' }).status === 0);
}

/** The Python that runs the PyTorch trainer locally, or an error that says how to get one. */
export function requireTorchPython(): string {
  const python = findTorchPython();
  if (!python) {
    throw new Error(
      'the PyTorch trainer runs locally with a Python that has torch and torchvision, and none was found ' +
        '(tried $SEGPIPE_PYTHON, python3, /usr/bin/python3). On Debian or Ubuntu: sudo apt-get install python3-torch python3-torchvision; ' +
        'or point SEGPIPE_PYTHON at a Python with them.',
    );
  }
  return python;
}
