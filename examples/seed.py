"""The seed example: it must print the [1, 3, 3, 4] array of 2. exactly as numpy prints it."""

import numpy as np

import mycelia as ms
import mycelia.ops as ops

ms.set_context(mode=ms.PYNATIVE_MODE, device_target="CPU")
x = ms.Tensor(np.ones([1, 3, 3, 4]).astype(np.float32))
y = ms.Tensor(np.ones([1, 3, 3, 4]).astype(np.float32))
output = ops.add(x, y)
print(output.asnumpy())
